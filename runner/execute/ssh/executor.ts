import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { MAX_TIMER_MS, type ExecRequest, type ExecResult, type Executor } from '../types.ts';
import { OutputTail } from '../tail.ts';
import { createWatchdog, type Watchdog } from '../watchdog.ts';
import { enforcedOptions, remoteCommand, type NodeTarget, type SshSettings } from './config.ts';
import { ControlDir, removeStaleControlDirs } from './control-dir.ts';
import { explainSshFailure, explainSudoFailure } from './errors.ts';
import { knownHostsFile } from './resolve.ts';
import { type Channel, readChannel } from './channel.ts';
import { remoteScript, REMOTE_KILL_GRACE_S } from './script.ts';

export interface SshExecutorOptions extends SshSettings {
  /** Share one authenticated connection per node for the whole run (ControlMaster). Default true. */
  reuse?: boolean;
  /** After Ctrl-C: SIGINT to the remote group, then SIGTERM after this long, then SIGKILL after as long again. */
  interruptGraceMs?: number;
  /** After a timeout: SIGTERM to the remote group, then SIGKILL after this long. */
  killGraceMs?: number;
  /** The ssh client binary. */
  ssh?: string;
  /** The run's watchdog (shared with the local executor); an executor used on its own makes its own. */
  watchdog?: Watchdog;
}

/**
 * Runs steps on nodes with the system OpenSSH client, so the operator's
 * ~/.ssh/config, agent, ProxyJump and known_hosts apply. One master connection
 * per node (ControlMaster) in a private 0700 directory owned by the run; the
 * step goes to `bash -s` (or `sudo -n bash -s`) on stdin, and stdin then stays
 * open as the control channel of the remote watchdog (see script.ts).
 */
export interface SshExecutor extends Executor {
  /** The run's private directory (configs, control sockets), once the first step has created it. */
  controlDir(): string | undefined;
}

interface SshContext {
  options: SshExecutorOptions;
  reuse: boolean;
  ssh: string;
  grace: { interrupt: number; kill: number };
  dir: ControlDir;
  watchdog: Watchdog;
  running: Set<ChildProcess>;
}

export function createSshExecutor(options: SshExecutorOptions = {}): SshExecutor {
  const ssh = options.ssh ?? 'ssh';
  const grace = { interrupt: options.interruptGraceMs ?? 3000, kill: options.killGraceMs ?? 2000 };
  // Directories (and masters) of runners that were killed: this run cleans up after them.
  removeStaleControlDirs(ssh);
  const watchdog = options.watchdog ?? createWatchdog({ graceMs: grace.kill });
  const ctx: SshContext = {
    options,
    reuse: options.reuse ?? true,
    ssh,
    grace,
    dir: new ControlDir(options, (path) => watchdog.ownDir(path)),
    watchdog,
    running: new Set(),
  };
  return {
    controlDir: () => ctx.dir.path,
    exec: (req) => execOnNode(req, ctx),
    async close() {
      for (const child of ctx.running) {
        child.stdin?.end();
        child.kill('SIGKILL');
      }
      ctx.running.clear();
      const live = ctx.dir.masters().filter((m) => existsSync(m.socket));
      await Promise.all(live.map((m) => stopMaster(ssh, m.config, m.socket, m.node)));
      ctx.dir.remove();
      if (!options.watchdog) ctx.watchdog.close();
    },
  };
}

async function execOnNode(req: ExecRequest, ctx: SshContext): Promise<ExecResult> {
  const target = req.target;
  if (target.kind !== 'node') throw new Error('the ssh executor runs node targets only');
  const tail = new OutputTail();
  const show = (text: string) => {
    if (!text) return;
    tail.push(text);
    req.onOutput(text);
  };
  const result = (fields: Partial<ExecResult>): ExecResult => ({
    exitCode: null,
    signal: null,
    timedOut: false,
    interrupted: false,
    output: tail.text(),
    ...fields,
  });
  if (req.signal.aborted) return result({ interrupted: true, error: 'interrupted before it started' });

  const nonce = randomBytes(8).toString('hex');
  const marks = ctx.watchdog.stepMarks();
  let stdin: string;
  let config: string;
  try {
    stdin = remoteScript(req.script, { ...req.env, ...marks.env }, req.cwd, nonce, marks.mark);
    config = ctx.dir.configFor(target);
  } catch (err) {
    return result({ error: `${target.node}: ${(err as Error).message}` });
  }
  const child = startClient(ctx, target, config);
  ctx.running.add(child);
  const channel = readChannel(child, nonce, show);
  child.stdin.write(stdin);
  const control = controlRemote(child, req, ctx.grace, channel);

  type Closed = [number | null, NodeJS.Signals | null, Error | undefined];
  const [code, signal, spawnError] = await new Promise<Closed>((resolve) => {
    child.once('error', (e) => resolve([null, null, e]));
    child.once('close', (c, s) => resolve([c, s, undefined]));
  });
  control.dispose();
  ctx.running.delete(child);
  channel.end();

  if (spawnError) {
    const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
    const error = missing
      ? `${target.node}: ${ctx.ssh} not found; install the OpenSSH client`
      : `${target.node}: cannot start ssh: ${spawnError.message}`;
    return result({ error });
  }
  const { timedOut, interrupted } = control;
  const error = failureOf(ctx, target, config, {
    code,
    stderr: channel.stderr(),
    started: channel.started(),
    exit: channel.exit(),
    stopped: timedOut || interrupted,
  });
  // A remote shell killed by the signal we sent exits 128+n; name the signal as the local executor would.
  const remoteSignal = (timedOut || interrupted) && code !== null && code > 128 ? signalName(code - 128) : null;
  return result({
    exitCode: error ? null : (channel.exit() ?? code),
    signal: signal ?? remoteSignal,
    timedOut,
    interrupted,
    ...(error ? { error } : {}),
  });
}

