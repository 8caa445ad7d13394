// diffSnapshots and upgradeRange on hand-built snapshots: what the run page and
// the landing figure say a run changed.
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  diffSlots,
  diffSnapshots,
  missingSnapshotReason,
  oldestVersion,
  upgradeRange,
} from '../../runner/record/snapshot-diff.ts';
import type { ClusterSnapshot } from '../../runner/record/snapshot.ts';

const node = (name: string, kubeletVersion: string, extra: Partial<ClusterSnapshot['nodes'][number]> = {}) => ({
  name,
  roles: ['agent'],
  kubeletVersion,
  ready: true,
  unschedulable: false,
  taints: [],
  ...extra,
});

function snap(extra: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    takenAt: '2026-11-08T09:30:00Z',
    serverVersion: 'v1.34.1+k3s1',
    nodes: [
      node('k3s-master', 'v1.34.1+k3s1', { roles: ['control-plane', 'etcd', 'master'] }),
      node('k3s-worker-01', 'v1.34.1+k3s1'),
      node('k3s-worker-02', 'v1.34.1+k3s1'),
    ],
    stuckPods: [],
    unavailable: [],
    blockingPdbs: [],
    ...extra,
  };
}

describe('diffSnapshots', () => {
  it('says nothing changed for the same snapshot', () => {
    const d = diffSnapshots(snap(), snap({ takenAt: '2026-11-08T10:00:00Z' }));
    expect(d.changed).toBe(false);
    expect(d.serverVersion).toBeUndefined();
    expect(d.versions).toEqual([]);
  });

  it('names each node whose version moved, and the server', () => {
    const after = snap({
      serverVersion: 'v1.34.3+k3s1',
      nodes: [
        node('k3s-master', 'v1.34.3+k3s1'),
        node('k3s-worker-01', 'v1.34.3+k3s1'),
        node('k3s-worker-02', 'v1.34.1+k3s1'),
      ],
    });
    const d = diffSnapshots(snap(), after);
    expect(d.changed).toBe(true);
    expect(d.serverVersion).toEqual({ from: 'v1.34.1+k3s1', to: 'v1.34.3+k3s1' });
    expect(d.versions).toEqual([
      { node: 'k3s-master', from: 'v1.34.1+k3s1', to: 'v1.34.3+k3s1' },
      { node: 'k3s-worker-01', from: 'v1.34.1+k3s1', to: 'v1.34.3+k3s1' },
    ]);
  });

  it('finds nodes added and removed, Ready changes, cordons left behind and taints', () => {
    const before = snap({
      nodes: [
        node('a', 'v1'),
        node('b', 'v1', { unschedulable: true, taints: ['node.kubernetes.io/unschedulable:NoSchedule'] }),
        node('c', 'v1'),
      ],
    });
    const after = snap({
      nodes: [
        node('a', 'v1', {
          unschedulable: true,
          ready: false,
          taints: ['node.kubernetes.io/unschedulable:NoSchedule', 'dedicated=gpu:NoExecute'],
        }),
        node('b', 'v1'),
        node('d', 'v1'),
      ],
    });
    const d = diffSnapshots(before, after);
    expect(d.nodesAdded).toEqual(['d']);
    expect(d.nodesRemoved).toEqual(['c']);
    expect(d.ready).toEqual([{ node: 'a', from: true, to: false }]);
    expect(d.cordonsLeft).toEqual(['a']);
    expect(d.uncordoned).toEqual(['b']);
    expect(d.taintsAdded).toEqual([
      { node: 'a', taint: 'node.kubernetes.io/unschedulable:NoSchedule' },
      { node: 'a', taint: 'dedicated=gpu:NoExecute' },
    ]);
    expect(d.taintsRemoved).toEqual([{ node: 'b', taint: 'node.kubernetes.io/unschedulable:NoSchedule' }]);
  });

  it('reports newly stuck pods by namespace with the new names, and namespaces that cleared', () => {
    const before = snap({
      stuckPods: [
        { namespace: 'monitoring', count: 1, pods: ['loki-0 (Pending)'] },
        { namespace: 'old', count: 2, pods: ['x (Failed)', 'y (Evicted)'] },
      ],
    });
    const after = snap({
      stuckPods: [
        // Same pod, another state: not new. A new pod next to it is.
        { namespace: 'monitoring', count: 2, pods: ['loki-0 (CrashLoopBackOff)', 'promtail-abc (ImagePullBackOff)'] },
        { namespace: 'apps', count: 1, pods: ['n8n-7d9 (Pending: Unschedulable)'] },
      ],
    });
    const d = diffSnapshots(before, after);
    expect(d.newlyStuck).toEqual([
      { namespace: 'monitoring', before: 1, after: 2, pods: ['promtail-abc (ImagePullBackOff)'] },
      { namespace: 'apps', before: 0, after: 1, pods: ['n8n-7d9 (Pending: Unschedulable)'] },
    ]);
    expect(d.unstuck).toEqual(['old']);
  });

  it('a namespace whose stuck pods are the same ones is not newly stuck', () => {
    const s = { namespace: 'apps', count: 1, pods: ['a (Pending)'] };
    expect(
      diffSnapshots(snap({ stuckPods: [s] }), snap({ stuckPods: [{ ...s, pods: ['a (ContainerCreating)'] }] }))
        .newlyStuck,
    ).toEqual([]);
  });

  it('workloads that became unavailable or recovered, and PDBs that started blocking', () => {
    const web = { kind: 'Deployment' as const, namespace: 'apps', name: 'web', ready: 1, desired: 2 };
    const ds = { kind: 'DaemonSet' as const, namespace: 'kube-system', name: 'svclb', ready: 2, desired: 3 };
    const pdb = { namespace: 'apps', name: 'web', disruptionsAllowed: 0 };
    const d = diffSnapshots(snap({ unavailable: [ds] }), snap({ unavailable: [{ ...web }], blockingPdbs: [pdb] }));
    expect(d.newlyUnavailable).toEqual([web]);
    expect(d.recovered).toEqual([ds]);
    expect(d.newlyBlockingPdbs).toEqual([pdb]);
    // The same workload short before and after (other counts) is neither.
    const again = diffSnapshots(snap({ unavailable: [web] }), snap({ unavailable: [{ ...web, ready: 0 }] }));
    expect(again.newlyUnavailable).toEqual([]);
    expect(again.recovered).toEqual([]);
  });
});

