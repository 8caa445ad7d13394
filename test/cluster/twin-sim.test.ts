// The lab twin's simulator driving a Node object of the shared sandbox through the API:
// our kwok stages (test/cluster/kwok/stages.yaml) turn `systemctl stop` into the
// "Kubelet stopped posting node status." Unknown conditions, and `systemctl start` (or the
// install script stand-in) into Ready at the installed version after the ready delay.
// The node is this suite's own (unique name, kwok annotation), never an inventory node.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { prepareNodeRoot } from '../../scripts/sandbox-lib/twin/sim/node-root.ts';
import { eventually, kubectl, kubectlOk, sandbox, uniqueName } from './helpers.ts';

const name = uniqueName('twin-sim');
let stateDir: string;
let nodeDir: string;

function nodeJson(): {
  status: { conditions?: { type: string; status: string; message: string }[]; nodeInfo: { kubeletVersion: string } };
  metadata: { annotations?: Record<string, string> };
} {
  return JSON.parse(kubectlOk(['get', 'node', name, '-o', 'json']));
}
const ready = () => nodeJson().status.conditions?.find((c) => c.type === 'Ready');

function onNode(script: string, env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: `${join(nodeDir, 'root', 'usr', 'local', 'bin')}:${join(nodeDir, 'names')}:/usr/bin:/bin`,
      HOME: stateDir,
      ...env,
    },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  const { kubeconfig, kubectlPath } = sandbox();
  const server = (parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] })
    .clusters[0]?.cluster.server as string;
  kubectlOk(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
        labels: { 'kubernetes.io/hostname': name, 'node-role.kubernetes.io/agent': 'true' },
      },
      spec: { taints: [{ key: 'twin-sim-test', value: 'true', effect: 'NoSchedule' }] },
      status: {
        nodeInfo: {
          kubeletVersion: 'v1.34.3+k3s1',
          kubeProxyVersion: 'v1.34.3+k3s1',
          architecture: 'amd64',
          operatingSystem: 'linux',
        },
      },
    }),
  );
  await eventually(`${name} Ready`, async () => ready()?.status === 'True', 30_000);
  stateDir = mkdtempSync(join(tmpdir(), 'twin-sim-cluster-'));
  nodeDir = join(stateDir, 'twin', 'nodes', name);
  const inv = {
    k3sVersion: 'v1.34.3+k3s1',
    datastore: 'embedded-etcd',
    nodes: [
      { name: `${name}-server`, roles: ['server'] },
      { name, roles: ['agent'] },
    ],
  };
  prepareNodeRoot(nodeDir, inv.nodes[1] as { name: string; roles: string[] }, inv, {
    kubectl: kubectlPath,
    kubeconfig,
    apiServer: server,
    readyDelayMs: 1000,
  });
  const names = join(nodeDir, 'names');
  spawnSync('mkdir', [names]);
  for (const c of ['systemctl', 'journalctl', 'curl'])
    spawnSync('ln', ['-s', join(nodeDir, 'bin', 'twin-sim'), join(names, c)]);
}, 60_000);

afterAll(() => {
  kubectl(['delete', 'node', name, '--wait=false']);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('the simulator drives the Node', () => {
  it('systemctl stop k3s-agent: the node goes Unknown as a node whose kubelet stopped', async () => {
    const r = onNode('systemctl stop k3s-agent');
    expect(r.status, r.stderr).toBe(0);
    expect(nodeJson().metadata.annotations?.['twin.k3s-lab/k3s']).toBe('stopped');
    const c = await eventually(
      'Ready Unknown',
      async () => (ready()?.status === 'Unknown' ? ready() : undefined),
      20_000,
    );
    expect(c?.message).toBe('Kubelet stopped posting node status.');
  });

  it('the install script stand-in at v1.35.0+k3s1: Ready at that version after the ready delay', async () => {
    const t0 = Date.now();
    const r = onNode(
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=agent sh -s - && k3s --version',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('k3s version v1.35.0+k3s1 (lab twin simulation)');
    const installMs = Date.now() - t0;
    expect(nodeJson().status.nodeInfo.kubeletVersion).toBe('v1.35.0+k3s1');
    const readyAt = Date.parse(nodeJson().metadata.annotations?.['twin.k3s-lab/ready-at'] ?? '');
    expect(readyAt).toBeGreaterThan(t0 + 900); // start + the 1 s ready delay
    await eventually('Ready True', async () => ready()?.status === 'True', 20_000, 100);
    const readyMs = Date.now() - t0;
    // The stage waited for ready-at (condition times have whole seconds).
    const c = nodeJson().status.conditions?.find((x) => x.type === 'Ready') as unknown as {
      lastTransitionTime: string;
    };
    expect(Date.parse(c.lastTransitionTime)).toBeGreaterThanOrEqual(Math.floor(readyAt / 1000) * 1000);
    console.log(
      `twin-sim (cluster): install ${installMs} ms, Ready at v1.35.0+k3s1 after ${readyMs} ms (ready delay 1000 ms)`,
    );
  });

  it("fault slow-ready: a restart goes through NotReady and comes back after the fault's seconds", async () => {
    writeFileSync(
      join(stateDir, 'twin', 'faults.json'),
      JSON.stringify([{ kind: 'slow-ready', node: name, seconds: 3 }]),
    );
    const t0 = Date.now();
    expect(onNode('systemctl restart k3s-agent').status).toBe(0);
    expect(ready()?.status).toBe('Unknown');
    await eventually('Ready True again', async () => ready()?.status === 'True', 30_000, 100);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
    writeFileSync(join(stateDir, 'twin', 'faults.json'), '[]');
  });

  it('the pressure annotation the faults set turns DiskPressure / MemoryPressure on and off', async () => {
    const cond = (t: string) => nodeJson().status.conditions?.find((c) => c.type === t)?.status;
    kubectlOk(['annotate', 'node', name, 'twin.k3s-lab/pressure=disk', '--overwrite']);
    await eventually('DiskPressure True', async () => cond('DiskPressure') === 'True', 20_000, 100);
    expect(cond('MemoryPressure')).toBe('False');
    expect(cond('Ready')).toBe('True');
    kubectlOk(['annotate', 'node', name, 'twin.k3s-lab/pressure-']);
    await eventually('DiskPressure False', async () => cond('DiskPressure') === 'False', 20_000, 100);
  });
});
