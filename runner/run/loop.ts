import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Plan, StepInstance, Target } from '../plan/plan.ts';
import type { RunRecord, StepRecord, StepStatus, TargetResult } from '../record/schema.ts';
import { applyScript, type ExecResult } from '../execute/types.ts';
import { createApplyExecutor, type ApplyExecutor } from '../execute/apply.ts';
import type { AppliedObject } from '../cluster/apply.ts';
import type { Executors } from '../execute/executors.ts';
import { fanOut } from '../execute/fanout.ts';
import { OutputTail } from '../execute/tail.ts';
import type { Masker } from '../secrets/mask.ts';
import { formatDuration } from '../format/duration.ts';
import { compileExpect } from '../format/expect.ts';
import { readOnlyPrelude } from '../execute/readonly.ts';
import type { Progress } from './progress.ts';
import { finishStep, judge, type TargetOutcome, type Verdict } from './step-result.ts';

/**
 * The run loop: step instances in plan order, each after its confirmation,
 * with retries, `expect` and `continue-on-error`; the record is saved after
 * every step so a killed runner leaves an honest account behind.
 */

const RUNNING_MARK_MS = 250;
export interface LoopContext {
  root: string;
  plan: Plan;
  record: RunRecord;
  save(): void;
  executors: Executors;
  masker: Masker;
  progress: Progress;
  /** Params (and a pinned KUBECONFIG) for every step; instance variables are added per step. */
  env: Record<string, string>;
  /** Asks the operator about a `confirm` step; true with --yes. */
  confirm(instance: StepInstance): Promise<boolean>;
  /** After a failed step, go on with the next one; the outcome is still `failed` (verify asks every check its question). */
  keepGoing?: boolean;
  /** Asked before each step: a reason to stop the run here (the cluster lease was lost), or undefined to go on. */
  beforeStep?(instance: StepInstance): Promise<string | undefined> | string | undefined;
  signal: AbortSignal;
  /** Runs local apply steps through the API; one is made per run when not given. */
  applier?: ApplyExecutor;
}

export interface LoopOutcome {
  status: 'succeeded' | 'failed' | 'interrupted';
  /** The step the operator declined to run. */
  declined?: string;
  /** Why the run stopped before a step on its own (beforeStep said so). */
  stoppedBefore?: { step: string; reason: string };
}

export async function runSteps(ctx: LoopContext, indices: readonly number[]): Promise<LoopOutcome> {
  const total = ctx.plan.instances.length;
  const applier = ctx.applier ?? createApplyExecutor();
  let failed = false;
  for (const index of indices) {
    const instance = ctx.plan.instances[index - 1]!;
    const step = ctx.record.steps[index - 1]!;
    if (ctx.signal.aborted) return { status: 'interrupted' };
    const stop = await ctx.beforeStep?.(instance);
    if (stop) return { status: 'interrupted', stoppedBefore: { step: instance.id, reason: stop } };
    if (instance.step.attrs.confirm && !(await ctx.confirm(instance)))
      return { status: 'interrupted', declined: instance.id };
    if (ctx.signal.aborted) return { status: 'interrupted' };

    const startedAt = new Date();
    Object.assign(step, {
      status: 'running',
      startedAt: startedAt.toISOString(),
      attempts: 0,
      output: '',
      truncated: false,
      targets: [],
    });
    delete step.endedAt;
    delete step.error;
    delete step.applied;
    delete step.appliedOmitted;
    // A step that is still going after a moment is marked `running` on disk, so a
    // record left by a killed runner says which step it was in; quick steps skip
    // that write (resume starts at the first unfinished step either way).
    let markFailure: { error: unknown } | undefined;
    const markRunning = setTimeout(() => {
      try {
        ctx.save();
      } catch (error) {
        markFailure = { error }; // the step runs on; the run stops once it has ended
      }
    }, RUNNING_MARK_MS);
    ctx.progress.stepStarted(instance, total);

    const results = await runOnTargets(ctx, instance, applier);
    clearTimeout(markRunning);
    finishStep(step, results, startedAt);
    const saveFailure = markFailure ?? attempt(ctx.save);
    if (saveFailure) {
      // What is on disk is the last complete record; this step's result is not in it.
      notRecorded(step, saveFailure.error);
      ctx.progress.stepEnded(instance, total, step);
      throw saveFailure.error;
    }
    ctx.progress.stepEnded(instance, total, step);

    if (step.status === 'interrupted') return { status: 'interrupted' };
    // A tolerated failure (continue-on-error) stays visible in the step, and the run goes on.
    if (step.status !== 'succeeded' && !instance.step.attrs.continueOnError) {
      if (!ctx.keepGoing) return { status: 'failed' };
      failed = true;
    }
  }
  return { status: failed ? 'failed' : 'succeeded' };
}

function attempt(fn: () => void): { error: unknown } | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return { error };
  }
}

/** A step whose result could not be recorded is not a success, whatever its processes did. */
function notRecorded(step: StepRecord, error: unknown): void {
  if (step.status === 'succeeded') step.status = 'interrupted';
  const why = `the run stopped: ${error instanceof Error ? error.message : String(error)}`;
  step.error = step.error ? `${step.error}; ${why}` : why;
}

