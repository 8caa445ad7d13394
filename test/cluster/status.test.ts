// `runbook status` against a sandbox of its own: the drift is injected for real (a node
// deleted, a kubelet version patched through the status subresource, a label changed),
// which would break the suites sharing the global sandbox.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, up, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { runbook } from '../helpers/cli.ts';
import { compareInventory, inventoryRolesOf, type LiveNode } from '../../runner/cluster/drift.ts';
import type { Inventory } from '../../runner/inventory/schema.ts';

describe('how K3s role labels read as inventory roles', () => {
  it('a K3s server (control-plane, etcd, master, no server label) is a server; an agent has no role label', () => {
    const k3s = (roles: string[]) => Object.fromEntries(roles.map((r) => [`node-role.kubernetes.io/${r}`, 'true']));
    expect(inventoryRolesOf(k3s(['control-plane', 'etcd', 'master']))).toEqual(['server']);
    expect(inventoryRolesOf(k3s(['control-plane', 'master']))).toEqual(['server']);
    // The sandbox labels both, as the inventory spells them.
    expect(inventoryRolesOf(k3s(['control-plane', 'etcd', 'master', 'server']))).toEqual(['server']);
    expect(inventoryRolesOf({})).toEqual(['agent']);
    expect(inventoryRolesOf(k3s(['agent']))).toEqual(['agent']);
    // etcd alone is no server mark: on an agent it is a role of its own, so it shows as drift.
    expect(inventoryRolesOf(k3s(['etcd']))).toEqual(['agent', 'etcd']);
    expect(inventoryRolesOf(k3s(['gpu']))).toEqual(['agent', 'gpu']);
  });

  it('compares roles, labels, versions and Ready without a cluster', () => {
    const inventory = {
      cluster: { name: 'lab', context: 'lab', server: 'https://127.0.0.1:6443', k3sVersion: 'v1.34.3+k3s1' },
      nodes: [
        { name: 's', roles: ['server'], address: '127.0.0.1', labels: { zone: 'a' } },
        { name: 'a', roles: ['agent', 'gpu'], address: '127.0.0.2' },
      ],
    } as Inventory;
    const live: LiveNode[] = [
      {
        name: 's',
        labels: { 'node-role.kubernetes.io/control-plane': 'true', zone: 'b' },
        kubeletVersion: 'v1.34.3+k3s1',
        ready: true,
        unschedulable: true,
      },
      {
        name: 'a',
        labels: {},
        kubeletVersion: 'v1.33.1+k3s1',
        ready: false,
        notReadyBecause: 'Ready=Unknown: NodeStatusUnknown',
        unschedulable: false,
      },
    ];
    const { drift } = compareInventory(inventory, live);
    expect(drift.map((d) => [d.node, d.kind, d.expected, d.actual])).toEqual([
      ['s', 'label', 'zone=a', 'zone=b'],
      ['a', 'version', 'v1.34.3+k3s1', 'v1.33.1+k3s1'],
      ['a', 'role', 'gpu', null],
      ['a', 'not-ready', 'Ready', 'Ready=Unknown: NodeStatusUnknown'],
    ]);
  });
});

