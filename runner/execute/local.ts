import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
// zx/core: the process API without zx's script-runner extras (a tenth of the import time).
import { $, which } from 'zx/core';
import type { ExecRequest, ExecResult, Executor } from './types.ts';
import { OutputTail } from './tail.ts';

export interface LocalExecutorOptions {
  /** After Ctrl-C: SIGINT, then SIGTERM after this long, then SIGKILL after as long again. */
  interruptGraceMs?: number;
  /** After a timeout (or for leftovers once the script has exited): SIGTERM, then SIGKILL after this long. */
  killGraceMs?: number;
}

/** stderr joins stdout so the output keeps its real order; then the strict mode the format promises. */
const PRELUDE = 'exec 2>&1\nset -euo pipefail\n';

/**
 * Runs steps in bash on this machine. Each step gets its own process group
 * (`detached`), so a timeout or Ctrl-C reaches everything the script started,
 * background jobs included, and nothing it started outlives the step.
 */
export function createLocalExecutor(options: LocalExecutorOptions = {}): Executor {
  const interruptGrace = options.interruptGraceMs ?? 3000;
  const killGrace = options.killGraceMs ?? 2000;
  const bash = which.sync('bash', { nothrow: true }) ?? '/bin/bash';
  const running = new Set<number>();

  return {
    async exec(req: ExecRequest): Promise<ExecResult> {
      const started = performance.now();
      const tail = new OutputTail();
      const fail = (error: string): ExecResult => ({
        exitCode: null, signal: null, timedOut: false, interrupted: false, output: '', truncated: false, durationMs: performance.now() - started, error,
      });
      if (req.cwd && !(existsSync(req.cwd) && statSync(req.cwd).isDirectory())) return fail(`cwd ${req.cwd} is not a directory on this machine`);
      if (req.signal.aborted) return { ...fail('interrupted before it started'), interrupted: true };

      const p = $({
        shell: bash,
        prefix: PRELUDE,
        postfix: '',
        cwd: req.cwd,
        env: { ...inheritedEnv(), ...req.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        quiet: true,
        verbose: false,
        nothrow: true,
        halt: true,
      })(verbatim(req.script));
      p.run();
      const pgid = p.pid;
      if (pgid === undefined) {
        const out = await p;
        return fail(`cannot start ${bash}: ${out.cause?.message ?? 'unknown error'}`);
      }
      running.add(pgid);

      const decoder = new StringDecoder('utf8');
      p.stdout.on('data', (data: Buffer) => {
        const text = decoder.write(data);
        if (!text) return;
        tail.push(text);
        req.onOutput(text);
      });

      let timedOut = false;
      let interrupted = false;
      const timers: NodeJS.Timeout[] = [];
      const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));
      const onTimeout = () => {
        timedOut = true;
        signalGroup(pgid, 'SIGTERM');
        later(killGrace, () => signalGroup(pgid, 'SIGKILL'));
      };
      const onAbort = () => {
        interrupted = true;
        signalGroup(pgid, 'SIGINT');
        later(interruptGrace, () => signalGroup(pgid, 'SIGTERM'));
        later(2 * interruptGrace, () => signalGroup(pgid, 'SIGKILL'));
      };
      const timeout = setTimeout(onTimeout, req.timeoutMs);
      req.signal.addEventListener('abort', onAbort, { once: true });
      // Background jobs left behind when the script exits would hold the output
      // open and outlive the step: end them as a timeout would.
      p.child?.once('exit', () => {
        if (groupAlive(pgid)) {
          signalGroup(pgid, 'SIGTERM');
          later(killGrace, () => signalGroup(pgid, 'SIGKILL'));
        }
      });

      const out = await p;
      clearTimeout(timeout);
      await untilGone(pgid, killGrace);
      for (const t of timers) clearTimeout(t);
      req.signal.removeEventListener('abort', onAbort);
      running.delete(pgid);
      const rest = decoder.end();
      if (rest) {
        tail.push(rest);
        req.onOutput(rest);
      }
      return {
        exitCode: out.exitCode,
        signal: out.signal,
        timedOut,
        interrupted,
        output: tail.text(),
        truncated: tail.truncated,
        durationMs: performance.now() - started,
        ...(out.cause ? { error: `bash could not run the step: ${out.cause.message}` } : {}),
      };
    },
    async close() {
      for (const pgid of running) signalGroup(pgid, 'SIGKILL');
      running.clear();
    },
  };
}

/** A template-strings array holding the script as one literal piece: zx passes it to bash untouched. */
function verbatim(script: string): TemplateStringsArray {
  return Object.assign([script], { raw: [script] }) as unknown as TemplateStringsArray;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill(0) also reaches zombies, which only wait for a parent (here often a PID 1 that never reaps) to collect them.
  return hasLivingMember(pgid);
}

function hasLivingMember(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return true; // no /proc: trust kill(0)
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp …"; comm may itself contain spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

/** Waits until no process of the group is left; SIGKILLs what remains after `graceMs`. */
async function untilGone(pgid: number, graceMs: number): Promise<void> {
  const pause = () => new Promise((r) => setTimeout(r, 10));
  const deadline = performance.now() + graceMs;
  while (groupAlive(pgid) && performance.now() < deadline) await pause();
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGKILL');
  // Killed processes linger as zombies until their new parent reaps them; do not wait for that forever.
  const reaped = performance.now() + 500;
  while (groupAlive(pgid) && performance.now() < reaped) await pause();
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
