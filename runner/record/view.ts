import { hostname } from 'node:os';
import type { RunRecord, RunStatus, StepRecord, StepStatus } from './schema.ts';
import { isSandboxServer } from './sandbox.ts';
import { pidAlive } from '../execute/process-group.ts';

/**
 * What a run record means, for every reader: the CLI (`history`, `show`, `resume`) and each
 * site component. A record says what the runner last wrote; a reader needs what is true now
 * (a `running` record whose runner died), which kind of evidence it is (lab, rehearsal,
 * sandbox), and what it proves about a page (the last good lab run, the steps changed since,
 * how many days ago). Pure functions over records; the one outside fact, whether a pid is
 * alive on this host, is injected (`Here`), so tests and other hosts give their own.
 */

// ── Status now ──────────────────────────────────────────────────────────────

/** The host a reader runs on, and how it tells whether a pid there is alive. */
export interface Here {
  host: string;
  isAlive(pid: number): boolean;
}

/**
 * This machine, with the runner's one pid check (runner/execute/process-group.ts): EPERM
 * counts as alive (the process exists; it belongs to another user), a zombie as gone.
 */
export function hereOnThisHost(isAlive: (pid: number) => boolean = pidAlive): Here {
  return { host: hostname(), isAlive };
}

/**
 * A record still marked `running` whose process is gone was interrupted (the runner was
 * killed before it could say so). Only the host that ran it can tell whether the process is
 * alive; on any other host, or with no `here` at all, a `running` record reads interrupted.
 */
export function effectiveRunStatus(
  record: Pick<RunRecord, 'status' | 'pid' | 'host'>,
  here: Here | undefined,
): RunStatus {
  if (record.status !== 'running') return record.status;
  if (here && record.host === here.host) return here.isAlive(record.pid) ? 'running' : 'interrupted';
  return 'interrupted';
}

/** The status a reader on this machine should believe (`runbook history`, `show`, `resume`). */
export function statusHere(record: Pick<RunRecord, 'status' | 'pid' | 'host'>): RunStatus {
  return effectiveRunStatus(record, hereOnThisHost());
}

/** A step (or one of its targets) left `running` in an interrupted run was interrupted with it. */
export function effectiveStepStatus(status: StepStatus, run: RunStatus): StepStatus {
  return status === 'running' && run === 'interrupted' ? 'interrupted' : status;
}

// ── Severity ────────────────────────────────────────────────────────────────

/**
 * Worst first: the status a step folded over its nodes takes, and the one a page shows for
 * a step's instances. `failed` outranks `interrupted`: a failure is evidence that something
 * in the lab or the page is wrong (a command said no), while an interruption says only that
 * the run was stopped (Ctrl-C, a lost lease) and nothing about the lab. An operator looking
 * at a step where one node failed and another was cut off must see the failure, or they
 * resume where they should investigate. `timed-out` is a failure that never answered, so it
 * comes right after; `running` and `pending` say nothing happened yet, and `skipped` only
 * that a choice left the step out.
 */
export const SEVERITY: readonly StepStatus[] = [
  'failed',
  'timed-out',
  'interrupted',
  'running',
  'pending',
  'skipped',
  'succeeded',
];

/** A status that says the step's command answered no (`failed`) or never answered (`timed-out`). */
export function isFailure(status: StepStatus): boolean {
  return status === 'failed' || status === 'timed-out';
}

/** 0 for the worst; a total order over every step (and run) status. */
export function severityRank(status: StepStatus): number {
  return SEVERITY.indexOf(status);
}

/** The worst of `statuses`; `pending` when there are none. */
export function worstStatus(statuses: readonly StepStatus[]): StepStatus {
  return SEVERITY.find((s) => statuses.includes(s)) ?? 'pending';
}

/** The item with the worst status (the first of equals); undefined for none. */
export function worstOf<T extends { status: StepStatus }>(items: readonly T[]): T | undefined {
  let worst: T | undefined;
  for (const item of items) {
    if (worst === undefined || severityRank(item.status) < severityRank(worst.status)) worst = item;
  }
  return worst;
}

// ── Kind and tallies ────────────────────────────────────────────────────────

/**
 * `lab`: evidence about the lab. `rehearsal`: the lab twin (the record's `rehearsal`), shown
 * beside lab evidence, never counted as it. `sandbox`: a loopback API server, neither.
 */
export type RunKind = 'lab' | 'rehearsal' | 'sandbox';

export function kindOf(run: { rehearsal: boolean; sandbox: boolean }): RunKind {
  if (run.rehearsal) return 'rehearsal';
  return run.sandbox ? 'sandbox' : 'lab';
}

/** A record as a reader sees it: the record, its status now, and what kind of evidence it is. */
export interface RunView {
  data: RunRecord;
  status: RunStatus;
  kind: RunKind;
  /** The API server was on loopback (the sandbox, or the twin's). */
  sandbox: boolean;
  /** Ran on the lab twin. */
  rehearsal: boolean;
}

