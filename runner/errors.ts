import type { z } from 'zod';

/** Bad input from the user, or a runner failure explained: exit code 2, message printed without a stack. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** 1 is only ever "a step failed": every failure of the runner itself is 2. */
export const EXIT = { ok: 0, stepFailed: 1, usage: 2, interrupted: 130 } as const;

/** A schema issue, located: the dotted field it is about, the line of that field when known, and what is wrong. */
export interface FieldIssue {
  field: string;
  line?: number;
  message: string;
}

/**
 * The one mapping from zod issues to located field issues, used by the page parser, the inventory loader and
 * the record store. `prefix` is where the validated value sits in its document (['runbook'] for the block).
 */
export function fieldIssues(
  issues: readonly z.core.$ZodIssue[],
  lineOf?: (path: PropertyKey[]) => number | undefined,
  prefix: PropertyKey[] = [],
): FieldIssue[] {
  return issues.map((issue) => {
    const path = [...prefix, ...(issue.path as PropertyKey[])];
    const line = lineOf?.(path);
    return { field: path.map(String).join('.'), ...(line ? { line } : {}), message: issue.message };
  });
}

/** Issues as lines of an error message: `file[:line]  field: message`. */
export function formatZodIssues(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  lineOf?: (path: PropertyKey[]) => number | undefined,
): string {
  return fieldIssues(issues, lineOf)
    .map((i) => `${i.line ? `${file}:${i.line}` : file}  ${i.field ? `${i.field}: ` : ''}${i.message}`)
    .join('\n');
}

/** What an errno code means, in plain words, and what usually fixes it. */
const ERRNO: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied (check its owner and mode)',
  EPERM: 'operation not permitted (check its owner and mode)',
  ENOSPC: 'no space left on the device (free some space, then try again)',
  EDQUOT: 'the disk quota is used up (free some space, then try again)',
  ENAMETOOLONG: 'the name is too long (use a shorter path or name)',
  ELOOP: 'too many symbolic links (a symlink loop, or a symlink where none is allowed)',
  ENOTDIR: 'a part of this path is not a folder',
  EISDIR: 'this is a folder, not a file',
  // Not an errno: runner/read-file.ts refuses FIFOs, sockets and devices, which would block a read.
  ENOTREG: 'not a regular file (a FIFO, socket or device would block the read; point at a file)',
  EROFS: 'the file system is read-only',
  EEXIST: 'it already exists',
  EIO: 'input/output error (a failing disk, or a terminal that went away)',
  EMFILE: 'too many open files (raise `ulimit -n`)',
  ENFILE: 'too many open files on this system',
  ENOTEMPTY: 'the folder is not empty',
  EBUSY: 'it is busy (in use by another program)',
  EXDEV: 'it is on another file system',
};

const VERB: Record<string, string> = {
  open: 'cannot open',
  read: 'cannot read',
  write: 'cannot write',
  mkdir: 'cannot create the folder',
  rename: 'cannot replace',
  unlink: 'cannot remove',
  rmdir: 'cannot remove',
  scandir: 'cannot list',
  stat: 'cannot read',
  lstat: 'cannot read',
  link: 'cannot create',
  symlink: 'cannot create',
  chmod: 'cannot change',
  fsync: 'cannot save',
  copyfile: 'cannot copy',
  access: 'cannot use',
  spawn: 'cannot start',
};

const shortPath = (p: string) => (p.length > 120 ? `${p.slice(0, 60)}…${p.slice(-40)} (${p.length} characters)` : p);

/**
 * One line for any error: a UsageError's own message, an errno error as
 * "cannot <verb> <path>: <plain words>", anything else by its first line.
 */
/** An errno code in plain words ("too many symbolic links (…)"), or the code itself when unknown. */
export function errnoWords(code: string): string {
  return ERRNO[code] ?? code;
}

export function describeError(err: unknown): string {
  if (err instanceof UsageError) return err.message;
  const e = err as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && ERRNO[code]) {
    const verb = (e!.syscall && VERB[e!.syscall]) ?? 'cannot use';
    const path = e!.path ? ` ${shortPath(e!.path)}` : '';
    const dest = e!.dest ? ` → ${shortPath(e!.dest)}` : '';
    return `${verb}${path}${dest}: ${ERRNO[code]}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('\n').find((l) => l.trim() !== '') ?? (err instanceof Error ? err.name : 'unknown error');
  return code ? `${first} (${code})` : first;
}

/**
 * An error from the file system as a UsageError naming what was being done:
 * `what` is e.g. "the lock folder", so the line reads
 * "the lock folder: cannot create the folder /x: permission denied".
 */
export function fsProblem(what: string, err: unknown, todo = ''): UsageError {
  return new UsageError(`${what}: ${describeError(err)}${todo ? `. ${todo}` : ''}`);
}
