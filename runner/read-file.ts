import { errnoWords } from './errors.ts';
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';

/**
 * Reads a page, an inventory or a kubeconfig, which must be a regular file. A FIFO, a
 * socket or a device would make readFileSync wait for a writer forever (`runbook check`
 * hung on a FIFO named x.mdx); opening without blocking and checking the type first turns
 * that into an ordinary error the callers already describe.
 */
export function readRegularFile(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    // A folder is left to readFileSync, whose EISDIR the callers already describe.
    if (!stat.isFile() && !stat.isDirectory()) {
      const kind = stat.isFIFO() ? 'a FIFO' : stat.isSocket() ? 'a socket' : 'a device';
      throw Object.assign(new Error(`${path} is ${kind}, not a regular file`), {
        code: 'ENOTREG',
        syscall: 'read',
        path,
        kind,
      });
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The reason a read failed, in words: "a FIFO, not a regular file", "ENOENT". */
export function readProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOTREG') return `${(e as { kind?: string }).kind}, not a regular file`;
  return e?.code ? errnoWords(e.code) : String(err);
}

/**
 * Whether anything is at `path`, a dangling or looping symlink included: existsSync says
 * no for those, which turned a symlink loop into "no such file" (or, for a kubeconfig, into
 * a file silently skipped). Such a path then fails where it is read, with the real reason.
 */
export function somethingAt(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
