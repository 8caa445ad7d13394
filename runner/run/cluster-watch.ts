import pc from 'picocolors';
import type { HeldLease } from '../cluster/lease.ts';
import type { Session } from './session.ts';
import { readTwin, recordRehearsal, snapshotSlot } from './cluster-link.ts';

/**
 * What a run does with its cluster around the steps: the cluster-wide lock (taken
 * before anything is written or run, so a refusal leaves nothing behind), the
 * snapshot before the first step, the lock's health before every step, and the
 * snapshot after the last step (also after a failure or Ctrl-C) and the release.
 * A run without a cluster, or whose API did not answer (api: optional), gets a
 * watch that records why there are no snapshots and does nothing else.
 */

export interface ClusterWatch {
  before(): Promise<void>;
  /** Why the run must stop before its next step (the lock went to someone else), or undefined. Asks the API. */
  lost(): Promise<string | undefined>;
  /** `stopping`: the run was interrupted, so the snapshot waits less for an API that may be gone. */
  after(stopping?: boolean): Promise<void>;
  release(): Promise<void>;
}

/** The after-snapshot waits this long for the API at most; after Ctrl-C, less (a stopping run should not hang on it). */
const AFTER_DEADLINE_MS = 5_000;
const AFTER_STOPPING_MS = 2_000;

export async function watchCluster(s: Session, say: (line: string) => void): Promise<ClusterWatch> {
  const { record } = s;
  if (!s.cluster)
    return { before: async () => {}, lost: async () => undefined, after: async () => {}, release: async () => {} };
  const { link, name } = s.cluster;
  const client = link.client;
  let lease: HeldLease | undefined;
  if (client && s.cluster.lease) {
    const { takeClusterLease } = await import('../cluster/lease.ts');
    lease = await takeClusterLease(
      client,
      name,
      {
        operator: record.operator,
        host: record.host,
        runbook: record.runbook.id,
        runId: record.runId,
        startedAt: record.startedAt,
        pid: String(process.pid),
      },
      { onNote: (message: string) => say(`${pc.yellow('note')} ${s.masker.mask(message)}`) },
    );
    record.lease = {
      namespace: lease.namespace,
      name: lease.name,
      ...(lease.takenOver ? { takenOver: lease.takenOver } : {}),
      ...(record.lease?.lost ? { lost: record.lease.lost } : {}), // a resume keeps the account of an earlier session's loss
    };
    const over = lease.takenOver ? ` (took over an expired lock of ${lease.takenOver.holder})` : '';
    say(pc.dim(`cluster lock ${lease.namespace}/${lease.name} held for this run${over}`));
  }
  const why = link.error;
  return {
    before: async () => {
      // A resume keeps the run's first before-snapshot: the cluster as it was when the procedure began.
      if (record.snapshots?.before) return;
      record.snapshots = { ...record.snapshots, before: await snapshotSlot(client, why) };
    },
    lost: async () => {
      const reason = await lease?.confirm();
      if (reason && record.lease) record.lease.lost = reason;
      return reason && `the cluster lock was lost: ${reason}. Nothing more was run; check the cluster, then resume.`;
    },
    after: async (stopping = false) => {
      if (!record.snapshots?.before) return; // the run never got to its first step
      const deadline = stopping ? AFTER_STOPPING_MS : AFTER_DEADLINE_MS;
      const [after, twin] = await Promise.all([
        snapshotSlot(client, why, deadline),
        client && link.twin ? readTwin(client, deadline) : undefined,
      ]);
      record.snapshots.after = after;
      if (twin) recordRehearsal(record, twin.faults); // faults injected while it ran
    },
    release: async () => {
      await lease?.release();
    },
  };
}