describe('diffSlots', () => {
  it('is undefined unless both slots are snapshots', () => {
    const error = {
      takenAt: '2026-11-08T09:30:00Z',
      error: 'the API server https://127.0.0.1:1 did not answer: connection refused',
    };
    expect(diffSlots(snap(), error)).toBeUndefined();
    expect(diffSlots(undefined, snap())).toBeUndefined();
    expect(diffSlots(snap(), snap())?.changed).toBe(false);
  });
});

describe('upgradeRange', () => {
  it('reads from → to as the oldest version of the server and the kubelets on each side', () => {
    const after = snap({
      serverVersion: 'v1.34.3+k3s1',
      nodes: [node('m', 'v1.34.3+k3s1'), node('w', 'v1.34.3+k3s1')],
    });
    expect(upgradeRange(snap(), after)).toEqual({ from: 'v1.34.1+k3s1', to: 'v1.34.3+k3s1' });
    // An agent left behind holds the cluster back.
    const partial = snap({
      serverVersion: 'v1.34.3+k3s1',
      nodes: [node('m', 'v1.34.3+k3s1'), node('w', 'v1.34.1+k3s1')],
    });
    expect(upgradeRange(snap(), partial)).toEqual({ from: 'v1.34.1+k3s1', to: 'v1.34.1+k3s1' });
  });

  it('is undefined when a snapshot is missing or an error', () => {
    expect(upgradeRange(snap(), undefined)).toBeUndefined();
    expect(upgradeRange({ takenAt: 'x', error: 'no' }, snap())).toBeUndefined();
  });

  it('orders versions numerically, K3s release suffix and pre-releases included', () => {
    const sorted = ['v1.34.10+k3s1', 'v1.34.9+k3s1', 'v1.35.0-rc1+k3s1', 'v1.34.9+k3s2', 'v1.35.0+k3s1', 'v1.4.0'].sort(
      compareVersions,
    );
    expect(sorted).toEqual([
      'v1.4.0',
      'v1.34.9+k3s1',
      'v1.34.9+k3s2',
      'v1.34.10+k3s1',
      'v1.35.0-rc1+k3s1',
      'v1.35.0+k3s1',
    ]);
    expect(
      oldestVersion(snap({ serverVersion: 'v1.35.0+k3s1', nodes: [node('a', 'v1.34.10+k3s1'), node('b', '')] })),
    ).toBe('v1.34.10+k3s1');
  });
});

describe('missingSnapshotReason', () => {
  it('says plainly why a slot holds no snapshot', () => {
    expect(missingSnapshotReason(snap(), 'before')).toBeUndefined();
    expect(missingSnapshotReason(undefined, 'before')).toBe('No snapshot before the first step: none was recorded.');
    expect(missingSnapshotReason(undefined, 'after')).toMatch(
      /^No snapshot after the last step: none was recorded \(the run is still going/,
    );
    expect(
      missingSnapshotReason(
        { takenAt: 'x', error: 'the API server https://192.168.2.20:6443 did not answer: connection refused' },
        'after',
      ),
    ).toBe(
      'No snapshot after the last step: it could not be taken (the API server https://192.168.2.20:6443 did not answer: connection refused).',
    );
    expect(
      missingSnapshotReason({ takenAt: 'x', error: 'the API said 403 Forbidden: nodes is forbidden' }, 'before'),
    ).toBe(
      'No snapshot before the first step: it could not be taken (the API said 403 Forbidden: nodes is forbidden).',
    );
  });
});
