import { isSnapshot, type ClusterSnapshot, type SnapshotSlot } from './snapshot.ts';

/**
 * What a run changed in the cluster, read from its two snapshots: the answer to
 * "did the upgrade move every node, and did it leave anything behind?". Pure:
 * the run page, `history --json` and the landing figure all read it.
 */

type Workload = ClusterSnapshot['unavailable'][number];
type Pdb = ClusterSnapshot['blockingPdbs'][number];

export interface SnapshotDiff {
  /** The API server's version, when it changed. */
  serverVersion?: { from: string; to: string };
  /** Nodes whose kubelet version changed, in the after snapshot's order. */
  versions: Array<{ node: string; from: string; to: string }>;
  nodesAdded: string[];
  nodesRemoved: string[];
  /** Nodes whose Ready condition changed (to: false is a node that went NotReady). */
  ready: Array<{ node: string; from: boolean; to: boolean }>;
  /** Unschedulable after the run but not before: a cordon the run left behind. */
  cordonsLeft: string[];
  /** Unschedulable before, schedulable after. */
  uncordoned: string[];
  taintsAdded: Array<{ node: string; taint: string }>;
  taintsRemoved: Array<{ node: string; taint: string }>;
  /**
   * Namespaces with more stuck pods after than before, or with stuck pods the before
   * snapshot did not name: `pods` are those new names (as far as the capped name lists tell).
   */
  newlyStuck: Array<{ namespace: string; before: number; after: number; pods: string[] }>;
  /** Namespaces that had stuck pods before and none after. */
  unstuck: string[];
  /** Workloads short of replicas after the run and not before. */
  newlyUnavailable: Workload[];
  /** Workloads short before and fully available after. */
  recovered: Workload[];
  /** PDBs allowing no disruption after the run and not before. */
  newlyBlockingPdbs: Pdb[];
  /** Anything at all differs (the lists above or the server version). */
  changed: boolean;
}

export function diffSnapshots(before: ClusterSnapshot, after: ClusterSnapshot): SnapshotDiff {
  const was = new Map(before.nodes.map((n) => [n.name, n]));
  const is = new Map(after.nodes.map((n) => [n.name, n]));
  const diff: SnapshotDiff = {
    versions: [],
    nodesAdded: after.nodes.filter((n) => !was.has(n.name)).map((n) => n.name),
    nodesRemoved: before.nodes.filter((n) => !is.has(n.name)).map((n) => n.name),
    ready: [],
    cordonsLeft: [],
    uncordoned: [],
    taintsAdded: [],
    taintsRemoved: [],
    newlyStuck: [],
    unstuck: [],
    newlyUnavailable: [],
    recovered: [],
    newlyBlockingPdbs: [],
    changed: false,
  };
  if (before.serverVersion !== after.serverVersion)
    diff.serverVersion = { from: before.serverVersion, to: after.serverVersion };

  for (const node of after.nodes) {
    const old = was.get(node.name);
    if (!old) continue;
    if (old.kubeletVersion !== node.kubeletVersion)
      diff.versions.push({ node: node.name, from: old.kubeletVersion, to: node.kubeletVersion });
    if (old.ready !== node.ready) diff.ready.push({ node: node.name, from: old.ready, to: node.ready });
    if (node.unschedulable && !old.unschedulable) diff.cordonsLeft.push(node.name);
    if (!node.unschedulable && old.unschedulable) diff.uncordoned.push(node.name);
    for (const taint of node.taints) if (!old.taints.includes(taint)) diff.taintsAdded.push({ node: node.name, taint });
    for (const taint of old.taints)
      if (!node.taints.includes(taint)) diff.taintsRemoved.push({ node: node.name, taint });
  }

  const stuckBefore = new Map(before.stuckPods.map((s) => [s.namespace, s]));
  const stuckAfter = new Set(after.stuckPods.map((s) => s.namespace));
  for (const ns of after.stuckPods) {
    const old = stuckBefore.get(ns.namespace);
    const oldNames = new Set((old?.pods ?? []).map(podName));
    const fresh = ns.pods.filter((p) => !oldNames.has(podName(p)));
    if (!old || ns.count > old.count || fresh.length > 0)
      diff.newlyStuck.push({ namespace: ns.namespace, before: old?.count ?? 0, after: ns.count, pods: fresh });
  }
  diff.unstuck = before.stuckPods.filter((s) => !stuckAfter.has(s.namespace)).map((s) => s.namespace);

  const workloadKey = (w: Workload) => `${w.kind}/${w.namespace}/${w.name}`;
  const shortBefore = new Set(before.unavailable.map(workloadKey));
  const shortAfter = new Set(after.unavailable.map(workloadKey));
  diff.newlyUnavailable = after.unavailable.filter((w) => !shortBefore.has(workloadKey(w)));
  diff.recovered = before.unavailable.filter((w) => !shortAfter.has(workloadKey(w)));

  const pdbKey = (p: Pdb) => `${p.namespace}/${p.name}`;
  const blockingBefore = new Set(before.blockingPdbs.map(pdbKey));
  diff.newlyBlockingPdbs = after.blockingPdbs.filter((p) => !blockingBefore.has(pdbKey(p)));

  diff.changed = diff.serverVersion !== undefined || Object.values(diff).some((v) => Array.isArray(v) && v.length > 0);
  return diff;
}

