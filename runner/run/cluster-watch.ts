import pc from 'picocolors';
import type { HeldLease } from '../cluster/lease.ts';
import type { Session } from './session.ts';
import { snapshotSlot } from './cluster-link.ts';

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
  /** Why the run must stop before its next step (the lock went to someone else), or undefined. */
  lost(): string | undefined;
  after(): Promise<void>;
  release(): Promise<void>;
}

/** The after-snapshot of a stopping run waits this long for the API at most (a Ctrl-C should not hang on it). */
const AFTER_DEADLINE_MS = 5_000;

export async function watchCluster(s: Session, say: (line: string) => void): Promise<ClusterWatch> {
  const { record } = s;
  if (!s.cluster) return { before: async () => {}, lost: () => undefined, after: async () => {}, release: async () => {} };
  const { link, name } = s.cluster;
  const client = link.client;
  let lease: HeldLease | undefined;
  if (client && s.cluster.lease) {
    const { takeClusterLease } = await import('../cluster/lease.ts');
    lease = await takeClusterLease(
      client,
      name,
      { operator: record.operator, host: record.host, runbook: record.runbook.id, runId: record.runId, startedAt: record.startedAt },
      { onNote: (message: string) => say(`${pc.yellow('note')} ${s.masker.mask(message)}`) },
    );
    record.lease = { namespace: lease.namespace, name: lease.name, ...(lease.takenOver ? { takenOver: lease.takenOver } : {}) };
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
    lost: () => {
      const reason = lease?.lost();
      if (reason && record.lease) record.lease.lost = reason;
      return reason && `the cluster lock was lost: ${reason}. Nothing more was run; check the cluster, then resume.`;
    },
    after: async () => {
      if (!record.snapshots?.before) return; // the run never got to its first step
      record.snapshots.after = await snapshotSlot(client, why, AFTER_DEADLINE_MS);
    },
    release: async () => {
      await lease?.release();
    },
  };
}
