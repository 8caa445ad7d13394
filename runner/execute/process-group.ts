import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The runner's one process layer below the executors: is a pid alive, signal a
 * process group, find a step's processes by the environment mark they inherit,
 * and stop them with escalating signals.
 *
 * Written against /proc and kill(2) rather than zx's `kill()`: zx walks the tree
 * by parent pid (spawning `ps` each time), which misses exactly the processes that
 * matter here — descendants that left the tree with `setsid`, a double fork or
 * `nohup … &` and were reparented to init. Every step process carries the mark in
 * its environment instead (`RUNBOOK_STEP_MARK`), and /proc/<pid>/environ finds
 * them wherever they went. A process that empties its environment (`env -i`) or
 * runs as another user (`sudo` without root here) escapes the mark; its group is
 * still signalled, and the executor stops waiting for its output at the deadline.
 */

/** Environment names of the marks; `RUNBOOK_*` names are reserved, so a param cannot clash. */
export const RUN_ID_VAR = 'RUNBOOK_RUN_ID';
export const STEP_MARK_VAR = 'RUNBOOK_STEP_MARK';

/**
 * One pid-alive check for the whole runner (locks, records, executors): a zombie
 * is gone, and EPERM (a live process of another user) counts as alive.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = procState(pid);
  return state === undefined ? true : !isDead(state);
}

/** Sends `signal` to a process group; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: nothing left in it
  }
}

export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while the group has a member that is not a zombie (zombies only wait for a parent to reap them). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const pids = procPids();
  if (!pids) return true; // no /proc: trust kill(0)
  return pids.some((pid) => {
    const stat = procStat(pid);
    return stat !== undefined && stat.pgrp === pgid && !isDead(stat.state);
  });
}

export interface ProcessInfo {
  pid: number;
  /** The command line, arguments joined by spaces (empty for a kernel thread). */
  command: string;
}

/**
 * Living processes whose environment holds `entry` (`NAME=value`) as a whole entry,
 * or, with `prefix`, an entry starting with it. The runner's own pid is never listed.
 */
export function findMarked(entry: string, options: { prefix?: boolean; among?: number[] } = {}): number[] {
  const needle = Buffer.from(options.prefix ? entry : `${entry}\0`);
  const found: number[] = [];
  for (const pid of options.among ?? procPids() ?? []) {
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or another user's (EACCES)
    }
    if (hasEntry(environ, needle) && !isDead(procState(pid) ?? 'X')) found.push(pid);
  }
  return found;
}

/**
 * Every process still alive from the run `runId`: its steps (they carry
 * RUNBOOK_RUN_ID) and its watchdog. `resume` refuses while this is not empty.
 */
export function findRunProcesses(runId: string): ProcessInfo[] {
  const found = new Map<number, string>();
  for (const pid of findMarked(`${RUN_ID_VAR}=${runId}`)) found.set(pid, procCmdline(pid).join(' '));
  for (const pid of procPids() ?? []) {
    // `bash -c <script> runbook-watchdog <runId> …`: shown by its name, not its script.
    const args = procCmdline(pid);
    const at = args.indexOf(WATCHDOG_NAME);
    if (at > 0 && args[at + 1] === runId && !isDead(procState(pid) ?? 'X')) found.set(pid, `${WATCHDOG_NAME} ${runId}`);
  }
  return [...found].sort(([a], [b]) => a - b).map(([pid, command]) => ({ pid, command }));
}

/** The `$0` of the watchdog's bash (see watchdog.ts), so findRunProcesses can name it. */
export const WATCHDOG_NAME = 'runbook-watchdog';

/** One stage of a stop: send `signal`, then wait up to `waitMs` for everything to be gone. */
export interface Stage {
  signal: NodeJS.Signals;
  waitMs: number;
}

/** After Ctrl-C: SIGINT (the step may clean up), SIGTERM after the grace, SIGKILL after as long again. */
export const interruptStages = (graceMs: number): Stage[] => [
  { signal: 'SIGINT', waitMs: graceMs },
  { signal: 'SIGTERM', waitMs: graceMs },
  { signal: 'SIGKILL', waitMs: REAP_MS },
];

/** After a timeout, for leftovers, and when the run ends: SIGTERM, SIGKILL after the grace. */
export const terminateStages = (graceMs: number): Stage[] => [
  { signal: 'SIGTERM', waitMs: graceMs },
  { signal: 'SIGKILL', waitMs: REAP_MS },
];

/** How long killed processes may take to disappear (they linger as zombies until reaped). */
const REAP_MS = 500;
const POLL_MS = 15;

