import type { RunRecord, RunStatus, StepRecord } from '../../runner/record/schema.ts';
import { kindOf, type RunKind } from '../../runner/record/view.ts';

/**
 * The lab's reliability targets (seed 004: RTO under 1 h, RPO under 24 h, MTTR under 30 min;
 * refined per tier on the roadmap) measured from run records. Pure functions over records,
 * so the roadmap, the landing and the tests read the same numbers.
 *
 * What counts: a lab run is evidence; a rehearsal on the lab twin is shown beside it but never
 * counted as lab evidence; a run against the plain sandbox is neither and is left out.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What a measurement needs of a run (src/lib/runs.ts's `Run` has it). */
export interface RunEvidence {
  url?: string;
  data: Pick<RunRecord, 'runId' | 'runbook' | 'startedAt' | 'endedAt' | 'steps'>;
  status: RunStatus;
  sandbox: boolean;
  rehearsal: boolean;
}

export type EvidenceKind = 'lab' | 'rehearsal';
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['lab', 'rehearsal'];

/** lab, rehearsal or sandbox, by the one rule (runner/record/view.ts). */
export function evidenceKind(run: RunEvidence): RunKind {
  return kindOf(run);
}

/** A restore path timed from its start (or the first `from` step) to its verifying step. */
export interface RecoveryTarget {
  id: string;
  label: string;
  targetMs: number;
  runbook: string;
  /** Steps whose start starts the clock (the first one the run reached); else the run's start. */
  from?: string[];
  /** Steps whose success ends it: the recovery is verified. Alternatives (tabs) list each. */
  verify: string[];
}

/** A step that, when it succeeds at time T, proves a backup point at T − boundMs. */
export interface BackupEvidence {
  runbook: string;
  step: string;
  /** 0 for the step that takes the backup; the check's bound for a check of a schedule. */
  boundMs: number;
}

export interface RecoveryPointTarget {
  id: string;
  label: string;
  targetMs: number;
  /** The interval of the schedule that should meet the target, and what it is. */
  scheduleMs: number;
  schedule: string;
  evidence: BackupEvidence[];
}

export interface ReliabilityTargets {
  rto: RecoveryTarget[];
  rpo: RecoveryPointTarget[];
  mttr: RecoveryTarget;
}

/** The roadmap's targets, with the steps of the example runbooks that prove them. */
export const RELIABILITY_TARGETS: ReliabilityTargets = {
  rto: [
    {
      id: 'control-plane',
      label: 'Control plane from an etcd snapshot (tier 0)',
      targetMs: HOUR,
      runbook: 'cluster-restore',
      verify: ['ingress-after-restore'],
    },
    {
      id: 'database',
      label: 'PostgreSQL database from a dump (tier 1)',
      targetMs: HOUR,
      runbook: 'postgres-restore',
      verify: ['client-healthy', 'compare-scratch'],
    },
    {
      id: 'namespace',
      label: 'Namespace from Velero, the monthly drill (tier 1)',
      targetMs: HOUR,
      runbook: 'velero-restore-drill',
      // The drill's page: "the clock for the RTO starts here", at the restore.
      from: ['restore-from-schedule', 'restore-from-backup'],
      verify: ['same-data'],
    },
  ],
  rpo: [
    {
      id: 'etcd-on-server',
      label: 'Cluster state, on the server (tier 0)',
      targetMs: 12 * HOUR,
      scheduleMs: 12 * HOUR,
      schedule: 'K3s etcd snapshots at 00:00 and 12:00',
      evidence: [
        { runbook: 'cluster-backup', step: 'save-snapshot', boundMs: 0 },
        { runbook: 'cluster-backup', step: 'scheduled-snapshot-saved', boundMs: 13 * HOUR },
        { runbook: 'cluster-health', step: 'etcd-snapshots-recent', boundMs: 13 * HOUR },
      ],
    },
    {
      id: 'etcd-off-vm',
      label: 'Cluster state, off the VM (tier 0)',
      targetMs: 7 * DAY,
      scheduleMs: 7 * DAY,
      schedule: 'cluster-backup, weekly',
      evidence: [
        { runbook: 'cluster-backup', step: 'verify-etcd-copy', boundMs: 0 },
        { runbook: 'cluster-backup', step: 'verify-sqlite-copy', boundMs: 0 },
        { runbook: '0015-backup-strategy', step: 'etcd-copy-on-nas', boundMs: 8 * DAY },
      ],
    },
    {
      id: 'postgres',
      label: 'PostgreSQL (tier 1)',
      targetMs: DAY,
      scheduleMs: DAY,
      schedule: 'CronJob postgres-nightly-dump at 02:00',
      evidence: [
        { runbook: 'postgres-backup', step: 'dump-databases', boundMs: 0 },
        { runbook: 'postgres-backup', step: 'nightly-last-run', boundMs: 26 * HOUR },
        { runbook: 'cluster-health', step: 'nightly-dump-recent', boundMs: 26 * HOUR },
        { runbook: '0015-backup-strategy', step: 'postgres-nightly-recent', boundMs: 26 * HOUR },
      ],
    },
  ],
  mttr: {
    id: 'node-failure',
    label: 'Single-node failure',
    targetMs: 30 * MINUTE,
    runbook: 'node-failure-recovery',
    verify: ['cluster-healthy-again'],
  },
};

