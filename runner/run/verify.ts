import { Writable } from 'node:stream';
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import pc from 'picocolors';
import type { Procedure } from '../format/model.ts';
import { projectContext, type ProjectContext, type ProjectOptions } from '../project-context.ts';
import { newRunId } from '../record/store.ts';
import type { StepRecord } from '../record/schema.ts';
import { isFailure, stepTally } from '../record/view.ts';
import { EXIT, UsageError } from '../errors.ts';
import { oneLine } from '../ui/escape.ts';
import { printJson } from '../ui/json.ts';
import { executeSession, type Session } from './session.ts';
import { prepareSession, sourceMasker, withMaskedErrors, type PrepareOptions } from './prepare.ts';
import { resumeCommand } from './start.ts';
import { openNewRecord } from './record.ts';
import { checkIndices, selectPages } from './verify-select.ts';
import {
  pageLine,
  summaryTable,
  totalsLine,
  totalsOf,
  type FailedCheck,
  type PageOutcome,
  type PageResult,
} from './verify-report.ts';

/**
 * `runbook verify`: every `check` step of the project's pages (ADR validations, weekend
 * success criteria, runbook checks) in one read-only sweep, page by page. Each page is a
 * run of that page, made by the same machinery as `runbook run` (prepareSession →
 * executeSession): its check steps run, behind the read-only shims, and every other step
 * is recorded as skipped, so the site shows the sweep as the page's latest run.
 *
 * Unlike a run, a page's sweep goes on after a failed check (each check is its own
 * question about the lab), and the page's record is `failed` if any check failed.
 */

export interface VerifyOptions extends ProjectOptions {
  json?: boolean;
  context?: string;
  /** The session's own output (step headers, step output, its summary) for every page. */
  verbose?: boolean;
}

export async function verifyPages(refs: readonly string[], opts: VerifyOptions): Promise<number> {
  const ctx = projectContext(opts);
  const { pages, named } = selectPages(ctx.root, refs);
  // The cluster once, before any page: a wrong context or a look-alike cluster refuses the whole sweep.
  const { openInventoryCluster } = await import('../cluster/open.ts');
  const open = await openInventoryCluster(ctx, { ...(opts.context ? { context: opts.context } : {}) });
  const dir = await ctx.records('write');
  const log = opts.json ? process.stderr : process.stdout;
  const identity =
    open.identity === 'pinned' ? `uid ${open.uid}` : `uid ${open.uid}, not pinned (runbook inventory pin)`;
  log.write(
    `${pc.bold(`Verifying ${pages.length} page${pages.length === 1 ? '' : 's'}`)} against ${open.inventory.cluster.name} ` +
      `${pc.dim(`· ${open.cluster.server} · ${identity}`)}\n\n`,
  );

  const results: PageResult[] = [];
  let stoppedWith: number | undefined;
  for (const page of pages) {
    const { result, exitCode } = await verifyPage(ctx, page, dir, opts, log);
    results.push(result);
    log.write(pageLine(result));
    if (result.outcome === 'interrupted') {
      stoppedWith = exitCode;
      break;
    }
  }

  const exit = stoppedWith ?? sweepExit(results, named);
  const totals = totalsOf(results, pages.length);
  if (opts.json) {
    printJson({
      ok: exit === EXIT.ok,
      cluster: {
        name: open.inventory.cluster.name,
        server: open.cluster.server,
        uid: open.uid,
        identity: open.identity,
      },
      totals,
      pages: results,
    });
  } else {
    log.write(`\n${summaryTable(results)}\n\n${totalsLine(totals, stoppedWith !== undefined, exit === EXIT.usage)}\n`);
  }
  return exit;
}

/**
 * 1 when any check failed; 2 when a page could not be run at all and was named on the command
 * line (or the runner failed on one); 0 otherwise. A page found by the sweep that cannot run
 * here (it needs a param, a confirmation) is listed as not run and does not fail the sweep.
 */
function sweepExit(results: readonly PageResult[], named: boolean): number {
  if (results.some((r) => r.outcome === 'failed')) return EXIT.stepFailed;
  if (results.some((r) => r.outcome === 'error' || (named && r.outcome === 'not-run'))) return EXIT.usage;
  return EXIT.ok;
}

