import { hostname } from 'node:os';
import { getCollection, type CollectionEntry } from 'astro:content';
import { effectiveStatus, type RunStatus, type StepRecord } from '../../runner/record/schema.ts';
import type { Procedure } from '../../runner/format/model.ts';
import { isSandboxServer } from '../../runner/record/sandbox.ts';

/**
 * Run records joined to procedures. Records come from the `runs` collection
 * (validated by the runner's schema); a record's procedure is the page whose
 * runner id matches `record.runbook.id`.
 */
export type RunEntry = CollectionEntry<'runs'>;

export interface Run {
  entry: RunEntry;
  id: string;
  url: string;
  data: RunEntry['data'];
  /** `running` records whose process is gone are shown as interrupted. */
  status: RunStatus;
  /** Run against the sandbox (a loopback API server), not the lab: shown, never counted as verification. */
  sandbox: boolean;
  /** A rehearsal on the lab twin (the record's `rehearsal`): shown as "rehearsed", never counted as verification. */
  rehearsal: boolean;
}

/** Runs against the lab itself: the evidence that figures, badges and "verified" read. Rehearsals never are. */
export function labRuns(runs: Run[]): Run[] {
  return runs.filter((r) => !r.sandbox && !r.rehearsal);
}

/** The newest successful rehearsal on the lab twin: what "rehearsed N days ago" reads. */
export function lastRehearsal(runs: Run[]): Run | undefined {
  return runs.find((r) => r.rehearsal && r.status === 'succeeded');
}

const HERE = {
  host: hostname(),
  isAlive(pid: number) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  },
};

let memo: Promise<Run[]> | undefined;

/** Every run, newest first. Memoised for a production build, where records cannot change. */
export function allRuns(): Promise<Run[]> {
  if (memo && import.meta.env.PROD) return memo;
  memo = getCollection('runs').then((entries) =>
    entries
      .map((entry) => ({
        entry,
        id: entry.id,
        url: runUrl(entry.id),
        data: entry.data,
        status: effectiveStatus(entry.data, HERE),
        sandbox: isSandboxServer(entry.data.cluster.server),
        rehearsal: entry.data.rehearsal !== undefined,
      }))
      .sort((a, b) => b.data.startedAt.localeCompare(a.data.startedAt)),
  );
  return memo;
}

export function runUrl(id: string): string {
  return `/runs/${id}/`;
}

/** Runs of one procedure, newest first. */
export async function runsOf(procedureId: string): Promise<Run[]> {
  return (await allRuns()).filter((r) => r.data.runbook.id === procedureId);
}

export function lastSuccess(runs: Run[]): Run | undefined {
  return runs.find((r) => r.status === 'succeeded' && !r.sandbox && !r.rehearsal);
}

/** A step result that says something (not still pending, not skipped by a tab choice). */
const REPORTED = new Set(['succeeded', 'failed', 'timed-out', 'interrupted', 'running']);

export interface StepResult {
  run: Run;
  /** One record per instance: several inside a ForEach (`step@node`). */
  instances: StepRecord[];
  /** The worst status across instances. */
  status: StepRecord['status'];
}

const SEVERITY: StepRecord['status'][] = ['failed', 'timed-out', 'interrupted', 'running', 'pending', 'skipped', 'succeeded'];

export function worstStatus(statuses: StepRecord['status'][]): StepRecord['status'] {
  return SEVERITY.find((s) => statuses.includes(s)) ?? 'pending';
}

/** For each step id, its instances in the newest lab run that reached it. */
export function latestStepResults(procedure: Procedure, runs: Run[]): Map<string, StepResult> {
  const results = new Map<string, StepResult>();
  for (const step of procedure.steps) {
    for (const run of labRuns(runs)) {
      const instances = run.data.steps.filter((s) => s.stepId === step.id && REPORTED.has(s.status));
      if (instances.length === 0) continue;
      const status = run.status === 'interrupted' ? instances.map((i) => (i.status === 'running' ? 'interrupted' : i.status)) : instances.map((i) => i.status);
      results.set(step.id, { run, instances, status: worstStatus(status) });
      break;
    }
  }
  return results;
}

/**
 * Steps whose text differs from the last successful run: what was verified is
 * no longer what the page says (`changed`), or the step did not exist then (`new`).
 */
export function staleSteps(procedure: Procedure, runs: Run[]): Map<string, 'changed' | 'new'> {
  const success = lastSuccess(runs);
  const stale = new Map<string, 'changed' | 'new'>();
  if (!success) return stale;
  for (const step of procedure.steps) {
    const recorded = success.data.stepHashes[step.id];
    if (recorded === undefined) stale.set(step.id, 'new');
    else if (recorded !== step.hash) stale.set(step.id, 'changed');
  }
  return stale;
}

/** Anchor of a step instance on its run page. */
export function instanceAnchor(instanceId: string): string {
  return `i-${instanceId}`;
}
