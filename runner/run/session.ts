import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pc from 'picocolors';
import type { Plan } from '../plan/plan.ts';
import type { RunRecord } from '../record/schema.ts';
import { RecordWriteError, writeRecord } from '../record/store.ts';
import { takeRunLock } from '../record/lock.ts';
import { createExecutors } from '../execute/executors.ts';
import type { Masker } from '../secrets/mask.ts';
import { formatDuration } from '../format/duration.ts';
import { EXIT, UsageError } from '../errors.ts';
import { createProgress, guardTerminal, type Progress, STATUS_STYLE, summaryTable } from './progress.ts';
import { askToRun } from './confirm.ts';
import { runSteps, type LoopOutcome } from './loop.ts';
import type { ClusterLink } from './cluster-link.ts';
import { watchCluster, type ClusterWatch } from './cluster-watch.ts';

/** A path as the operator would type it from here. */
const shown = (file: string) => (relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file));

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
  /** Where the session's progress and messages go; default stdout (stderr with --json). verify hands a quiet one. */
  out?: NodeJS.WriteStream;
  /** Go on to the next selected step after a failed one; the run still ends `failed` (verify asks every check). */
  keepGoing?: boolean;
  /** The cluster the run is tied to (pages that name one): its API client, whether the run takes the cluster lock. */
  cluster?: { link: ClusterLink; name: string; lease: boolean };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** The shell's convention, 128 + the signal number: 130 Ctrl-C, 143 SIGTERM, 129 a closed terminal. */
const exitForSignal = (signal: NodeJS.Signals) => 128 + constants.signals[signal];

/** A per-run folder for files the steps need (removed when the run ends). */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'runbook-run-'));
}

/**
 * Runs a prepared session: takes the runbook's lock, writes the record before the
 * first step and after every step, turns Ctrl-C, SIGTERM and a closed terminal
 * into a graceful stop, and ends with a summary. Returns the exit code.
 *
 * A record that cannot be written stops the run before the next step: the step
 * is not reported as succeeded, the last complete record stays on disk, and the
 * run ends with exit 2 and one line naming the folder and the cause.
 */
export async function executeSession(s: Session): Promise<number> {
  const { record } = s;
  const lock = takeRunLock({
    runbook: record.runbook.id,
    runId: record.runId,
    pid: process.pid,
    host: record.host,
    startedAt: new Date().toISOString(),
  });
  const out = s.out ?? (s.json ? process.stderr : process.stdout);
  let cluster: ClusterWatch;
  try {
    cluster = await watchCluster(s, (line) => out.write(`${line}\n`));
  } catch (err) {
    lock.release();
    throw err;
  }
  const progress = createProgress(out);
  // RUNBOOK_GRACE_MS sets the wait between SIGINT, SIGTERM and SIGKILL (default 3 s after Ctrl-C, 2 s after a timeout).
  const grace = Number(process.env.RUNBOOK_GRACE_MS) || undefined;
  const executors = createExecutors({
    ...(grace ? { interruptGraceMs: grace, killGraceMs: grace } : {}),
    runId: record.runId,
  });
  const controller = new AbortController();
  const sessionStart = performance.now();
  const priorMs = record.durationMs ?? 0;
  // A resumed run's file is its last complete record until this session writes a newer one.
  let onDisk = existsSync(s.file);
  const save = () => {
    record.durationMs = Math.round(priorMs + performance.now() - sessionStart);
    writeRecord(s.file, record);
    onDisk = true;
  };

  const stop = stopOnSignals(progress, controller);
  const releaseOnExit = () => lock.release();
  process.once('exit', releaseOnExit);

  let outcome: LoopOutcome = { status: 'interrupted' };
  let writeFailure: RecordWriteError | undefined;
  const noteFailure = (err: unknown) => {
    if (!(err instanceof RecordWriteError)) throw err;
    writeFailure ??= err;
  };
  try {
    await cluster.before();
    save();
    const resuming = record.resumes.length ? ` · resuming at ${record.resumes.at(-1)!.from}` : '';
    out.write(
      `${pc.bold(record.runbook.title)} ${pc.dim(`· run ${record.runId}${resuming} · record ${shown(s.file)}`)}\n`,
    );
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
        beforeStep: () => cluster.lost(),
        keepGoing: s.keepGoing === true,
        confirm: async (instance) => {
          if (s.yes) return true;
          progress.pause();
          return askToRun(instance, out, controller.signal);
        },
      },
      s.indices,
    );
  } catch (err) {
    noteFailure(err);
  } finally {
    // Whatever happened (even an internal error), the record must not stay `running`.
    progress.close();
    record.status = outcome.status;
    // Also after a failure or Ctrl-C: what the cluster looks like now is the evidence a review needs most.
    await cluster.after(stop.by() !== undefined);
    record.endedAt = new Date().toISOString();
    try {
      save();
    } catch (err) {
      // After an earlier failure this last try may fail too; the first cause is the one to report.
      if (writeFailure === undefined) noteFailure(err);
    } finally {
      await executors.close();
      stop.dispose();
      process.off('exit', releaseOnExit);
      await cluster.release();
      lock.release();
      if (s.tempDir) rmSync(s.tempDir, { recursive: true, force: true });
    }
  }
  if (writeFailure) throw new UsageError(writeFailureLine(writeFailure, onDisk ? s.file : undefined, s.resumeCommand));
  return reportOutcome(s, out, outcome, stop.by());
}