export function viewRun(record: RunRecord, here: Here | undefined): RunView {
  const rehearsal = record.rehearsal !== undefined;
  const sandbox = isSandboxServer(record.cluster.server);
  const status = effectiveRunStatus(record, here);
  return { data: record, status, kind: kindOf({ rehearsal, sandbox }), sandbox, rehearsal };
}

export function stepTally(record: Pick<RunRecord, 'steps'>): { total: number; succeeded: number } {
  return { total: record.steps.length, succeeded: record.steps.filter((s) => s.status === 'succeeded').length };
}

/** `3/5`: succeeded of all step instances. */
export function tallyText(record: Pick<RunRecord, 'steps'>): string {
  const { succeeded, total } = stepTally(record);
  return `${succeeded}/${total}`;
}

/** The step instance a run that did not succeed stopped at (the first that neither succeeded nor was left out). */
export function stoppedAt(record: Pick<RunRecord, 'status' | 'steps'>): string | undefined {
  if (record.status === 'succeeded') return undefined;
  return record.steps.find((s) => s.status !== 'succeeded' && s.status !== 'skipped' && s.status !== 'pending')?.id;
}

/** Per node, whether the nodes came from a ForEach (one instance each) or a fan-out (one target each). */
export function nodeTally(instances: readonly StepRecord[]): { total: number; succeeded: number } {
  const perNode = instances.flatMap((i) =>
    i.targets.length > 1 ? i.targets.map((t) => t.status) : i.node ? [i.status] : [],
  );
  return { total: perNode.length, succeeded: perNode.filter((s) => s === 'succeeded').length };
}

// ── What the runs prove about a page ────────────────────────────────────────
// Every list of runs below is newest first, as readers keep them.

export function labRuns<R extends RunView>(runs: readonly R[]): R[] {
  return runs.filter((r) => r.kind === 'lab');
}

/** The newest successful lab run: what "verified" and staleness read. */
export function lastGoodLabRun<R extends RunView>(runs: readonly R[]): R | undefined {
  return runs.find((r) => r.kind === 'lab' && r.status === 'succeeded');
}

/** The newest successful rehearsal on the lab twin: what "rehearsed N days ago" reads. */
export function lastGoodRehearsal<R extends RunView>(runs: readonly R[]): R | undefined {
  return runs.find((r) => r.kind === 'rehearsal' && r.status === 'succeeded');
}

const DAY_MS = 86_400_000;

/** Whole days from `iso` to `now`, never negative. */
export function daysSince(iso: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - new Date(iso).getTime()) / DAY_MS));
}

/** When a run's result was known: its end, or its start for a record without one. */
export function finishedAt(run: RunView): string {
  return run.data.endedAt ?? run.data.startedAt;
}

export function daysSinceVerified(runs: readonly RunView[], now: Date): number | undefined {
  const good = lastGoodLabRun(runs);
  return good && daysSince(finishedAt(good), now);
}

export function daysSinceRehearsed(runs: readonly RunView[], now: Date): number | undefined {
  const good = lastGoodRehearsal(runs);
  return good && daysSince(finishedAt(good), now);
}

export type Staleness = 'changed' | 'new';

/**
 * Steps whose text differs from the last good lab run: what was verified is no longer what
 * the page says (`changed`), or the step did not exist then (`new`). Empty when never verified.
 */
export function staleSteps(
  steps: readonly { id: string; hash: string }[],
  runs: readonly RunView[],
): Map<string, Staleness> {
  const good = lastGoodLabRun(runs);
  const stale = new Map<string, Staleness>();
  if (!good) return stale;
  for (const step of steps) {
    const recorded = good.data.stepHashes[step.id];
    if (recorded === undefined) stale.set(step.id, 'new');
    else if (recorded !== step.hash) stale.set(step.id, 'changed');
  }
  return stale;
}

/** A step result that says something: not still pending, not skipped by a tab choice. */
const REPORTED: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'timed-out', 'interrupted', 'running']);

export interface StepResult<R extends RunView = RunView> {
  run: R;
  /** One record per instance: several inside a ForEach (`step@node`). */
  instances: StepRecord[];
  /** The worst effective status across the instances. */
  status: StepStatus;
}

/** For each step id, its instances in the newest lab run that reached it. */
export function latestStepResults<R extends RunView>(
  steps: readonly { id: string }[],
  runs: readonly R[],
): Map<string, StepResult<R>> {
  const results = new Map<string, StepResult<R>>();
  const lab = labRuns(runs);
  for (const step of steps) {
    for (const run of lab) {
      const instances = run.data.steps.filter((s) => s.stepId === step.id && REPORTED.has(s.status));
      if (instances.length === 0) continue;
      const status = worstStatus(instances.map((i) => effectiveStepStatus(i.status, run.status)));
      results.set(step.id, { run, instances, status });
      break;
    }
  }
  return results;
}
