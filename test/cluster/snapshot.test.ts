// takeSnapshot against the sandbox: a Deployment whose pods can never be
// scheduled, a PodDisruptionBudget that therefore allows no disruption, and a
// cordoned node, each read back in the snapshot. The node is uncordoned at the
// end (other suites share this sandbox), and the namespace is deleted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, PolicyV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCluster, ClusterUnreachable, type Cluster } from '../../runner/cluster/api.ts';
import { takeSnapshot } from '../../runner/cluster/snapshot.ts';
import { clusterSnapshotSchema } from '../../runner/record/snapshot.ts';
import { diffSnapshots } from '../../runner/record/snapshot-diff.ts';
import { eventually, sandbox, uniqueName } from './helpers.ts';

const ns = uniqueName('snapshot');
const app = uniqueName('nowhere');

describe('takeSnapshot', () => {
  const { kubeconfig, kc } = sandbox();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  let cluster: Cluster;
  let node = '';
  let cordoned = false;
  const uncordon = async () => {
    if (!cordoned) return;
    await core.patchNode({ name: node, body: [{ op: 'replace', path: '/spec/unschedulable', value: false }] });
    cordoned = false;
  };

  beforeAll(async () => {
    cluster = await connectCluster(kubeconfig);
    const nodes = (await core.listNode()).items;
    node = (nodes.find((n) => !n.metadata?.labels?.['node-role.kubernetes.io/control-plane']) ?? nodes[0]!).metadata!
      .name!;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    // Two replicas that no node can take (no node has this label), and a budget that wants both up.
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: app },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: {
              nodeSelector: { 'example.com/no-such-node': 'true' },
              containers: [{ name: 'app', image: 'nginx:1.27' }],
            },
          },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: {
        metadata: { name: app },
        spec: { minAvailable: 2, selector: { matchLabels: { app } } },
      },
    });
    await eventually('2 pods Pending and marked unschedulable', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      return (
        pods.length === 2 &&
        pods.every(
          (p) => p.status?.phase === 'Pending' && p.status.conditions?.some((c) => c.reason === 'Unschedulable'),
        )
      );
    });
    await eventually('the budget observed', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: app, namespace: ns });
      return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.disruptionsAllowed === 0;
    });
  });

  afterAll(async () => {
    await uncordon().catch(() => {});
    await core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it('reads versions, nodes, stuck pods, short workloads, blocking budgets and a cordon', async () => {
    const before = await takeSnapshot(cluster);
    expect(clusterSnapshotSchema.parse(before)).toEqual(before);
    expect(before.serverVersion).toBe('v1.34.3+k3s1');

    await core.patchNode({ name: node, body: [{ op: 'replace', path: '/spec/unschedulable', value: true }] });
    cordoned = true;
    try {
      // The node lifecycle controller adds the cordon's taint a moment after spec.unschedulable.
      const after = await eventually('the cordon and its taint in a snapshot', async () => {
        const s = await takeSnapshot(cluster);
        return s.nodes.find((n) => n.name === node)?.taints.includes('node.kubernetes.io/unschedulable:NoSchedule')
          ? s
          : undefined;
      });

      const nodes = (await core.listNode()).items;
      expect(after.nodes.map((n) => n.name)).toEqual(nodes.map((n) => n.metadata!.name!).sort());
      for (const n of after.nodes) {
        expect(n.kubeletVersion).toBe('v1.34.3+k3s1');
        expect(n.ready).toBe(true);
        expect(n.roles.length).toBeGreaterThan(0);
      }
      const server = after.nodes.find((n) => n.roles.includes('control-plane'));
      expect(server?.roles).toEqual(expect.arrayContaining(['control-plane', 'master']));
      const mine = after.nodes.find((n) => n.name === node)!;
      expect(mine.unschedulable).toBe(true);
      expect(
        after.nodes
          .filter((n) => n.name !== node)
          .every((n) => !n.taints.includes('node.kubernetes.io/unschedulable:NoSchedule')),
      ).toBe(true);

      const stuck = after.stuckPods.find((s) => s.namespace === ns);
      expect(stuck?.count).toBe(2);
      expect(stuck?.pods).toHaveLength(2);
      for (const p of stuck!.pods)
        expect(p).toMatch(new RegExp(`^${app}-[a-z0-9]+-[a-z0-9]+ \\(Pending: Unschedulable\\)$`));
      expect(after.unavailable).toContainEqual({ kind: 'Deployment', namespace: ns, name: app, ready: 0, desired: 2 });
      expect(after.blockingPdbs).toContainEqual({ namespace: ns, name: app, disruptionsAllowed: 0 });
      expect(after.omitted).toBeUndefined();

      // What the run page would say: this node's cordon was left behind.
      const diff = diffSnapshots(before, after);
      expect(diff.cordonsLeft).toEqual([node]);
      expect(diff.taintsAdded).toContainEqual({ node, taint: 'node.kubernetes.io/unschedulable:NoSchedule' });
      expect(diff.versions).toEqual([]);
    } finally {
      await uncordon();
    }
    const again = await eventually('the node schedulable again', async () => {
      const s = await takeSnapshot(cluster);
      const n = s.nodes.find((x) => x.name === node)!;
      return !n.unschedulable && n.taints.length === 0 ? s : undefined;
    });
    expect(again.nodes.every((n) => !n.unschedulable)).toBe(true);
  });

  it('costs a few tens of milliseconds (10 snapshots, one after another)', async () => {
    await takeSnapshot(cluster);
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await takeSnapshot(cluster);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(
      `takeSnapshot x10 on the sandbox: median ${times[5]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms`,
    );
    // Loose bound: a loaded 2-core CI machine, not a benchmark.
    expect(times[5]).toBeLessThan(500);
  });

  it('an API that does not answer is a ClusterUnreachable within the deadline, not a hang', async () => {
    // The same kubeconfig pointed at a loopback port nobody listens on.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'snapshot-down-'));
    try {
      const file = join(dir, 'kubeconfig');
      writeFileSync(
        file,
        readFileSync(kubeconfig, 'utf8').replace(
          /server: https:\/\/127\.0\.0\.1:\d+/,
          `server: https://127.0.0.1:${port}`,
        ),
      );
      const t0 = performance.now();
      await expect(takeSnapshot(await connectCluster(file))).rejects.toBeInstanceOf(ClusterUnreachable);
      expect(performance.now() - t0).toBeLessThan(5_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