/**
 * Ctrl-C, SIGTERM, SIGHUP and a closed terminal (EIO on our own output) abort the run's controller,
 * once: the running step is stopped gracefully and no later step starts. `by()` is the first signal.
 */
function stopOnSignals(progress: Progress, controller: AbortController) {
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy === undefined) {
      stoppedBy = signal;
      progress.note(`${signal}: stopping the running step (SIGINT, then SIGTERM and SIGKILL if it does not exit)…`);
      controller.abort();
    } else progress.note('still stopping…');
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);
  const unguard = guardTerminal([process.stdout, process.stderr], () => onSignal('SIGHUP'));
  return {
    by: () => stoppedBy,
    dispose() {
      for (const sig of SIGNALS) process.off(sig, onSignal);
      unguard();
    },
  };
}

/** The run's last words: the summary table, how it ended, what to do next; returns the exit code. */
function reportOutcome(
  s: Session,
  out: NodeJS.WritableStream,
  outcome: LoopOutcome,
  stoppedBy: NodeJS.Signals | undefined,
): number {
  const { record } = s;
  out.write(`\n${summaryTable(record)}\n\n`);
  const took = formatDuration(record.durationMs ?? 0);
  out.write(`${STATUS_STYLE[outcome.status](`Run ${outcome.status}`)} in ${took}. Record: ${shown(s.file)}\n`);
  if (outcome.declined) out.write(`Stopped before ${outcome.declined}: not confirmed.\n`);
  if (outcome.stoppedBefore)
    out.write(`Stopped before ${outcome.stoppedBefore.step}: ${outcome.stoppedBefore.reason}\n`);
  if (outcome.status !== 'succeeded') out.write(`Resume with: ${pc.bold(s.resumeCommand)}\n`);
  if (s.json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  if (outcome.status === 'succeeded') return EXIT.ok;
  if (outcome.status === 'failed') return EXIT.stepFailed;
  if (outcome.stoppedBefore) return EXIT.usage;
  return stoppedBy ? exitForSignal(stoppedBy) : EXIT.interrupted;
}

/** The one line a run ends with when its record could not be written: where, why, what is left, what to do. */
function writeFailureLine(err: RecordWriteError, lastComplete: string | undefined, resumeCommand: string): string {
  if (!lastComplete) return `${err.message}; nothing was run. Fix the folder (or pass --records DIR) and run again.`;
  const last = `the last complete record is ${shown(lastComplete)}`;
  return `${err.message}; ${last}. Once the folder is writable: ${resumeCommand}`;
}
