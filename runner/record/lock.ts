import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { homedir, hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describeError, UsageError } from '../errors.ts';
import { pidAlive } from '../execute/process-group.ts';

/**
 * One run of a runbook at a time per machine and user. The lock is a small JSON file
 * naming its holder, in a folder only this user can write; a lock whose process is
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

/**
 * Private by default, never a shared /tmp path: $XDG_RUNTIME_DIR (a per-user 0700
 * folder, cleared at logout) or ~/.local/state. RUNBOOK_LOCK_DIR moves it (tests).
 */
export function lockDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNBOOK_LOCK_DIR) return env.RUNBOOK_LOCK_DIR;
  if (env.XDG_RUNTIME_DIR && isAbsolute(env.XDG_RUNTIME_DIR)) return join(env.XDG_RUNTIME_DIR, 'runbook', 'locks');
  const state =
    env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'runbook', 'locks');
}

const TODO_DIR = 'set RUNBOOK_LOCK_DIR to a folder of your own, or fix this one';

/**
 * Creates the lock folder (0700) if needed and checks it is safe: a real folder, not
 * a symlink, owned by this user and writable by no one else. Anyone who could write
 * there could fake or remove the lock of a run that drains nodes.
 */
export function ensurePrivateDir(dir: string): void {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      st = lstatSync(dir);
    } catch (err) {
      throw new UsageError(`the lock folder ${dir}: ${describeError(err)}; ${TODO_DIR}`);
    }
  }
  if (st.isSymbolicLink())
    throw new UsageError(`the lock folder ${dir} is a symbolic link, which the runner never follows; ${TODO_DIR}`);
  if (!st.isDirectory()) throw new UsageError(`the lock folder ${dir} is not a folder; ${TODO_DIR}`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new UsageError(`the lock folder ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}); ${TODO_DIR}`);
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new UsageError(
      `the lock folder ${dir} is writable by others (mode ${mode}); run \`chmod 700 ${dir}\`, or ${TODO_DIR}`,
    );
  }
}

/**
 * Takes the runbook's lock, or throws the UsageError the operator sees: who holds it,
 * where, and what to do. The one call a run needs.
 */
export function takeRunLock(holder: LockHolder, dir = lockDir()): Lock {
  const got = acquireLock(holder, dir);
  if ('release' in got) return got;
  const h = got.heldBy;
  const file = lockFile(dir, holder.runbook);
  if (h.host !== hostname()) {
    throw new UsageError(
      `${holder.runbook} is held by run ${h.runId} on host ${h.host} (pid ${h.pid}, started ${h.startedAt}): ` +
        `the lock folder ${dir} is shared with that machine. Wait for that run to finish, or remove ${file} if it is over.`,
    );
  }
  throw new UsageError(
    `${holder.runbook} is already running on this machine: run ${h.runId}, pid ${h.pid}, started ${h.startedAt}. ` +
      'Wait for it to finish (a lock left by a dead process is taken over automatically).',
  );
}

const lockFile = (dir: string, runbook: string) => join(dir, `${runbook}.lock`);

/**
 * Creates the lock with O_EXCL/O_NOFOLLOW semantics and complete content: the holder
 * is written to a temp file opened O_CREAT|O_EXCL|O_NOFOLLOW, then link(2)ed to the
 * lock's name, which fails if anything (a file, a symlink) is already there and never
 * follows a symlink. Unlike writing the lock in place, no reader ever sees it empty.
 */
export function acquireLock(holder: LockHolder, dir = lockDir()): Lock | { heldBy: LockHolder } {
  ensurePrivateDir(dir);
  const file = lockFile(dir, holder.runbook);
  const mine = JSON.stringify(holder);
  const temp = `${file}.${process.pid}.tmp`;
  writeNew(temp, mine);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(temp, file);
        return { file, release: () => releaseIfMine(file, mine) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new UsageError(`cannot take the lock ${file}: ${describeError(err)}`);
      }
      const current = readHolder(file);
      if (!current) continue; // released meanwhile
      if (current.holder.host !== hostname() || pidAlive(current.holder.pid)) return { heldBy: current.holder };
      takeOver(file, current.text);
    }
    const current = readHolder(file);
    return { heldBy: current?.holder ?? { ...holder, runId: 'unknown', pid: 0 } };
  } finally {
    unlinkSync(temp);
  }
}

function writeNew(file: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_WRONLY, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      unlinkSync(file); // our own pid's leftover: this pid is us
    else throw new UsageError(`cannot write the lock ${file}: ${describeError(err)}`);
    writeNew(file, text);
    return;
  }
  try {
    writeSync(fd, text);
  } catch (err) {
    closeSync(fd);
    unlinkSync(file);
    throw new UsageError(`cannot write the lock ${file}: ${describeError(err)}`);
  }
  closeSync(fd);
}

const HOLDER_FIELDS = {
  runbook: 'string',
  runId: 'string',
  pid: 'number',
  host: 'string',
  startedAt: 'string',
} as const;

/** The lock's holder, read without following a symlink; undefined when there is no lock. */
function readHolder(file: string): { text: string; holder: LockHolder } | undefined {
  const todo = 'remove it if no run of this runbook is in progress';
  let text: string;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) throw new UsageError(`the lock ${file} is not a file; ${todo}`);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (err instanceof UsageError) throw err;
    if (code === 'ELOOP')
      throw new UsageError(`the lock ${file} is a symbolic link, which the runner never follows; ${todo}`);
    throw new UsageError(`cannot read the lock ${file}: ${describeError(err)}; ${todo}`);
  }
  let holder: unknown;
  try {
    holder = JSON.parse(text);
  } catch {
    holder = undefined;
  }
  const valid =
    typeof holder === 'object' &&
    holder !== null &&
    Object.entries(HOLDER_FIELDS).every(([k, type]) => typeof (holder as Record<string, unknown>)[k] === type);
  if (!valid) {
    const what = text.trim() === '' ? 'is empty' : 'is not a lock this runner wrote (not its JSON)';
    throw new UsageError(`the lock ${file} ${what}; ${todo}`);
  }
  return { text, holder: holder as LockHolder };
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