async function verifyPage(
  ctx: ProjectContext,
  page: Procedure,
  dir: string,
  opts: VerifyOptions,
  log: NodeJS.WriteStream,
): Promise<{ result: PageResult; exitCode: number }> {
  const started = performance.now();
  const base = { id: page.id, title: page.title, kind: page.kind, file: page.file };
  const notRun = (reason: string, outcome: PageOutcome = 'not-run'): { result: PageResult; exitCode: number } => ({
    result: {
      ...base,
      outcome,
      checks: page.steps.filter((s) => s.attrs.check).length,
      passed: 0,
      failed: 0,
      runId: null,
      record: null,
      durationMs: Math.round(performance.now() - started),
      reason,
      failures: [],
    },
    exitCode: EXIT.usage,
  });
  const showing = opts.verbose === true;
  if (log.isTTY && !showing) log.write(pc.dim(`… ${page.id}`));
  const clearLive = () => {
    if (log.isTTY && !showing) log.write('\r\x1b[2K');
  };

  const runId = newRunId(page.id);
  let session: Session;
  try {
    session = await openCheckSession(ctx, page, runId, dir, opts);
  } catch (err) {
    clearLive();
    if (!(err instanceof UsageError)) throw err;
    return notRun(err.message);
  }

  // A sweep asks every check its question, also after one failed (see the module comment).
  session.keepGoing = true;
  // The session's --json would print its record on stdout, inside verify's own JSON.
  session.json = false;
  let exitCode: number;
  try {
    exitCode = await executeSession(session);
  } catch (err) {
    clearLive();
    if (!(err instanceof UsageError)) throw err;
    // Refused before its first step (another run of the page holds the lock) or its record could not be written.
    return notRun(err.message, 'error');
  } finally {
    if (session.tempDir) rmSync(session.tempDir, { recursive: true, force: true });
  }
  clearLive();

  return {
    result: { ...base, ...checkResults(session, runId), durationMs: Math.round(performance.now() - started) },
    exitCode,
  };
}

/** A page's session for its check steps only, with a new record (params as a run would see them; no --set in a sweep). */
function openCheckSession(
  ctx: ProjectContext,
  page: Procedure,
  runId: string,
  dir: string,
  opts: VerifyOptions,
): Promise<Session> {
  const sets: Record<string, string> = {};
  return withMaskedErrors(sourceMasker(page, sets, process.env), () =>
    prepareSession(
      ctx,
      {
        procedure: page,
        sets,
        paramEnv: process.env,
        select: checkIndices,
        open: openNewRecord(ctx.root, dir, page.id, runId),
        resumeCommand: resumeCommand(runId, opts),
      },
      prepareOptions(opts),
    ),
  );
}

/** How a page's checks ended, from its session's record. */
function checkResults(session: Session, runId: string) {
  const { record } = session;
  const checks = session.indices.map((i) => record.steps[i - 1]!);
  // An interrupted check did not fail: it was stopped (and the sweep with it).
  const failed = checks.filter((s) => isFailure(s.status));
  const tally = stepTally({ steps: checks });
  const interrupted = record.status === 'interrupted' || checks.some((s) => s.status === 'interrupted');
  return {
    outcome: (interrupted ? 'interrupted' : failed.length ? 'failed' : 'passed') as PageOutcome,
    checks: tally.total,
    passed: tally.succeeded,
    failed: failed.length,
    runId,
    record: shown(session.file),
    failures: failed.map(failedCheck),
  };
}

function prepareOptions(opts: VerifyOptions): PrepareOptions {
  // assumeCluster: pages without a `runbook.cluster` (ADRs, weekends) are about the inventory's
  // cluster too, so the context guard, the pinned kubeconfig and the identity check apply to them.
  return {
    yes: false,
    json: opts.json === true,
    assumeCluster: true,
    out: sessionStream(opts),
    ...(opts.context ? { context: opts.context } : {}),
  };
}

function failedCheck(step: StepRecord): FailedCheck {
  const nodeTargets = step.targets.filter((t) => t.target !== 'local' && t.status !== 'succeeded');
  // ssh never started the step: the node did not answer (or refused us), so the check said nothing about it.
  const unreachable =
    nodeTargets.length > 0 &&
    nodeTargets.every((t) => t.exitCode === null && t.attempts > 0 && !!t.error && t.status === 'failed');
  const output = step.output || step.targets.map((t) => t.output).join('\n');
  const last = output.trimEnd().split('\n').at(-1)?.trim();
  return {
    step: step.id,
    line: step.line ?? null,
    status: step.status,
    unreachable,
    // A fan-out's error reads `node: <the target's error>`, and ssh's explanation names the node again.
    error: step.error?.replace(/^([^:\s]+): \1\b/, '$1') ?? null,
    lastOutput: last ? oneLine(last).slice(0, 160) : null,
  };
}

/**
 * Where one page's session writes: --verbose shows it (on stderr with --json, whose stdout is
 * verify's JSON alone); otherwise nowhere, so a sweep of thirty pages reads as thirty lines.
 * The record keeps every step's output either way.
 */
function sessionStream(opts: VerifyOptions): NodeJS.WriteStream {
  if (opts.verbose) return opts.json ? process.stderr : process.stdout;
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  return Object.assign(quiet, { isTTY: false }) as unknown as NodeJS.WriteStream;
}

/** A path as the operator would type it from here. */
const shown = (file: string) => (relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file));