/** The diff of a record's two slots, when both are snapshots (not missing, not an error). */
export function diffSlots(before: SnapshotSlot | undefined, after: SnapshotSlot | undefined): SnapshotDiff | undefined {
  return isSnapshot(before) && isSnapshot(after) ? diffSnapshots(before, after) : undefined;
}

/** `name (state)` → name. */
function podName(entry: string): string {
  const i = entry.indexOf(' (');
  return i < 0 ? entry : entry.slice(0, i);
}

/**
 * The version the cluster was at before a run and after it, for the landing's
 * "last upgrade" figure: the oldest of the server's and the kubelets' versions
 * on each side (a cluster is only as upgraded as its oldest part). Undefined
 * unless both slots are snapshots with a version to read.
 */
export function upgradeRange(
  before: SnapshotSlot | undefined,
  after: SnapshotSlot | undefined,
): { from: string; to: string } | undefined {
  if (!isSnapshot(before) || !isSnapshot(after)) return undefined;
  const from = oldestVersion(before);
  const to = oldestVersion(after);
  return from && to ? { from, to } : undefined;
}

export function oldestVersion(snapshot: ClusterSnapshot): string | undefined {
  const versions = [snapshot.serverVersion, ...snapshot.nodes.map((n) => n.kubeletVersion)].filter((v) => v !== '');
  return versions.sort(compareVersions)[0];
}

/**
 * Orders Kubernetes versions as numbers: v1.34.10 after v1.34.9, and the K3s
 * release suffix (+k3s2 after +k3s1); a pre-release (-rc1) before its release.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  for (let i = 0; i < 3; i++) if (pa.core[i] !== pb.core[i]) return pa.core[i]! - pb.core[i]!;
  if (pa.pre !== pb.pre)
    return pa.pre === '' ? 1 : pb.pre === '' ? -1 : pa.pre.localeCompare(pb.pre, 'en', { numeric: true });
  return pa.build.localeCompare(pb.build, 'en', { numeric: true });
}

function parseVersion(v: string): { core: number[]; pre: string; build: string } | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([^+]*))?(?:\+(.*))?$/.exec(v.trim());
  if (!m) return undefined;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)], pre: m[4] ?? '', build: m[5] ?? '' };
}

/**
 * Why a record's slot holds no snapshot, in plain words (the run page says it as is);
 * undefined when it holds one.
 */
export function missingSnapshotReason(slot: SnapshotSlot | undefined, which: 'before' | 'after'): string | undefined {
  if (isSnapshot(slot)) return undefined;
  const when = which === 'before' ? 'before the first step' : 'after the last step';
  if (slot === undefined) {
    return which === 'before'
      ? `No snapshot ${when}: none was recorded.`
      : `No snapshot ${when}: none was recorded (the run is still going, or the runner was stopped before it could take one).`;
  }
  const error = slot.error.replace(/\.$/, '');
  return `No snapshot ${when}: it could not be taken (${error}).`;
}
