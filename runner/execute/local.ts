import { existsSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
// zx/core: the process API without zx's script-runner extras (a tenth of the import time).
import { $, type ProcessOutput, type ProcessPromise, which } from 'zx/core';
import { MAX_TIMER_MS, type ExecRequest, type ExecResult, type Executor } from './types.ts';
import { OutputTail } from './tail.ts';
import { interruptStages, StepProcesses, terminateStages, type Stage } from './process-group.ts';
import { spawnInNamespace, type StepNamespace, stepNamespace } from './step-namespace.ts';
import { createWatchdog, type Watchdog } from './watchdog.ts';

export interface LocalExecutorOptions {
  /** After Ctrl-C: SIGINT, then SIGTERM after this long, then SIGKILL after as long again. */
  interruptGraceMs?: number;
  /** After a timeout (or for leftovers once the script has exited): SIGTERM, then SIGKILL after this long. */
  killGraceMs?: number;
  /** The run's watchdog (shared with the ssh executor); an executor used on its own makes its own. */
  watchdog?: Watchdog;
}

/** stderr joins stdout so the output keeps its real order; then the strict mode the format promises. */
const PRELUDE = 'exec 2>&1\nset -euo pipefail\n';
/** Once a stopped step's processes are gone, how long its pipes may still deliver buffered output. */
const DRAIN_MS = 100;

/**
 * Runs steps in bash on this machine. Each step gets its own process group
 * (`detached`) and a mark in its environment (process-group.ts), so a timeout,
 * Ctrl-C or the end of the script reaches everything it started — background
 * jobs, and also descendants that left the group (setsid, double fork, nohup).
 * The step ends at its deadline plus the grace period even when something the
 * runner cannot reach still holds its output open: the pipes are then dropped.
 *
 * zx starts the process (its process promise, `detached`, verbatim script);
 * stopping it is ours, because zx's `timeout`/`kill()` send one signal to the tree
 * found by parent pid, with no grace before SIGKILL and no reach beyond the tree.
 */
export function createLocalExecutor(options: LocalExecutorOptions = {}): Executor {
  const grace = {
    interrupt: options.interruptGraceMs ?? 3000,
    kill: options.killGraceMs ?? 2000,
  };
  const bash = which.sync('bash', { nothrow: true }) ?? '/bin/bash';
  const watchdog = options.watchdog ?? createWatchdog({ graceMs: grace.kill, bash });
  const running = new Set<StepProcesses>();

  return {
    exec: (req) => runLocal(req, { bash, grace, watchdog, running, namespace: () => stepNamespace() }),
    async close() {
      for (const step of running) step.signal('SIGKILL');
      running.clear();
      if (!options.watchdog) watchdog.close();
    },
  };
}

interface LocalContext {
  bash: string;
  grace: { interrupt: number; kill: number };
  watchdog: Watchdog;
  running: Set<StepProcesses>;
  /** The namespace every step runs in (RUNBOOK_STEP_NAMESPACE), checked again before each step; throws when it cannot be entered. */
  namespace: () => StepNamespace | undefined;
}

const failed = (error: string): ExecResult => ({
  exitCode: null,
  signal: null,
  timedOut: false,
  interrupted: false,
  output: '',
  error,
});

async function runLocal(req: ExecRequest, ctx: LocalContext): Promise<ExecResult> {
  if (req.cwd && !(existsSync(req.cwd) && statSync(req.cwd).isDirectory())) {
    return failed(`cwd ${req.cwd} is not a directory on this machine`);
  }
  if (req.signal.aborted) return { ...failed('interrupted before it started'), interrupted: true };
  let ns: StepNamespace | undefined;
  try {
    ns = ctx.namespace();
  } catch (err) {
    return failed((err as Error).message);
  }

  const marks = ctx.watchdog.stepMarks();
  const p = $({
    shell: ctx.bash,
    prefix: PRELUDE,
    postfix: '',
    cwd: req.cwd,
    env: { ...inheritedEnv(), ...req.env, ...marks.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    quiet: true,
    verbose: false,
    nothrow: true,
    halt: true,
    ...(ns ? { spawn: spawnInNamespace(ns) } : {}),
  })(verbatim(req.script));
  p.run();
  const child = p.child;
  if (p.pid === undefined || !child) {
    const out = await p;
    return failed(`cannot start ${ctx.bash}: ${out.cause?.message ?? 'unknown error'}`);
  }
  const step = new StepProcesses(p.pid, marks.mark);
  ctx.running.add(step);
  ctx.watchdog.track(step.pgid);

  const tail = new OutputTail();
  const decoder = new StringDecoder('utf8');
  const show = (text: string) => {
    if (!text) return;
    tail.push(text);
    req.onOutput(text);
  };
  p.stdout.on('data', (data: Buffer) => show(decoder.write(data)));

  const ended = await supervise(p, step, req, ctx);
  ctx.running.delete(step);
  ctx.watchdog.untrack(step.pgid);
  show(decoder.end());
  const cause = ended.out?.cause;
  return {
    exitCode: ended.out ? ended.out.exitCode : child.exitCode,
    signal: ended.out ? ended.out.signal : child.signalCode,
    timedOut: ended.timedOut,
    interrupted: ended.interrupted,
    output: tail.text(),
    ...(cause ? { error: `bash could not run the step: ${cause.message}` } : {}),
  };
}

/**
 * Waits for a started step to end: on its own, at its timeout, or on Ctrl-C (req.signal). Whatever
 * ends it, its process group and marked descendants are stopped once (the first reason wins), and
 * whoever still holds the output after that gets a short drain before the pipes are dropped.
 * `out` is undefined when the pipes were dropped before the process promise settled.
 */
async function supervise(
  p: ProcessPromise,
  step: StepProcesses,
  req: ExecRequest,
  ctx: LocalContext,
): Promise<{ out: ProcessOutput | undefined; timedOut: boolean; interrupted: boolean }> {
  const child = p.child!;
  let timedOut = false;
  let interrupted = false;
  let stopping: Promise<void> | undefined;
  let release: NodeJS.Timeout | undefined;
  const released = Promise.withResolvers<void>();
  const stop = (stages: Stage[], drainMs: number) => {
    stopping ??= step.stop(stages);
    void stopping.then(() => {
      release ??= setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        released.resolve();
      }, drainMs);
    });
  };
  const timeout = setTimeout(
    () => {
      timedOut = true;
      stop(terminateStages(ctx.grace.kill), DRAIN_MS);
    },
    Math.min(req.timeoutMs, MAX_TIMER_MS),
  );
  const onAbort = () => {
    interrupted = true;
    stop(interruptStages(ctx.grace.interrupt), DRAIN_MS);
  };
  req.signal.addEventListener('abort', onAbort, { once: true });
  // Background jobs and detached helpers left behind when the script exits would
  // hold the output open and outlive the step: end them as a timeout would.
  child.once('exit', () => {
    clearTimeout(timeout);
    stop(terminateStages(ctx.grace.kill), ctx.grace.kill);
  });

  const out = await Promise.race([p, released.promise.then(() => undefined)]);
  clearTimeout(timeout);
  clearTimeout(release);
  req.signal.removeEventListener('abort', onAbort);
  await stopping; // the script may have ended on its own while leftovers were still being stopped
  return { out, timedOut, interrupted };
}

/** A template-strings array holding the script as one literal piece: zx passes it to bash untouched. */
function verbatim(script: string): TemplateStringsArray {
  return Object.assign([script], { raw: [script] }) as unknown as TemplateStringsArray;
}

/**
 * The runner's environment minus the variables the runner itself owns: NODE and
 * NODE_ADDRESS are set only inside a ForEach, so a step outside one fails on
 * `set -u` rather than reading npm's NODE (the path of the node binary under npx).
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const { NODE: _node, NODE_ADDRESS: _address, ...rest } = process.env;
  return rest;
}
