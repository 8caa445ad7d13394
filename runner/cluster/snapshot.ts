import type {
  V1DaemonSet,
  V1Deployment,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { callApi, type Cluster } from './api.ts';
import { clusterSnapshotSchema, SNAPSHOT_LIMITS, type ClusterSnapshot } from '../record/snapshot.ts';

/**
 * The cluster as a run record keeps it, just before the first step and just
 * after the last: the version and six lists, asked at once, each with its own deadline,
 * turned into a compact snapshot by `snapshotFromObjects` (pure, so it is
 * tested with plain objects). Only what a reviewer of an upgrade or a drain
 * asks about is kept: versions, node readiness and cordons, what is stuck.
 */

/** Phases that are not a problem: everything else is listed as stuck. */
const FINE_PHASES = 'status.phase!=Running,status.phase!=Succeeded';

/**
 * Throws ClusterUnreachable or ClusterApiError (runner/cluster/api.ts) when any list fails;
 * the caller records `{ takenAt, error: err.message }` in that slot. `timeoutMs` is the deadline
 * of each call (default: the cluster's, RUNBOOK_API_TIMEOUT_MS or 10 s); the calls run at once.
 */
export async function takeSnapshot(cluster: Cluster, options: { timeoutMs?: number } = {}): Promise<ClusterSnapshot> {
  const takenAt = new Date().toISOString();
  const call = <T>(fn: () => Promise<T>) => callApi(cluster, fn);
  const within = () => cluster.within(options.timeoutMs);
  const [version, nodes, pods, deployments, daemonSets, statefulSets, pdbs] = await Promise.all([
    call(() => cluster.version.getCode({}, within())),
    // Nodes come back sorted by name; the cap keeps the first ones and the API says how many it left.
    call(() => cluster.core.listNode({ limit: SNAPSHOT_LIMITS.nodes }, within())),
    // The server filters: a healthy cluster answers with an empty list, whatever its size.
    call(() => cluster.core.listPodForAllNamespaces({ fieldSelector: FINE_PHASES }, within())),
    // Availability cannot be selected on the server: every workload is read, and the few that are short are kept.
    call(() => cluster.apps.listDeploymentForAllNamespaces({}, within())),
    call(() => cluster.apps.listDaemonSetForAllNamespaces({}, within())),
    call(() => cluster.apps.listStatefulSetForAllNamespaces({}, within())),
    call(() => cluster.policy.listPodDisruptionBudgetForAllNamespaces({}, within())),
  ]);
  return snapshotFromObjects({
    takenAt,
    serverVersion: version.gitVersion,
    nodes: nodes.items,
    nodesRemaining: nodes.metadata?.remainingItemCount ?? (nodes.metadata?._continue ? 1 : 0),
    pods: pods.items,
    deployments: deployments.items,
    daemonSets: daemonSets.items,
    statefulSets: statefulSets.items,
    pdbs: pdbs.items,
  });
}

/** What the API answered, as the objects it returned (plain objects do: only the fields read below matter). */
export interface SnapshotSources {
  takenAt: string;
  serverVersion: string;
  nodes: V1Node[];
  /** Nodes the list left out beyond its limit (the API's remainingItemCount). */
  nodesRemaining?: number;
  /** Pods, already filtered by the server or not: Running and Succeeded ones are skipped here too. */
  pods: V1Pod[];
  deployments: V1Deployment[];
  daemonSets: V1DaemonSet[];
  statefulSets: V1StatefulSet[];
  pdbs: V1PodDisruptionBudget[];
}

/** The API's objects → the record's snapshot, capped by SNAPSHOT_LIMITS and validated by the record schema. */
export function snapshotFromObjects(src: SnapshotSources): ClusterSnapshot {
  const nodes = src.nodes.map(nodeOf).sort((a, b) => a.name.localeCompare(b.name));
  const stuck = stuckPods(src.pods);
  const unavailable = [
    ...src.deployments.map((d) => workload('Deployment', d, d.spec?.replicas ?? 1, d.status?.availableReplicas)),
    ...src.daemonSets.map((d) =>
      workload('DaemonSet', d, d.status?.desiredNumberScheduled ?? 0, d.status?.numberAvailable),
    ),
    ...src.statefulSets.map((s) =>
      workload('StatefulSet', s, s.spec?.replicas ?? 1, s.status?.availableReplicas ?? s.status?.readyReplicas),
    ),
  ]
    .filter((w) => w.ready < w.desired)
    .sort(
      (a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
    );
  const blockingPdbs = src.pdbs
    .filter((p) => p.status?.disruptionsAllowed === 0)
    .map((p) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', disruptionsAllowed: 0 }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));

  const omitted: NonNullable<ClusterSnapshot['omitted']> = {};
  const nodesLeft = Math.max(0, nodes.length - SNAPSHOT_LIMITS.nodes) + (src.nodesRemaining ?? 0);
  if (nodesLeft > 0) omitted.nodes = nodesLeft;
  if (stuck.length > SNAPSHOT_LIMITS.namespaces) omitted.namespaces = stuck.length - SNAPSHOT_LIMITS.namespaces;
  if (unavailable.length > SNAPSHOT_LIMITS.workloads)
    omitted.workloads = unavailable.length - SNAPSHOT_LIMITS.workloads;
  if (blockingPdbs.length > SNAPSHOT_LIMITS.workloads) omitted.pdbs = blockingPdbs.length - SNAPSHOT_LIMITS.workloads;

  return clusterSnapshotSchema.parse({
    takenAt: src.takenAt,
    serverVersion: src.serverVersion,
    nodes: nodes.slice(0, SNAPSHOT_LIMITS.nodes),
    stuckPods: stuck.slice(0, SNAPSHOT_LIMITS.namespaces),
    unavailable: unavailable.slice(0, SNAPSHOT_LIMITS.workloads),
    blockingPdbs: blockingPdbs.slice(0, SNAPSHOT_LIMITS.workloads),
    ...(Object.keys(omitted).length > 0 ? { omitted } : {}),
  });
}

const ROLE_LABEL = 'node-role.kubernetes.io/';

function nodeOf(node: V1Node): ClusterSnapshot['nodes'][number] {
  const labels = node.metadata?.labels ?? {};
  // As kubectl reads roles: node-role.kubernetes.io/<role> (any value), and the older kubernetes.io/role=<role>.
  const roles = new Set(
    Object.keys(labels)
      .filter((k) => k.startsWith(ROLE_LABEL) && k.length > ROLE_LABEL.length)
      .map((k) => k.slice(ROLE_LABEL.length)),
  );
  if (labels['kubernetes.io/role']) roles.add(labels['kubernetes.io/role']);
  return {
    name: node.metadata?.name ?? '',
    roles: [...roles].sort(),
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? '',
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    unschedulable: node.spec?.unschedulable === true,
    taints: (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
  };
}

/** Stuck pods per namespace, the namespaces with the most first; counts are exact, names capped. */
function stuckPods(pods: V1Pod[]): ClusterSnapshot['stuckPods'] {
  const byNamespace = new Map<string, string[]>();
  for (const pod of pods) {
    const phase = pod.status?.phase ?? 'Unknown';
    if (phase === 'Running' || phase === 'Succeeded') continue;
    const ns = pod.metadata?.namespace ?? '';
    const list = byNamespace.get(ns) ?? [];
    list.push(`${pod.metadata?.name ?? '?'} (${podState(pod)})`);
    byNamespace.set(ns, list);
  }
  return [...byNamespace]
    .map(([namespace, names]) => ({
      namespace,
      count: names.length,
      pods: names.sort().slice(0, SNAPSHOT_LIMITS.podNamesPerNamespace),
    }))
    .sort((a, b) => b.count - a.count || a.namespace.localeCompare(b.namespace));
}

/**
 * What kubectl's STATUS column would say, in short: a container's waiting reason
 * (CrashLoopBackOff, ImagePullBackOff; `Init:` for init containers), else the pod's
 * own reason (Evicted, NodeLost), else the phase, with Unschedulable named.
 */
export function podState(pod: V1Pod): string {
  const s = pod.status;
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const initWaiting = s?.initContainerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  if (initWaiting && initWaiting !== 'PodInitializing') return `Init:${initWaiting}`;
  const waiting = s?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  if (waiting) return waiting;
  if (s?.reason) return s.reason;
  const phase = s?.phase ?? 'Unknown';
  const unschedulable = s?.conditions?.some(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  return unschedulable ? `${phase}: Unschedulable` : phase;
}

type Workload = V1Deployment | V1DaemonSet | V1StatefulSet;

/** `ready` counts available replicas (ready for minReadySeconds): what "fully available" means to a rollout. */
function workload(
  kind: ClusterSnapshot['unavailable'][number]['kind'],
  w: Workload,
  desired: number,
  available: number | undefined,
) {
  return {
    kind,
    namespace: w.metadata?.namespace ?? '',
    name: w.metadata?.name ?? '',
    ready: Math.max(0, available ?? 0),
    desired: Math.max(0, desired),
  };
}
