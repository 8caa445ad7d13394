// `runbook init` reading the inventory from a real kube-apiserver, in a sandbox of its own: the
// suite adds a node of its own (another role, its own addresses and capacity), which would change
// what the suites sharing the global sandbox see.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { down, up, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { loadInventory } from '../../runner/inventory/load.ts';
import { checkoutCopy } from '../init/copy.ts';

const LAB = `cluster:
  name: probe
  context: probe
  server: https://192.0.2.1:6443
  k3sVersion: v1.34.3+k3s1
  datastore: embedded-etcd
nodes:
  - name: cp-1
    roles: [server]
    address: 192.0.2.1
    labels: { topology.kubernetes.io/zone: shelf }
    hardware: { cpu: 2 vCPU, memory: 4 GiB, os: Debian 12 }
  - name: worker-1
    roles: [agent]
    address: 192.0.2.2
    hardware: { cpu: 8 vCPU, memory: 16 GiB, os: Debian 12 }
`;

/** A node registered by hand: a GPU role, an ExternalIP listed before its InternalIP, memory in Ki. */
const EDGE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'edge-1',
    labels: { 'kubernetes.io/hostname': 'edge-1', 'node-role.kubernetes.io/gpu': 'true', accelerator: 'rtx-3060' },
  },
  status: {
    addresses: [
      { type: 'ExternalIP', address: '127.0.3.9' },
      { type: 'InternalIP', address: '127.0.2.7' },
      { type: 'Hostname', address: 'edge-1' },
    ],
    capacity: { cpu: '12', memory: '16318412Ki', pods: '110' },
    nodeInfo: {
      kubeletVersion: 'v1.34.3+k3s1',
      kubeProxyVersion: 'v1.34.3+k3s1',
      osImage: 'Ubuntu 24.04.1 LTS',
      architecture: 'arm64',
      operatingSystem: 'linux',
      containerRuntimeVersion: 'containerd://2.0',
      kernelVersion: '6.8',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  },
};

describe('runbook init against a real API server', () => {
  let stateDir = '';
  let state: SandboxState;
  let copy: ReturnType<typeof checkoutCopy>;
  const kubectl = (args: string[], input?: string) => {
    const r = spawnSync(state.kubectl, args, {
      input,
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: state.kubeconfig },
    });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const init = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, ['runner/cli.ts', 'init', ...args], {
      cwd: copy.root,
      encoding: 'utf8',
      input: '',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1', KUBECONFIG: state.kubeconfig, USER: 'ops', ...env },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'k3s-lab-init-'));
    const inventory = join(stateDir, 'lab.yaml');
    writeFileSync(inventory, LAB);
    state = await up({ stateDir: join(stateDir, 'sandbox'), inventory });
    kubectl(['create', '-f', '-'], JSON.stringify(EDGE));
    copy = checkoutCopy();
  });
  afterAll(async () => {
    copy?.remove();
    if (state) await down(state.stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('writes the nodes, roles, addresses, version, capacity and identity the cluster reports', () => {
    const r = init(['--owner', 'Ops', '--examples', 'keep']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `updated  src/content/lab/inventory.yaml (cluster probe, 3 nodes from context ${state.context})`,
    );
    expect(r.stdout).toContain('ssh user ops, port 22 and become (sudo) are defaults');
    const uid = kubectl(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}']);
    const { inventory } = loadInventory('src/content/lab/inventory.yaml', copy.root);
    expect(inventory.cluster).toEqual({
      name: 'probe',
      context: state.context,
      server: state.server,
      uid,
      k3sVersion: 'v1.34.3+k3s1',
      datastore: 'embedded-etcd',
    });
    expect(inventory.ssh).toEqual({ user: 'ops', port: 22, become: true });
    expect(inventory.nodes).toEqual([
      {
        name: 'cp-1',
        roles: ['server'],
        address: '127.0.1.1',
        labels: { 'topology.kubernetes.io/zone': 'shelf' },
        hardware: { cpu: '2 CPU', memory: '4 GiB', os: 'Debian 12', arch: 'amd64' },
      },
      {
        name: 'edge-1',
        roles: ['agent', 'gpu'],
        address: '127.0.2.7',
        labels: { accelerator: 'rtx-3060' },
        hardware: { cpu: '12 CPU', memory: '15.6 GiB', os: 'Ubuntu 24.04.1 LTS', arch: 'arm64' },
      },
      {
        name: 'worker-1',
        roles: ['agent'],
        address: '127.0.1.2',
        hardware: { cpu: '8 CPU', memory: '16 GiB', os: 'Debian 12', arch: 'amd64' },
      },
    ]);
    // What the runner's guard and identity check then accept: the written inventory is usable as it is.
    const status = spawnSync(process.execPath, ['runner/cli.ts', 'inventory', 'pin', '--json'], {
      cwd: copy.root,
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: state.kubeconfig, RUNBOOK_INVENTORY: undefined },
    });
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ cluster: 'probe', uid, changed: false });
  });

  it('a second run reads the same cluster and changes nothing; --context names the context', () => {
    const file = join(copy.root, 'src/content/lab/inventory.yaml');
    const before = createHash('sha256').update(readFileSync(file)).digest('hex');
    const r = init(['--owner', 'Ops', '--examples', 'keep', '--context', state.context]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^runbook init: nothing to change/);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(before);
    expect(parse(readFileSync(file, 'utf8')).nodes).toHaveLength(3);
  });

  it('a context that is not in the kubeconfig, or an API that does not answer: exit 2, one line, nothing written', () => {
    const file = join(copy.root, 'src/content/lab/inventory.yaml');
    const before = readFileSync(file, 'utf8');
    const missing = init(['--owner', 'Ops', '--examples', 'keep', '--context', 'elsewhere']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^runbook: kubeconfig .* has no context "elsewhere"/);
    // The same credentials, at a loopback port nobody listens on.
    const gone = join(stateDir, 'gone.kubeconfig');
    writeFileSync(gone, readFileSync(state.kubeconfig, 'utf8').replace(state.server, 'https://127.0.0.1:9'));
    const r = init(['--owner', 'Other', '--examples', 'keep', '--kubeconfig', gone], {
      RUNBOOK_API_TIMEOUT_MS: '2000',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^runbook: cannot read the cluster behind context .*did not answer/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readFileSync(join(copy.root, 'src/content/lab/site.yaml'), 'utf8')).toContain('name: Ops');
  });
});
