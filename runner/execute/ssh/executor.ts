import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ExecRequest, ExecResult, Executor } from '../types.ts';
import { OutputTail } from '../tail.ts';
import { enforcedOptions, nodeConfigText, remoteCommand, type NodeTarget, type SshSettings } from './config.ts';
import { explainSshFailure, explainSudoFailure } from './errors.ts';
import { knownHostsFile } from './resolve.ts';
import { markers, remoteScript } from './script.ts';

export interface SshExecutorOptions extends SshSettings {
  /** Share one authenticated connection per node for the whole run (ControlMaster). Default true. */
  reuse?: boolean;
  /** After Ctrl-C: SIGINT to the remote group, then SIGTERM after this long, then SIGKILL after as long again. */
  interruptGraceMs?: number;
  /** After a timeout: SIGTERM to the remote group, then SIGKILL after this long. */
  killGraceMs?: number;
  /** The ssh client binary. */
  ssh?: string;
}

/** Unix socket paths are limited to 108 bytes; the node name (≤ 63) and `.sock` must fit behind the dir. */
const MAX_DIR_LENGTH = 108 - 63 - 7;

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

export function createSshExecutor(options: SshExecutorOptions = {}): SshExecutor {
  const reuse = options.reuse ?? true;
  const interruptGrace = options.interruptGraceMs ?? 3000;
  const killGrace = options.killGraceMs ?? 2000;
  const ssh = options.ssh ?? 'ssh';
  const running = new Set<ChildProcess>();
  const configs = new Map<string, string>();
  let dir: string | undefined;

  const privateDir = () => {
    if (dir) return dir;
    const base = tmpdir().length <= MAX_DIR_LENGTH - 20 ? tmpdir() : '/tmp';
    dir = mkdtempSync(join(base, 'runbook-ssh-')); // mode 0700
    return dir;
  };
  const configFor = (target: NodeTarget) => {
    let file = configs.get(target.node);
    if (!file) {
      file = join(privateDir(), `${target.node}.config`);
      writeFileSync(file, nodeConfigText(target, options), { mode: 0o600 });
      configs.set(target.node, file);
    }
    return file;
  };
  const socketFor = (node: string) => join(privateDir(), `${node}.sock`);

  return {
    controlDir: () => dir,

    async exec(req: ExecRequest): Promise<ExecResult> {
      const target = req.target;
      if (target.kind !== 'node') throw new Error('the ssh executor runs node targets only');
      const t0 = performance.now();
      const tail = new OutputTail();
      const result = (fields: Partial<ExecResult>): ExecResult => ({
        exitCode: null, signal: null, timedOut: false, interrupted: false, output: tail.text(), truncated: tail.truncated,
        durationMs: performance.now() - t0, ...fields,
      });
      if (req.signal.aborted) return result({ interrupted: true, error: 'interrupted before it started' });

      const nonce = randomBytes(8).toString('hex');
      const mark = markers(nonce);
      let stdin: string;
      let config: string;
      try {
        stdin = remoteScript(req.script, req.env, req.cwd, nonce);
        config = configFor(target);
      } catch (err) {
        return result({ error: `${target.node}: ${(err as Error).message}` });
      }
      const args = ['-F', config, ...enforcedOptions(options, reuse ? socketFor(target.node) : undefined), target.node, '--', ...remoteCommand(target)];
      // Own process group: a Ctrl-C on the terminal reaches the runner, which decides what the node gets.
      const child = spawn(ssh, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      running.add(child);

      const out = new StringDecoder('utf8');
      const err = new StringDecoder('utf8');
      const show = (text: string) => {
        if (!text) return;
        tail.push(text);
        req.onOutput(text);
      };
      child.stdout.on('data', (d: Buffer) => show(out.write(d)));
      // The channel's stderr carries only ssh's, sudo's and the wrapper's lines (the step's go to stdout).
      let stderr = '';
      let partial = '';
      let wrapperStarted = false;
      let remoteExit: number | undefined;
      const stderrLines = (text: string, final = false) => {
        const lines = (partial + text).split('\n');
        partial = final ? '' : lines.pop()!;
        for (const line of lines) {
          const m = mark.parse(line);
          if (m === 'started') wrapperStarted = true;
          else if (m !== undefined) remoteExit = m;
          else if (line || !final) {
            if (stderr.length < 64 * 1024) stderr += `${line}\n`;
            show(`${line}\n`);
          }
        }
      };
      child.stderr.on('data', (d: Buffer) => stderrLines(err.write(d)));
      // The remote side may be gone already; a failed write is reported through the exit code.
      child.stdin.on('error', () => {});
      child.stdin.write(stdin);

      let timedOut = false;
      let interrupted = false;
      const timers: NodeJS.Timeout[] = [];
      const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));
      const tell = (signal: string) => {
        if (child.stdin.writable) child.stdin.write(`${signal}\n`);
      };
      // Last resorts once the remote group should be dead: close the channel (the watchdog ends
      // whatever is left), then drop the client if the connection itself is stuck.
      const hangUp = (afterMs: number) => {
        later(afterMs, () => child.stdin.end());
        later(afterMs + killGrace, () => child.kill('SIGKILL'));
      };
      later(req.timeoutMs, () => {
        timedOut = true;
        tell('TERM');
        later(killGrace, () => tell('KILL'));
        hangUp(2 * killGrace);
      });
      const onAbort = () => {
        interrupted = true;
        tell('INT');
        later(interruptGrace, () => tell('TERM'));
        later(2 * interruptGrace, () => tell('KILL'));
        hangUp(2 * interruptGrace + killGrace);
      };
      req.signal.addEventListener('abort', onAbort, { once: true });

      const [code, signal, spawnError] = await new Promise<[number | null, NodeJS.Signals | null, Error | undefined]>((resolve) => {
        child.once('error', (e) => resolve([null, null, e]));
        child.once('close', (c, s) => resolve([c, s, undefined]));
      });
      for (const t of timers) clearTimeout(t);
      req.signal.removeEventListener('abort', onAbort);
      child.stdin.destroy();
      running.delete(child);
      show(out.end());
      stderrLines(err.end(), true);

      if (spawnError) {
        const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        return result({ error: missing ? `${target.node}: ${ssh} not found; install the OpenSSH client` : `${target.node}: cannot start ssh: ${spawnError.message}` });
      }
      const ctx = { node: target.node, become: target.become, ...(target.user ? { user: target.user } : {}) };
      const lastLine = stderr.trim().split('\n').pop();
      let error: string | undefined;
      if (!wrapperStarted && !timedOut && !interrupted) {
        // The wrapper never ran: ssh could not connect, or sudo/bash refused to start.
        const knownHosts = /host key/i.test(stderr) ? knownHostsFile(config, target.node, ssh) : undefined;
        error =
          (code === 255 ? explainSshFailure(stderr, { ...ctx, ...(knownHosts ? { knownHosts } : {}) }) : explainSudoFailure(stderr, ctx)) ??
          `${target.node}: could not start the step (${code === 255 ? 'ssh' : 'remote shell'} exit ${code})${lastLine ? `: ${lastLine}` : ''}`;
      } else if (remoteExit === undefined && !timedOut && !interrupted) {
        error = `${target.node}: connection lost while the step was running${lastLine ? ` (${lastLine})` : ''}; the node ends the step's processes when it notices`;
      }
      // A remote shell killed by the signal we sent exits 128+n; name the signal as the local executor would.
      const remoteSignal = (timedOut || interrupted) && code !== null && code > 128 ? signalName(code - 128) : null;
      return result({
        exitCode: error ? null : (remoteExit ?? code),
        signal: signal ?? remoteSignal,
        timedOut,
        interrupted,
        ...(error ? { error } : {}),
      });
    },

    async close() {
      for (const child of running) {
        child.stdin?.end();
        child.kill('SIGKILL');
      }
      running.clear();
      if (!dir) return;
      const owned = dir;
      dir = undefined;
      await Promise.all(
        [...configs].map(([node, config]) => (existsSync(join(owned, `${node}.sock`)) ? stopMaster(ssh, config, join(owned, `${node}.sock`), node) : undefined)),
      );
      configs.clear();
      rmSync(owned, { recursive: true, force: true });
    },
  };
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
