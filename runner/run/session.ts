import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/** A path as the operator would type it from here. */
const shown = (file: string) => (relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file));
import pc from 'picocolors';
import type { Plan } from '../plan/plan.ts';
import type { RunRecord } from '../record/schema.ts';
import { writeRecord } from '../record/store.ts';
import { acquireLock } from '../record/lock.ts';
import { createExecutors } from '../execute/executors.ts';
import type { Masker } from '../secrets/mask.ts';
import { formatDuration } from '../format/duration.ts';
import { EXIT, UsageError } from '../errors.ts';
import { createProgress, summaryTable, STATUS_STYLE } from './progress.ts';
import { askToRun } from './confirm.ts';
import { runSteps, type LoopOutcome } from './loop.ts';

/** Everything a run (or a resume) has settled before the first step: what to run, where to record it. */
export interface Session {
  root: string;
  plan: Plan;
  record: RunRecord;
  file: string;
  /** Plan indices to run now, in order. */
  indices: number[];
  env: Record<string, string>;
  masker: Masker;
  yes: boolean;
  json: boolean;
  /** The command that continues this run, flags included. */
  resumeCommand: string;
  /** Cleanup of per-run temp files (a pinned kubeconfig). */
  tempDir?: string;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** A per-run folder for files the steps need (removed when the run ends). */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'runbook-run-'));
}

/**
 * Runs a prepared session: takes the runbook's lock, writes the record before the
 * first step and after every step, turns Ctrl-C into a graceful stop, and ends
 * with a summary. Returns the exit code.
 */
export async function executeSession(s: Session): Promise<number> {
  const { record } = s;
  const lock = acquireLock({ runbook: record.runbook.id, runId: record.runId, pid: process.pid, host: record.host, startedAt: new Date().toISOString() });
  if ('heldBy' in lock) {
    const h = lock.heldBy;
    throw new UsageError(`${record.runbook.id} is already running on this machine: run ${h.runId}, pid ${h.pid}, started ${h.startedAt}. Wait for it to finish (a lock left by a dead process is taken over automatically).`);
  }
  const out = s.json ? process.stderr : process.stdout;
  const progress = createProgress(out);
  // RUNBOOK_GRACE_MS sets the wait between SIGINT, SIGTERM and SIGKILL (default 3 s after Ctrl-C, 2 s after a timeout).
  const grace = Number(process.env.RUNBOOK_GRACE_MS) || undefined;
  const executors = createExecutors(grace ? { interruptGraceMs: grace, killGraceMs: grace } : {});
  const controller = new AbortController();
  const sessionStart = performance.now();
  const priorMs = record.durationMs ?? 0;
  const save = () => {
    record.durationMs = Math.round(priorMs + performance.now() - sessionStart);
    writeRecord(s.file, record);
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signals++ === 0) {
      progress.note(`${signal}: stopping the running step (SIGINT, then SIGTERM and SIGKILL if it does not exit)…`);
      controller.abort();
    } else progress.note('still stopping…');
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);
  const releaseOnExit = () => lock.release();
  process.once('exit', releaseOnExit);

  let outcome: LoopOutcome = { status: 'interrupted' };
  try {
    save();
    const resuming = record.resumes.length ? ` · resuming at ${record.resumes.at(-1)!.from}` : '';
    out.write(`${pc.bold(record.runbook.title)} ${pc.dim(`· run ${record.runId}${resuming} · record ${shown(s.file)}`)}\n`);
    outcome = await runSteps(
      {
        root: s.root,
        plan: s.plan,
        record,
        save,
        executors,
        masker: s.masker,
        progress,
        env: s.env,
        signal: controller.signal,
        confirm: async (instance) => {
          if (s.yes) return true;
          progress.pause();
          return askToRun(instance, out, controller.signal);
        },
      },
      s.indices,
    );
  } finally {
    // Whatever happened (even an internal error), the record must not stay `running`.
    progress.close();
    record.status = outcome.status;
    record.endedAt = new Date().toISOString();
    try {
      save();
    } finally {
      await executors.close();
      for (const sig of SIGNALS) process.off(sig, onSignal);
      process.off('exit', releaseOnExit);
      lock.release();
      if (s.tempDir) rmSync(s.tempDir, { recursive: true, force: true });
    }
  }

  out.write(`\n${summaryTable(record)}\n\n`);
  const took = formatDuration(record.durationMs ?? 0);
  out.write(`${STATUS_STYLE[outcome.status](`Run ${outcome.status}`)} in ${took}. Record: ${shown(s.file)}\n`);
  if (outcome.declined) out.write(`Stopped before ${outcome.declined}: not confirmed.\n`);
  if (outcome.status !== 'succeeded') out.write(`Resume with: ${pc.bold(s.resumeCommand)}\n`);
  if (s.json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  return outcome.status === 'succeeded' ? EXIT.ok : outcome.status === 'failed' ? EXIT.stepFailed : EXIT.interrupted;
}
