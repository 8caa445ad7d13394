// snapshotFromObjects on plain API-shaped objects: the pure half of takeSnapshot
// (test/cluster/snapshot.test.ts takes real ones from the sandbox).
import { describe, expect, it } from 'vitest';
import { podState, snapshotFromObjects, type SnapshotSources } from '../../runner/cluster/snapshot.ts';
import { SNAPSHOT_LIMITS } from '../../runner/record/snapshot.ts';

const base = (extra: Partial<SnapshotSources> = {}): SnapshotSources => ({
  takenAt: '2026-11-08T09:30:00.000Z',
  serverVersion: 'v1.34.3+k3s1',
  nodes: [],
  pods: [],
  deployments: [],
  daemonSets: [],
  statefulSets: [],
  pdbs: [],
  ...extra,
});

const pod = (namespace: string, name: string, status: object, metadata: object = {}) =>
  ({ metadata: { namespace, name, ...metadata }, status }) as SnapshotSources['pods'][number];

describe('snapshotFromObjects', () => {
  it('nodes: roles from labels, kubelet version, Ready, cordon and taints as kubectl prints them', () => {
    const s = snapshotFromObjects(
      base({
        nodes: [
          {
            metadata: {
              name: 'k3s-worker-01',
              labels: { 'node-role.kubernetes.io/agent': 'true', 'kubernetes.io/hostname': 'k3s-worker-01' },
            },
            spec: {
              unschedulable: true,
              taints: [
                { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
                { key: 'dedicated', value: 'gpu', effect: 'NoExecute' },
              ],
            },
            status: {
              nodeInfo: { kubeletVersion: 'v1.34.3+k3s1' } as never,
              conditions: [{ type: 'Ready', status: 'False' }],
            },
          },
          {
            metadata: {
              name: 'k3s-master',
              labels: {
                'node-role.kubernetes.io/control-plane': 'true',
                'node-role.kubernetes.io/master': 'true',
                'node-role.kubernetes.io/etcd': '',
              },
            },
            status: {
              nodeInfo: { kubeletVersion: 'v1.34.3+k3s1' } as never,
              conditions: [
                { type: 'MemoryPressure', status: 'False' },
                { type: 'Ready', status: 'True' },
              ],
            },
          },
        ],
      }),
    );
    expect(s.nodes).toEqual([
      {
        name: 'k3s-master',
        roles: ['control-plane', 'etcd', 'master'],
        kubeletVersion: 'v1.34.3+k3s1',
        ready: true,
        unschedulable: false,
        taints: [],
      },
      {
        name: 'k3s-worker-01',
        roles: ['agent'],
        kubeletVersion: 'v1.34.3+k3s1',
        ready: false,
        unschedulable: true,
        taints: ['node.kubernetes.io/unschedulable:NoSchedule', 'dedicated=gpu:NoExecute'],
      },
    ]);
    expect(s.serverVersion).toBe('v1.34.3+k3s1');
    expect(s.omitted).toBeUndefined();
  });

  it('stuck pods per namespace with their state; Running and Succeeded ones are not stuck', () => {
    const s = snapshotFromObjects(
      base({
        pods: [
          pod('apps', 'web-1', {
            phase: 'Pending',
            conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
          }),
          pod('apps', 'web-2', {
            phase: 'Pending',
            containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ImagePullBackOff' } } }],
          }),
          pod('apps', 'init-1', {
            phase: 'Pending',
            initContainerStatuses: [{ name: 'i', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
          }),
          pod('apps', 'fine', { phase: 'Running' }),
          pod('jobs', 'done', { phase: 'Succeeded' }),
          pod('jobs', 'evicted', { phase: 'Failed', reason: 'Evicted' }),
        ],
      }),
    );
    expect(s.stuckPods).toEqual([
      {
        namespace: 'apps',
        count: 3,
        pods: ['init-1 (Init:CrashLoopBackOff)', 'web-1 (Pending: Unschedulable)', 'web-2 (ImagePullBackOff)'],
      },
      { namespace: 'jobs', count: 1, pods: ['evicted (Evicted)'] },
    ]);
  });

  it('podState: Terminating wins, then waiting reasons, the pod reason, the phase', () => {
    expect(podState(pod('a', 'p', { phase: 'Pending' }, { deletionTimestamp: new Date() }))).toBe('Terminating');
    expect(
      podState(
        pod('a', 'p', {
          phase: 'Pending',
          initContainerStatuses: [{ state: { waiting: { reason: 'PodInitializing' } } }],
          containerStatuses: [{ state: { waiting: { reason: 'PodInitializing' } } }],
        }),
      ),
    ).toBe('PodInitializing');
    expect(podState(pod('a', 'p', { phase: 'Unknown' }))).toBe('Unknown');
    expect(podState(pod('a', 'p', {}))).toBe('Unknown');
  });

  it('workloads short of replicas, as ready/desired; PDBs allowing no disruption', () => {
    const s = snapshotFromObjects(
      base({
        deployments: [
          {
            metadata: { namespace: 'apps', name: 'web' },
            spec: { replicas: 3 } as never,
            status: { availableReplicas: 1, readyReplicas: 2 },
          },
          {
            metadata: { namespace: 'apps', name: 'ok' },
            spec: { replicas: 2 } as never,
            status: { availableReplicas: 2 },
          },
          { metadata: { namespace: 'apps', name: 'scaled-down' }, spec: { replicas: 0 } as never, status: {} },
        ],
        daemonSets: [
          {
            metadata: { namespace: 'kube-system', name: 'svclb' },
            status: {
              desiredNumberScheduled: 3,
              numberAvailable: 2,
              currentNumberScheduled: 3,
              numberMisscheduled: 0,
              numberReady: 2,
            },
          },
        ],
        statefulSets: [
          {
            metadata: { namespace: 'monitoring', name: 'loki' },
            spec: { replicas: 1 } as never,
            status: { replicas: 1 },
          },
        ],
        pdbs: [
          { metadata: { namespace: 'apps', name: 'web' }, status: { disruptionsAllowed: 0 } as never },
          { metadata: { namespace: 'apps', name: 'other' }, status: { disruptionsAllowed: 1 } as never },
        ],
      }),
    );
    expect(s.unavailable).toEqual([
      { kind: 'Deployment', namespace: 'apps', name: 'web', ready: 1, desired: 3 },
      { kind: 'DaemonSet', namespace: 'kube-system', name: 'svclb', ready: 2, desired: 3 },
      { kind: 'StatefulSet', namespace: 'monitoring', name: 'loki', ready: 0, desired: 1 },
    ]);
    expect(s.blockingPdbs).toEqual([{ namespace: 'apps', name: 'web', disruptionsAllowed: 0 }]);
  });

  it('caps every list and says how much it left out; pod counts stay exact', () => {
    const n = SNAPSHOT_LIMITS.namespaces + 3;
    const pods = Array.from({ length: n }, (_, i) =>
      pod(`ns-${String(i).padStart(3, '0')}`, 'p', { phase: 'Pending' }),
    );
    pods.push(...Array.from({ length: 9 }, (_, i) => pod('busy', `p${i}`, { phase: 'Pending' })));
    const s = snapshotFromObjects(
      base({
        pods,
        nodes: Array.from({ length: SNAPSHOT_LIMITS.nodes }, (_, i) => ({ metadata: { name: `n${i}` } })),
        nodesRemaining: 7,
        deployments: Array.from({ length: SNAPSHOT_LIMITS.workloads + 2 }, (_, i) => ({
          metadata: { namespace: 'a', name: `d${i}` },
          spec: { replicas: 1 } as never,
        })),
        pdbs: Array.from({ length: SNAPSHOT_LIMITS.workloads + 1 }, (_, i) => ({
          metadata: { namespace: 'a', name: `p${i}` },
          status: { disruptionsAllowed: 0 } as never,
        })),
      }),
    );
    expect(s.stuckPods).toHaveLength(SNAPSHOT_LIMITS.namespaces);
    // The busiest namespace comes first, with its exact count and the first few names.
    expect(s.stuckPods[0]).toMatchObject({ namespace: 'busy', count: 9 });
    expect(s.stuckPods[0]!.pods).toHaveLength(SNAPSHOT_LIMITS.podNamesPerNamespace);
    expect(s.nodes).toHaveLength(SNAPSHOT_LIMITS.nodes);
    expect(s.unavailable).toHaveLength(SNAPSHOT_LIMITS.workloads);
    expect(s.omitted).toEqual({ nodes: 7, namespaces: 4, workloads: 2, pdbs: 1 });
  });
});