/** One timed recovery: how long the run took from its clock start to the verified step. */
export interface Recovery {
  run: RunEvidence;
  ms: number;
  /** When the recovery was verified. */
  at: string;
}

function ms(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

function succeededSteps(run: RunEvidence, ids: readonly string[]): StepRecord[] {
  return run.data.steps.filter(
    (s) => ids.includes(s.stepId) && s.status === 'succeeded' && ms(s.endedAt) !== undefined,
  );
}

/** The run's recovery time, or undefined when it never reached a verifying step successfully. */
export function recoveryOf(
  run: RunEvidence,
  target: Pick<RecoveryTarget, 'runbook' | 'from' | 'verify'>,
): Recovery | undefined {
  if (run.data.runbook.id !== target.runbook) return undefined;
  // The last verified instance (a ForEach repeats a step per node): the recovery is done when all are.
  const ends = succeededSteps(run, target.verify).map((s) => ms(s.endedAt)!);
  if (ends.length === 0) return undefined;
  const end = Math.max(...ends);
  const starts = (target.from ? run.data.steps.filter((s) => target.from!.includes(s.stepId)) : [])
    .map((s) => ms(s.startedAt))
    .filter((t): t is number => t !== undefined);
  const start = starts.length > 0 ? Math.min(...starts) : ms(run.data.startedAt);
  if (start === undefined || start > end) return undefined;
  return { run, ms: end - start, at: new Date(end).toISOString() };
}

function newestFirst<T extends { at: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

function ofKind(runs: readonly RunEvidence[], kind: EvidenceKind): RunEvidence[] {
  return runs.filter((r) => evidenceKind(r) === kind);
}

export interface RecoveryMeasure {
  /** Every timed recovery of this kind of evidence, newest first. */
  recoveries: Recovery[];
  latest?: Recovery;
  /** The arithmetic mean of all of them (MTTR). */
  meanMs?: number;
}

export function measureRecovery(
  runs: readonly RunEvidence[],
  target: RecoveryTarget,
  kind: EvidenceKind,
): RecoveryMeasure {
  const recoveries = newestFirst(
    ofKind(runs, kind)
      .map((r) => recoveryOf(r, target))
      .filter((r): r is Recovery => r !== undefined),
  );
  const meanMs = recoveries.length === 0 ? undefined : recoveries.reduce((sum, r) => sum + r.ms, 0) / recoveries.length;
  return { recoveries, latest: recoveries[0], meanMs };
}

/** The newest moment a backup is proven to exist, and by which step of which run. */
export interface BackupPoint {
  run: RunEvidence;
  step: string;
  /** The backup point: the step's end minus its bound. */
  at: string;
  /** How old that point is at `now`: the data a loss at `now` would cost. */
  ageMs: number;
}

export function newestBackupPoint(
  runs: readonly RunEvidence[],
  target: RecoveryPointTarget,
  kind: EvidenceKind,
  now: Date,
): BackupPoint | undefined {
  const points: Omit<BackupPoint, 'ageMs'>[] = [];
  for (const run of ofKind(runs, kind)) {
    for (const source of target.evidence) {
      if (run.data.runbook.id !== source.runbook) continue;
      for (const step of succeededSteps(run, [source.step])) {
        points.push({ run, step: source.step, at: new Date(ms(step.endedAt)! - source.boundMs).toISOString() });
      }
    }
  }
  const newest = newestFirst(points)[0];
  return newest && { ...newest, ageMs: Math.max(0, now.getTime() - Date.parse(newest.at)) };
}

export type Verdict = 'met' | 'missed' | 'unmeasured';

export function verdict(measuredMs: number | undefined, targetMs: number): Verdict {
  if (measuredMs === undefined) return 'unmeasured';
  return measuredMs <= targetMs ? 'met' : 'missed';
}

export interface Reliability {
  rto: { target: RecoveryTarget; by: Record<EvidenceKind, RecoveryMeasure> }[];
  rpo: { target: RecoveryPointTarget; scheduleVerdict: Verdict; by: Record<EvidenceKind, BackupPoint | undefined> }[];
  mttr: { target: RecoveryTarget; by: Record<EvidenceKind, RecoveryMeasure> };
}

function byKind<T>(measure: (kind: EvidenceKind) => T): Record<EvidenceKind, T> {
  return { lab: measure('lab'), rehearsal: measure('rehearsal') };
}

/** Every target beside what the records measure, lab runs and rehearsals apart. */
export function measureReliability(
  runs: readonly RunEvidence[],
  now: Date,
  targets: ReliabilityTargets = RELIABILITY_TARGETS,
): Reliability {
  return {
    rto: targets.rto.map((target) => ({ target, by: byKind((k) => measureRecovery(runs, target, k)) })),
    rpo: targets.rpo.map((target) => ({
      target,
      scheduleVerdict: verdict(target.scheduleMs, target.targetMs),
      by: byKind((k) => newestBackupPoint(runs, target, k, now)),
    })),
    mttr: { target: targets.mttr, by: byKind((k) => measureRecovery(runs, targets.mttr, k)) },
  };
}
