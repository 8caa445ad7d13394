// Starting and stopping the component processes. Each runs detached in its
// own process group (so `down` can kill it and anything it forks at once),
// writes to its own log file, and is recorded in the state dir so another
// invocation of `scripts/sandbox` can find it.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { escalate, pidAlive, signalGroup, signalPid, terminateStages } from '../../runner/execute/process-group.ts';

export interface ProcessRecord {
  name: string;
  pid: number;
  log: string;
  /** A string the process's command line must contain: guards against a reused pid. */
  marker: string;
}

export interface Started extends ProcessRecord {
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<string>;
  exitedWith: () => string | undefined;
}

export function startProcess(
  name: string,
  bin: string,
  args: string[],
  log: string,
  marker: string,
  env: NodeJS.ProcessEnv = process.env,
): Started {
  const fd = openSync(log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], env });
  } finally {
    closeSync(fd);
  }
  let exitInfo: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitInfo = signal ?? `exit code ${code}`)));
    child.once('error', (err) => resolve((exitInfo = `spawn error: ${err.message}`)));
  });
  // The sandbox must outlive `scripts/sandbox up`; the exit listener still
  // reaps the child if it ends while we run.
  child.unref();
  if (child.pid === undefined) {
    return { name, pid: -1, log, marker, exited, exitedWith: () => exitInfo ?? 'failed to spawn' };
  }
  return { name, pid: child.pid, log, marker, exited, exitedWith: () => exitInfo };
}

/** Alive and still the process we started (its command line has our marker). */
export function isOurs(rec: ProcessRecord): boolean {
  if (!pidAlive(rec.pid)) return false; // also false for a zombie: dead, not yet reaped
  try {
    return readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').includes(rec.marker);
  } catch {
    return false;
  }
}

/**
 * Stops the processes (in the given order): SIGTERM to each whole process
 * group, SIGKILL whatever is still there after the grace period (the runner's
 * escalation, process-group.ts), and waits until every pid is gone.
 */
export async function stopProcesses(recs: ProcessRecord[], graceMs = 10_000): Promise<void> {
  for (const rec of recs) {
    const target = {
      alive: () => isOurs(rec),
      // The group: started detached, so pgid == pid; the pid alone if the group is gone.
      signal: (sig: NodeJS.Signals) => signalGroup(rec.pid, sig) || signalPid(rec.pid, sig),
    };
    await escalate(target, terminateStages(graceMs));
  }
  const deadline = Date.now() + 10_000;
  while (recs.some(isOurs)) {
    if (Date.now() > deadline) {
      const left = recs.filter(isOurs).map((r) => `${r.name} (pid ${r.pid})`);
      throw new Error(`processes did not exit after SIGKILL: ${left.join(', ')}`);
    }
    await sleep(100);
  }
}

export function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log file)';
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n') || '(log is empty)';
}
