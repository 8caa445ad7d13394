import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One run of a runbook at a time per machine. The lock is a small JSON file
 * naming its holder, created atomically with link(2); a lock whose process is
 * gone (the runner was killed) is taken over.
 */

export interface LockHolder {
  runbook: string;
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
}

export interface Lock {
  file: string;
  release(): void;
}

/** Machine-wide by default, so two checkouts cannot run the same runbook at once; RUNBOOK_LOCK_DIR moves it (tests). */
export function lockDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNBOOK_LOCK_DIR || join(env.XDG_RUNTIME_DIR || tmpdir(), 'runbook-locks');
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLock(holder: LockHolder, dir = lockDir()): Lock | { heldBy: LockHolder } {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${holder.runbook}.lock`);
  const mine = JSON.stringify(holder);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, mine);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(temp, file);
        return { file, release: () => releaseIfMine(file, mine) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = readHolder(file);
      if (!current) continue; // released meanwhile
      if (current.holder.host !== hostname() || processAlive(current.holder.pid)) return { heldBy: current.holder };
      takeOver(file, current.text);
    }
    const current = readHolder(file);
    return { heldBy: current?.holder ?? { ...holder, runId: 'unknown', pid: 0 } };
  } finally {
    unlinkSync(temp);
  }
}

function readHolder(file: string): { text: string; holder: LockHolder } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    return { text, holder: JSON.parse(text) as LockHolder };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: unreadable lock file (${(err as Error).message}); remove it if no run of this runbook is in progress`);
  }
}

/** Moves a dead holder's lock aside; if another runner replaced it in the meantime, puts that one back. */
function takeOver(file: string, staleText: string): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  const moved = readFileSync(aside, 'utf8');
  if (moved !== staleText) {
    try {
      linkSync(aside, file);
    } catch {
      // Someone else holds it now; their lock stands.
    }
  }
  unlinkSync(aside);
}

function releaseIfMine(file: string, mine: string): void {
  try {
    if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
  } catch {
    // Already gone.
  }
}