/** A step's processes: its process group plus everything carrying its mark, wherever it went. */
export class StepProcesses {
  readonly pgid: number;
  /** `RUNBOOK_STEP_MARK=<value>`: the environment entry every process of the step inherits. */
  readonly mark: string;
  private readonly started = performance.now();

  /** `pgid` is the step's first process, started just now. */
  constructor(pgid: number, mark: string) {
    this.pgid = pgid;
    this.mark = mark;
  }

  /** The processes carrying the step's mark, wherever they went (a /proc scan). */
  strays(): number[] {
    // Reading every process's environment costs about 5 µs a process; a quick step's descendants can
    // only have the pids allocated since it started, so only those are read (see pidsSince).
    const recent = performance.now() - this.started < PID_WINDOW_MS ? pidsSince(this.pgid) : undefined;
    return findMarked(this.mark, recent ? { among: recent } : {});
  }

  alive(): boolean {
    return groupAlive(this.pgid) || this.strays().length > 0;
  }

  signal(signal: NodeJS.Signals): void {
    const strays = this.strays();
    // A stopped process holds a TERM or INT until it is continued; KILL needs no help.
    for (const sig of signal === 'SIGKILL' ? [signal] : [signal, 'SIGCONT' as const]) {
      signalGroup(this.pgid, sig);
      for (const pid of strays) signalPid(pid, sig);
    }
  }

  /** Runs the stages in order and returns as soon as nothing of the step is left (or the last wait is over). */
  async stop(stages: readonly Stage[]): Promise<void> {
    await escalate(this, stages);
  }
}

/**
 * Everything still carrying the run's id when the run ends: a step's descendant that dropped
 * its step mark (`env -u RUNBOOK_STEP_MARK …`) but kept the run id outlived Ctrl-C before
 * this sweep. The watchdog does the same if the runner dies.
 */
export function runLeftovers(runId: string): Stoppable {
  const pids = () => findMarked(`${RUN_ID_VAR}=${runId}`).filter((pid) => pid !== process.pid);
  return {
    alive: () => pids().length > 0,
    signal(sig) {
      for (const pid of pids())
        for (const s of sig === 'SIGKILL' ? [sig] : [sig, 'SIGCONT' as const]) signalPid(pid, s);
    },
  };
}

export interface Stoppable {
  alive(): boolean;
  signal(sig: NodeJS.Signals): void;
}

export async function escalate(target: Stoppable, stages: readonly Stage[]): Promise<void> {
  for (const stage of stages) {
    if (!target.alive()) return;
    target.signal(stage.signal);
    const deadline = performance.now() + stage.waitMs;
    while (performance.now() < deadline) {
      await sleep(POLL_MS);
      if (!target.alive()) return;
    }
  }
}

// ── /proc ────────────────────────────────────────────────────────────────────

/**
 * Linux hands out pids in increasing order and wraps once at pid_max (≥ 32768).
 * /proc/loadavg ends with the last pid handed out (in our pid namespace), so the
 * pids allocated since `first` are (first, last], or, if the counter wrapped,
 * above `first` or up to `last`. Going round a second time would take more than
 * pid_max forks; within PID_WINDOW_MS that is out of reach, so later the scan
 * reads every process again. Undefined when /proc cannot tell.
 */
const PID_WINDOW_MS = 1000;
function pidsSince(first: number): number[] | undefined {
  let last: number;
  try {
    last = Number(readFileSync('/proc/loadavg', 'utf8').trim().split(' ').pop());
  } catch {
    return undefined;
  }
  const pids = procPids();
  if (!pids || !Number.isInteger(last) || last <= 0) return undefined;
  return pidWindow(pids, first, last);
}

/** The pids handed out from `first` up to `last`, the counter having wrapped at most once. */
export function pidWindow(pids: readonly number[], first: number, last: number): number[] {
  return last >= first ? pids.filter((p) => p >= first && p <= last) : pids.filter((p) => p >= first || p <= last);
}

function procPids(): number[] | undefined {
  try {
    return readdirSync('/proc')
      .filter((d) => d.charCodeAt(0) >= 48 && d.charCodeAt(0) <= 57)
      .map(Number);
  } catch {
    return undefined;
  }
}

/** "pid (comm) state ppid pgrp …"; comm may itself contain spaces and parentheses. */
function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state ?? 'X', pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

const procState = (pid: number) => procStat(pid)?.state;
const isDead = (state: string) => state === 'Z' || state === 'X';

function procCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
  } catch {
    return [];
  }
}

/** Whether a NUL-separated environment block holds `needle` at the start of one of its entries. */
function hasEntry(environ: Buffer, needle: Buffer): boolean {
  for (let at = environ.indexOf(needle); at >= 0; at = environ.indexOf(needle, at + 1)) {
    if (at === 0 || environ[at - 1] === 0) return true;
  }
  return false;
}
