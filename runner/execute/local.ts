import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
// zx/core: the process API without zx's script-runner extras (a tenth of the import time).
import { $, which } from 'zx/core';
import { MAX_TIMER_MS, type ExecRequest, type ExecResult, type Executor } from './types.ts';
import { OutputTail } from './tail.ts';
import { interruptStages, StepProcesses, terminateStages, type Stage } from './process-group.ts';
import { createWatchdog, type Watchdog } from './watchdog.ts';
import { UsageError } from '../errors.ts';

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

async function runLocal(req: ExecRequest, ctx: LocalContext): Promise<ExecResult> {
  const fail = (error: string): ExecResult => ({
    exitCode: null,
    signal: null,
    timedOut: false,
    interrupted: false,
    output: '',
    error,
  });
  if (req.cwd && !(existsSync(req.cwd) && statSync(req.cwd).isDirectory())) {
    return fail(`cwd ${req.cwd} is not a directory on this machine`);
  }
  if (req.signal.aborted) return { ...fail('interrupted before it started'), interrupted: true };
  let ns: StepNamespace | undefined;
  try {
    ns = ctx.namespace();
  } catch (err) {
    return fail((err as Error).message);
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
    return fail(`cannot start ${ctx.bash}: ${out.cause?.message ?? 'unknown error'}`);
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

  let timedOut = false;
  let interrupted = false;
  let stopping: Promise<void> | undefined;
  let release: NodeJS.Timeout | undefined;
  const released = Promise.withResolvers<void>();
  // Stop once (the first reason wins), then give whoever still holds the output `ms` to let go.
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
  ctx.running.delete(step);
  ctx.watchdog.untrack(step.pgid);
  show(decoder.end());
  const cause = out?.cause;
  return {
    exitCode: out ? out.exitCode : child.exitCode,
    signal: out ? out.signal : child.signalCode,
    timedOut,
    interrupted,
    output: tail.text(),
    ...(cause ? { error: `bash could not run the step: ${cause.message}` } : {}),
  };
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

/** Names the namespace file of the lab twin's operator machine (scripts/sandbox env exports it for a rehearsal). */
export const STEP_NAMESPACE_VAR = 'RUNBOOK_STEP_NAMESPACE';

/** A network and mount namespace to run local steps in: the lab twin's operator machine. */
export interface StepNamespace {
  /** The file RUNBOOK_STEP_NAMESPACE names (<state>/twin/operator/namespace.json). */
  file: string;
  /** Host pid of the namespace's pid 1; its /proc/<pid>/ns/{net,mnt} are entered. */
  pid: number;
  nsenter: string;
}

/**
 * RUNBOOK_STEP_NAMESPACE, checked: undefined when unset. The file is the twin's
 * (scripts/sandbox-lib/twin/operator.ts) and names the pid of its namespace; that
 * pid must still be the twin's, i.e. run exactly `bash <the init.sh beside the
 * file>`, in a network namespace that is not this process's. Anything else is a
 * UsageError naming the variable: a stale or foreign pid would run the steps
 * in the wrong place, and the network rule of a rehearsal would not hold.
 */
export function stepNamespace(env: NodeJS.ProcessEnv = process.env): StepNamespace | undefined {
  const value = env[STEP_NAMESPACE_VAR];
  if (!value) return undefined;
  const file = resolve(value);
  const refuse = (
    why: string,
    todo = `start the sandbox again and eval "$(scripts/sandbox env)", or unset ${STEP_NAMESPACE_VAR} to run local steps on this machine`,
  ) => new UsageError(`${STEP_NAMESPACE_VAR}=${value}: ${why}; ${todo}`);
  if (process.platform !== 'linux')
    throw refuse(
      "local steps run in a Linux namespace (the lab twin's operator machine), and this is not Linux",
      `unset ${STEP_NAMESPACE_VAR}`,
    );
  if (process.getuid?.() !== 0) {
    throw refuse(
      "entering the lab twin's operator namespace (nsenter) needs root",
      `run the runbook as root, as the twin runs, or unset ${STEP_NAMESPACE_VAR} to run local steps on this machine`,
    );
  }
  const nsenter = which.sync('nsenter', { nothrow: true });
  if (!nsenter) throw refuse('nsenter (util-linux) is not installed', 'install util-linux');
  let ns: { pid?: unknown; init?: unknown };
  try {
    ns = JSON.parse(readFileSync(file, 'utf8')) as typeof ns;
  } catch (err) {
    throw refuse(
      `cannot read the lab twin's namespace file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const init = join(dirname(file), 'init.sh');
  const pid = Number(ns?.pid);
  if (!Number.isInteger(pid) || pid <= 1 || ns.init !== init)
    throw refuse('the file is not a lab twin namespace file (it names no pid and init.sh beside it)');
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    throw refuse(`process ${pid}, the lab twin's operator namespace, is gone`);
  }
  if (argv.length !== 2 || basename(argv[0]!) !== 'bash' || argv[1] !== init) {
    const runs = argv.join(' ');
    throw refuse(
      `process ${pid} is not the lab twin's operator namespace of ${resolve(dirname(file), '..', '..')} (it runs ${runs.length > 100 ? `${runs.slice(0, 100)}…` : runs || 'nothing'})`,
    );
  }
  let same: boolean;
  try {
    same = readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net');
  } catch (err) {
    throw refuse(`cannot read the namespaces of process ${pid} (${(err as NodeJS.ErrnoException).code})`);
  }
  if (same) throw refuse(`process ${pid} shares this machine's network namespace: it is not the twin's isolated one`);
  return { file, pid, nsenter };
}

/**
 * zx's spawn, with bash started by `nsenter --net --mount` (no --fork: nsenter
 * execs bash in place, so the pid, process group, environment marks and
 * detached session are the ones the executor and the watchdog track). The
 * working directory is set again after entering: setns resets it to the root.
 */
function spawnInNamespace(ns: StepNamespace): typeof spawn {
  const wrapped = (command: string, args: readonly string[], options: SpawnOptions) => {
    const shell = typeof options.shell === 'string' ? options.shell : 'bash';
    const cwd = resolve(String(options.cwd ?? process.cwd()));
    return spawn(
      ns.nsenter,
      [
        `--net=/proc/${ns.pid}/ns/net`,
        `--mount=/proc/${ns.pid}/ns/mnt`,
        `--wd=${cwd}`,
        '--',
        shell,
        '-c',
        [command, ...args].join(' '),
      ],
      { ...options, cwd, shell: false },
    );
  };
  return wrapped as unknown as typeof spawn;
}