describe('runbook status against a sandbox of its own', () => {
  let stateDir = '';
  let state: SandboxState;
  const env = () => ({
    KUBECONFIG: state.kubeconfig,
    RUNBOOK_INVENTORY: state.sandboxInventory,
    RUNBOOK_API_TIMEOUT_MS: undefined,
  });
  const status = (...args: string[]) => runbook(['status', ...args], { env: env() });
  const json = () => {
    const r = status('--json');
    return { code: r.code, out: JSON.parse(r.stdout) as StatusJson, stderr: r.stderr };
  };
  const kubectl = (...args: string[]) => {
    const r = spawnSync(state.kubectl, args, {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: state.kubeconfig },
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-status-'));
    state = await up({ stateDir });
  }, 180_000);

  afterAll(async () => {
    if (stateDir) {
      await down(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('a cluster that matches its inventory: every node in the table, no drift, exit 0', () => {
    const r = status();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const node of state.nodes) expect(r.stdout).toMatch(new RegExp(`^${node}\\s+both\\s+`, 'm'));
    expect(r.stdout).toMatch(/^k3s-master\s+both\s+server\s+v1\.34\.3\+k3s1\s+Ready\s+yes\s+0$/m);
    expect(r.stdout).toMatch(/^k3s-worker-01\s+both\s+agent\s+v1\.34\.3\+k3s1\s+Ready\s+yes\s+0$/m);
    expect(r.stdout).toContain('No drift: the cluster matches the inventory.');
  });

  it('--json: the cluster, one entry per node, the drift list', () => {
    const { code, out } = json();
    expect(code).toBe(0);
    expect(out).toMatchObject({
      cluster: {
        name: 'homelab',
        context: 'homelab',
        server: state.server,
        identity: 'unpinned',
        k3sVersion: 'v1.34.3+k3s1',
      },
      inventory: state.sandboxInventory,
      ok: true,
      drift: [],
    });
    expect(out.cluster.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.nodes.map((n) => n.name)).toEqual(state.nodes);
    expect(out.nodes[0]).toEqual({
      name: 'k3s-master',
      inInventory: true,
      inCluster: true,
      roles: ['server'],
      liveRoles: ['server'],
      kubeletVersion: 'v1.34.3+k3s1',
      ready: true,
      unschedulable: false,
      drift: [],
    });
  });

  it('a cordoned node is shown, not counted as drift', () => {
    kubectl('cordon', 'k3s-worker-01');
    try {
      const r = status();
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^k3s-worker-01\s.*\scordoned\s+0$/m);
    } finally {
      kubectl('uncordon', 'k3s-worker-01');
    }
  });

  it('a label changed and a role label added: label and role drift, exit 1', () => {
    kubectl('label', 'node', 'k3s-worker-01', 'topology.kubernetes.io/zone=elsewhere', '--overwrite');
    kubectl('label', 'node', 'k3s-worker-02', 'node-role.kubernetes.io/gpu=true');
    try {
      const r = status();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('Drift: 2 differences between the inventory and the cluster:');
      expect(r.stdout).toContain(
        '[label] k3s-worker-01 has label topology.kubernetes.io/zone=elsewhere, the inventory says topology.kubernetes.io/zone=proxmox',
      );
      expect(r.stdout).toContain('[role] k3s-worker-02 is a gpu in the cluster');
      const { out } = json();
      expect(out.ok).toBe(false);
      expect(out.drift).toEqual([
        expect.objectContaining({
          node: 'k3s-worker-01',
          kind: 'label',
          expected: 'topology.kubernetes.io/zone=proxmox',
          actual: 'topology.kubernetes.io/zone=elsewhere',
        }),
        expect.objectContaining({ node: 'k3s-worker-02', kind: 'role', expected: null, actual: 'gpu' }),
      ]);
      kubectl('label', 'node', 'k3s-worker-01', 'topology.kubernetes.io/zone-');
      expect(json().out.drift[0]).toMatchObject({
        kind: 'label',
        expected: 'topology.kubernetes.io/zone=proxmox',
        actual: null,
      });
    } finally {
      kubectl('label', 'node', 'k3s-worker-01', 'topology.kubernetes.io/zone=proxmox', '--overwrite');
      kubectl('label', 'node', 'k3s-worker-02', 'node-role.kubernetes.io/gpu-');
    }
    expect(status().code).toBe(0);
  });

  it('a kubelet version patched through the status subresource: version drift (kwok keeps the patched value)', async () => {
    kubectl(
      'patch',
      'node',
      'k3s-worker-02',
      '--subresource=status',
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'replace', path: '/status/nodeInfo/kubeletVersion', value: 'v1.33.6+k3s1' }]),
    );
    // kwok rewrites node status on its heartbeat; its template keeps a kubeletVersion that is set. Give it a beat.
    await sleep(3000);
    expect(kubectl('get', 'node', 'k3s-worker-02', '-o', 'jsonpath={.status.nodeInfo.kubeletVersion}')).toBe(
      'v1.33.6+k3s1',
    );
    const r = status();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^k3s-worker-02\s+both\s+agent\s+v1\.33\.6\+k3s1\s/m);
    expect(r.stdout).toContain('[version] k3s-worker-02 runs kubelet v1.33.6+k3s1, the inventory says v1.34.3+k3s1');
    const { out } = json();
    expect(out.drift).toEqual([
      {
        node: 'k3s-worker-02',
        kind: 'version',
        expected: 'v1.34.3+k3s1',
        actual: 'v1.33.6+k3s1',
        message: expect.any(String),
      },
    ]);
  });

  it('a node deleted: missing, exit 1; a node the inventory lacks: extra', () => {
    kubectl('delete', 'node', 'k3s-worker-02', '--wait=true');
    const r = status();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^k3s-worker-02\s+inventory only\s+agent\s+-\s+-\s+-\s+1$/m);
    expect(r.stdout).toContain('[missing] k3s-worker-02 is in the inventory but not in the cluster');
    const { out } = json();
    expect(out.nodes.find((n) => n.name === 'k3s-worker-02')).toMatchObject({
      inInventory: true,
      inCluster: false,
      kubeletVersion: null,
      ready: null,
    });
    expect(out.drift).toEqual([expect.objectContaining({ node: 'k3s-worker-02', kind: 'missing' })]);

    // A node that registered but is not in the inventory (no kwok annotation: nobody plays its kubelet, so it is not Ready either).
    const manifest = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'k3s-stray', labels: { 'kubernetes.io/hostname': 'k3s-stray' } },
    };
    const created = spawnSync(state.kubectl, ['create', '-f', '-'], {
      input: JSON.stringify(manifest),
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: state.kubeconfig },
    });
    expect(created.status, created.stderr).toBe(0);
    const again = json();
    expect(again.code).toBe(1);
    expect(again.out.drift.map((d) => `${d.node}:${d.kind}`)).toEqual(['k3s-worker-02:missing', 'k3s-stray:extra']);
    expect(again.out.nodes.at(-1)).toMatchObject({
      name: 'k3s-stray',
      inInventory: false,
      inCluster: true,
      liveRoles: ['agent'],
    });
  });

  it("a context that is not the inventory's: refused, exit 2, nothing listed", () => {
    const r = status('--context', 'elsewhere');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^runbook: refusing: .*elsewhere/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an API that does not answer: refused, exit 2, one line', async () => {
    // down() removes the state dir: keep its kubeconfig and inventory, pointing at a server that is gone.
    const kept = mkdtempSync(join(tmpdir(), 'k3s-lab-status-gone-'));
    copyFileSync(state.kubeconfig, join(kept, 'kubeconfig'));
    copyFileSync(state.sandboxInventory, join(kept, 'inventory.yaml'));
    await down(stateDir);
    const r = runbook(['status'], {
      env: {
        KUBECONFIG: join(kept, 'kubeconfig'),
        RUNBOOK_INVENTORY: join(kept, 'inventory.yaml'),
        RUNBOOK_API_TIMEOUT_MS: '2000',
      },
    });
    rmSync(kept, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^runbook: .*did not answer/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

interface StatusJson {
  cluster: { name: string; context: string; server: string; uid: string; identity: string; k3sVersion: string };
  inventory: string;
  ok: boolean;
  nodes: Array<{
    name: string;
    inInventory: boolean;
    inCluster: boolean;
    roles: string[];
    liveRoles: string[];
    kubeletVersion: string | null;
    ready: boolean | null;
  }>;
  drift: Array<{ node: string; kind: string; expected: string | null; actual: string | null; message: string }>;
}