/**
 * The ssh client, in its own process group: a Ctrl-C on the terminal reaches the
 * runner, which decides what the node gets. It carries the run's helper mark, so
 * the watchdog ends it (and the control master it may fork) if the runner dies.
 */
function startClient(ctx: SshContext, target: NodeTarget, config: string) {
  const socket = ctx.reuse ? ctx.dir.socketFor(target.node) : undefined;
  const args = ['-F', config, ...enforcedOptions(ctx.options, socket), target.node, '--', ...remoteCommand(target)];
  const env = { ...process.env, ...ctx.watchdog.helperMarks() };
  const child = spawn(ctx.ssh, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env });
  // The remote side may be gone already; a failed write is reported through the exit code.
  child.stdin.on('error', () => {});
  return child;
}

/**
 * Timeout, Ctrl-C and hang-up: signal names go to the remote watchdog on stdin;
 * as last resorts the channel is closed (the watchdog ends whatever is left) and
 * then the client is dropped, so the step ends by its deadline plus the grace
 * periods even when the node or the connection is stuck, or when something on the
 * node still holds the step's output after the step has exited.
 */
function controlRemote(child: ChildProcess, req: ExecRequest, grace: SshContext['grace'], channel: Channel) {
  const state = { timedOut: false, interrupted: false, dispose };
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));
  const tell = (signal: string) => {
    if (child.stdin?.writable) child.stdin.write(`${signal}\n`);
  };
  const hangUp = (afterMs: number) => {
    later(afterMs, () => child.stdin?.end());
    later(afterMs + grace.kill, () => child.kill('SIGKILL'));
  };
  const deadline = setTimeout(
    () => {
      state.timedOut = true;
      tell('TERM');
      later(grace.kill, () => tell('KILL'));
      hangUp(2 * grace.kill);
    },
    Math.min(req.timeoutMs, MAX_TIMER_MS),
  );
  const onAbort = () => {
    state.interrupted = true;
    clearTimeout(deadline);
    tell('INT');
    later(grace.interrupt, () => tell('TERM'));
    later(2 * grace.interrupt, () => tell('KILL'));
    hangUp(2 * grace.interrupt + grace.kill);
  };
  req.signal.addEventListener('abort', onAbort, { once: true });
  // The step exited; the node's watchdog now ends its leftovers (TERM, KILL after REMOTE_KILL_GRACE_S).
  channel.onExit = () => {
    clearTimeout(deadline);
    hangUp(REMOTE_KILL_GRACE_S * 1000 + grace.kill);
  };
  function dispose() {
    clearTimeout(deadline);
    for (const t of timers) clearTimeout(t);
    req.signal.removeEventListener('abort', onAbort);
    child.stdin?.destroy();
  }
  return state;
}

/** What went wrong before or around the step (not the step's own exit code), in one line. */
function failureOf(
  ctx: SshContext,
  target: NodeTarget,
  config: string,
  r: { code: number | null; stderr: string; started: boolean; exit: number | undefined; stopped: boolean },
): string | undefined {
  if (r.stopped) return undefined;
  const lastLine = r.stderr.trim().split('\n').pop();
  if (!r.started) {
    // The wrapper never ran: ssh could not connect, or sudo/bash refused to start.
    const who = { node: target.node, become: target.become, ...(target.user ? { user: target.user } : {}) };
    const knownHosts = /host key/i.test(r.stderr) ? knownHostsFile(config, target.node, ctx.ssh) : undefined;
    const explained =
      r.code === 255
        ? explainSshFailure(r.stderr, { ...who, ...(knownHosts ? { knownHosts } : {}) })
        : explainSudoFailure(r.stderr, who);
    const what = r.code === 255 ? 'ssh' : 'remote shell';
    return (
      explained ?? `${target.node}: could not start the step (${what} exit ${r.code})${lastLine ? `: ${lastLine}` : ''}`
    );
  }
  if (r.exit === undefined) {
    const last = lastLine ? ` (${lastLine})` : '';
    return `${target.node}: connection lost while the step was running${last}; the node ends the step's processes when it notices`;
  }
  return undefined;
}

let clientMissing: boolean | undefined;
/** True when no `ssh` is on PATH (asked once per process, before a run with node steps starts). */
export function sshClientMissing(): boolean {
  clientMissing ??= spawnSync('ssh', ['-V'], { stdio: 'ignore' }).error !== undefined;
  return clientMissing;
}

/** `ssh -O exit`: the master closes its connection and removes its socket. */
function stopMaster(ssh: string, config: string, socket: string, node: string): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn(ssh, ['-F', config, '-o', `ControlPath=${socket}`, '-O', 'exit', node], { stdio: 'ignore' });
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.once('error', () => resolve());
    p.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function signalName(n: number): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, v]) => v === n);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}
