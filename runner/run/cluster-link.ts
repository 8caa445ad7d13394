import type { Procedure } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import type { KubeView } from '../cluster/kubeconfig.ts';
import type { Cluster } from '../cluster/api.ts';
import type { RehearsalFault, RunRecord } from '../record/schema.ts';
import type { SnapshotSlot } from '../record/snapshot.ts';
import { UsageError } from '../errors.ts';

/**
 * A run's tie to its cluster, settled before anything runs: which cluster answered
 * (its kube-system UID), or that none did. Loaded only for runs of pages that name a
 * cluster, with client-node behind it, so dry runs and offline verbs never pay for it.
 */

export interface ClusterLink {
  /** The API client, when the API answered. */
  client?: Cluster;
  uid?: string;
  identity: 'pinned' | 'unpinned' | 'unreachable';
  /** Why the API could not be asked (identity `unreachable`). */
  error?: string;
  /** Said before the first step: how to pin an unpinned cluster, or that the API is down and the runbook allows it. */
  note?: string;
  /** The cluster is the lab twin (it publishes kube-system/lab-twin): the run is a rehearsal, with these faults active. */
  twin?: { faults: RehearsalFault[] };
}

export async function linkCluster(
  procedure: Procedure,
  inventory: Inventory,
  inventoryFile: string,
  kube: KubeView,
): Promise<ClusterLink> {
  const { connectView, probeServer, ClusterUnreachable } = await import('../cluster/api.ts');
  const { confirmIdentity, unpinnedNote } = await import('../cluster/identity.ts');
  const tolerate = procedure.runbook?.api === 'optional';
  const unreachable = (err: Error): ClusterLink => {
    if (!tolerate) {
      throw new UsageError(
        `refusing to run ${procedure.id}: ${err.message}. Nothing was run. Check that the cluster is up and the kube context ` +
          `is right. (A runbook meant to work while the API is down says \`api: optional\` in its runbook frontmatter.)`,
      );
    }
    return {
      identity: 'unreachable',
      error: err.message,
      note: `${err.message}; ${procedure.id} works without the API (api: optional), so the run goes on without identity check, cluster lock or snapshots`,
    };
  };
  // A refused TCP connection answers "down" in a millisecond, before the client library is loaded.
  const down = await probeServer(kube.server ?? '');
  if (down) return unreachable(new ClusterUnreachable(kube.server ?? '?', down));
  const client = await connectView(kube);
  try {
    const [{ uid, identity }, twin] = await Promise.all([
      confirmIdentity(client, inventory.cluster, inventoryFile),
      readTwin(client),
    ]);
    return {
      client,
      uid,
      identity,
      ...(twin ? { twin } : {}),
      ...(identity === 'unpinned' && !twin ? { note: unpinnedNote(uid, inventoryFile) } : {}),
    };
  } catch (err) {
    if (err instanceof ClusterUnreachable) return unreachable(err);
    throw err;
  }
}

/** The identity (and, on the twin, that this is a rehearsal), as the record keeps it. */
export function recordIdentity(record: RunRecord, link: ClusterLink): void {
  if (link.twin) recordRehearsal(record, link.twin.faults);
  delete record.cluster.error;
  Object.assign(record.cluster, {
    identity: link.identity,
    ...(link.uid ? { uid: link.uid } : {}),
    ...(link.error ? { error: link.error } : {}),
  });
}

/**
 * The faults of a rehearsal, merged by kind, node and start: a fault injected mid-run (an install that
 * fails halfway through an upgrade) is in the record as well as those active at the start.
 */
export function recordRehearsal(record: RunRecord, faults: readonly RehearsalFault[]): void {
  const known = record.rehearsal?.faults ?? [];
  const key = (f: RehearsalFault) => `${f.kind}\u0000${f.node ?? ''}\u0000${f.since}`;
  const seen = new Set(known.map(key));
  record.rehearsal = { twin: true, faults: [...known, ...faults.filter((f) => !seen.has(key(f)))] };
}

/** A resume continues on the cluster the run started on: the same UID, whatever the names say now. */
export function assertSameUid(record: RunRecord, link: ClusterLink): void {
  const before = record.cluster.uid;
  if (!before || !link.uid || before === link.uid) return;
  throw new UsageError(
    `run ${record.runId} ran against the cluster with kube-system UID ${before}, but the one answering now is ${link.uid}: ` +
      'resume it against the same cluster, or start a new run',
  );
}

/** A snapshot now, or why there is none; never throws (a snapshot must not stop a run). */
export async function snapshotSlot(
  client: Cluster | undefined,
  why: string | undefined,
  deadlineMs?: number,
): Promise<SnapshotSlot> {
  const takenAt = new Date().toISOString();
  if (!client) return { takenAt, error: why ?? 'no API client' };
  try {
    const { takeSnapshot } = await import('../cluster/snapshot.ts');
    return await takeSnapshot(client, deadlineMs ? { timeoutMs: deadlineMs } : {});
  } catch (err) {
    return { takenAt, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The lab twin, if this cluster is one: the ConfigMap kube-system/lab-twin with `twin: "true"`
 * (scripts/sandbox-lib/twin/faults.ts publishes it), and the faults it lists now. One GET;
 * no such ConfigMap (404), a plain sandbox (`twin: "false"`) and any failure are all `undefined`:
 * this never throws and never stops a run. Faults that do not parse are left out.
 */
export async function readTwin(
  cluster: Cluster,
  deadlineMs = 5_000,
): Promise<{ faults: RehearsalFault[] } | undefined> {
  try {
    const cm = await cluster.core.readNamespacedConfigMap(
      { namespace: 'kube-system', name: 'lab-twin' },
      cluster.within(deadlineMs),
    );
    if (cm.data?.twin !== 'true') return undefined;
    const { rehearsalFaultSchema } = await import('../record/schema.ts');
    let listed: unknown = [];
    try {
      listed = JSON.parse(cm.data.faults ?? '[]');
    } catch {
      listed = [];
    }
    const faults = (Array.isArray(listed) ? listed : []).flatMap((f) => {
      const parsed = rehearsalFaultSchema.safeParse(f);
      return parsed.success ? [parsed.data] : [];
    });
    return { faults };
  } catch {
    return undefined;
  }
}