/**
 * Runs the instance on each target, at most `parallel` at a time (node fan-out);
 * after a failing node no further node starts unless the step has `continue-on-error`,
 * and the nodes it never reached are recorded as skipped. Node output is always
 * prefixed with `[node]`, also for a single-node step, so it never reads as local.
 */
async function runOnTargets(
  ctx: LoopContext,
  instance: StepInstance,
  applier: ApplyExecutor,
): Promise<TargetOutcome[]> {
  const entries = await fanOut(
    instance.targets,
    {
      parallel: instance.parallel,
      stopOnFailure: !instance.step.attrs.continueOnError,
      ok: (o: TargetOutcome) => o.result.status === 'succeeded',
      signal: ctx.signal,
    },
    (target) => runOnTarget(ctx, instance, applier, target, target.kind === 'node' ? target.node : undefined),
  );
  return entries.map((e) => (e.ran ? e.result : notStarted(e.target, e.reason)));
}

function notStarted(target: Target, reason: 'after-failure' | 'interrupted'): TargetOutcome {
  return reason === 'interrupted'
    ? unstarted(target, 'interrupted', 'not started: the run was interrupted')
    : unstarted(target, 'skipped', 'not started: an earlier node failed');
}

/** A target the step never ran on, with the reason. */
function unstarted(target: Target, status: StepStatus, error: string): TargetOutcome {
  const result: TargetResult = {
    target: targetName(target),
    status,
    exitCode: null,
    attempts: 0,
    durationMs: 0,
    output: '',
    truncated: false,
    error,
  };
  return { result, tail: new OutputTail() };
}

async function runOnTarget(
  ctx: LoopContext,
  instance: StepInstance,
  applier: ApplyExecutor,
  target: Target,
  label?: string,
): Promise<TargetOutcome> {
  const a = instance.step.attrs;
  // A local apply step goes to the API (server-side apply). On a node it stays `kubectl apply`
  // there (stepScript): a step that names a node asks for that node's kubectl and credentials
  // (a k3s server's own kubeconfig), which this machine's API client neither has nor can reach.
  const viaApi = instance.step.kind === 'apply' && target.kind === 'local';
  const executor = viaApi ? applier : ctx.executors.get(target);
  let applied: AppliedObject[] | undefined;
  const tail = new OutputTail();
  const masked = ctx.masker.stream();
  const show = (text: string) => {
    if (!text) return;
    tail.push(text);
    ctx.progress.output(text, label);
  };
  // check refuses a pattern RE2 cannot compile; should one reach the run anyway, the step fails saying why.
  const compiled = a.expect ? compileExpect(a.expect) : undefined;
  if (compiled && 'error' in compiled) return unstarted(target, 'failed', `expect=${a.expect}: ${compiled.error}`);
  const expect = compiled;
  const maxAttempts = a.retries + 1;
  const started = performance.now();
  let attempts = 0;
  let verdict: Verdict;
  let last: ExecResult;
  for (;;) {
    attempts++;
    last = await executor.exec({
      instance,
      target,
      script: stepScript(instance),
      env: { ...ctx.env, ...instance.env },
      cwd: target.kind === 'local' ? resolve(ctx.root, a.cwd ?? '.') : a.cwd,
      timeoutMs: a.timeoutMs,
      signal: ctx.signal,
      onOutput: (chunk) => show(masked.push(chunk)),
    });
    if (viaApi) applied = (last as Awaited<ReturnType<ApplyExecutor['exec']>>).applied;
    show(masked.flush());
    verdict = judge(last, a.timeoutMs, expect);
    if (verdict.status === 'succeeded' || verdict.status === 'interrupted' || attempts >= maxAttempts) break;
    ctx.progress.note(
      `attempt ${attempts}/${maxAttempts} ${ctx.masker.mask(verdict.error ?? '')}; retrying in ${formatDuration(a.retryDelayMs)}`,
    );
    const waited = await sleep(a.retryDelayMs, true, { signal: ctx.signal }).catch(() => false);
    if (!waited) {
      verdict = { status: 'interrupted', error: 'interrupted while waiting to retry' };
      break;
    }
    tail.push(`── attempt ${attempts + 1}/${maxAttempts} ──\n`);
  }
  const result: TargetResult = {
    target: targetName(target),
    ...(target.kind === 'node'
      ? { address: `${target.user ? `${target.user}@` : ''}${target.host}:${target.port}` }
      : {}),
    status: verdict.status,
    exitCode: last.exitCode,
    attempts,
    durationMs: Math.round(performance.now() - started),
    output: '',
    truncated: false,
    ...(verdict.error ? { error: ctx.masker.mask(verdict.error) } : {}),
  };
  const maskedApplied = applied?.map((o) => (o.error ? { ...o, error: ctx.masker.mask(o.error) } : o));
  return { result, tail, ...(maskedApplied ? { applied: maskedApplied } : {}) };
}

/**
 * The text a target receives. A `check` step runs behind the read-only prelude (kubectl, helm and
 * k3s refuse writes), the same on this machine and on nodes; it is one line, so line numbers hold.
 * Apply steps reach this on nodes only (kubectl there); local ones go to the API.
 */
function stepScript(instance: StepInstance): string {
  const body = instance.step.kind === 'apply' ? applyScript(instance.step.code) : instance.step.code;
  return instance.step.attrs.check ? readOnlyPrelude() + body : body;
}

function targetName(target: Target): string {
  return target.kind === 'local' ? 'local' : target.node;
}
