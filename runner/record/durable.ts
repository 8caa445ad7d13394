import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { getSystemErrorMessage } from 'node:util';
import { pidAlive } from '../execute/process-group.ts';

/**
 * Replacing a file so that every reader, and every crash, sees either the old
 * file or the complete new one: a temp file beside it (O_EXCL), every byte
 * written, fsync, rename(2) over the old one, fsync of the folder so the rename
 * itself survives a power cut. When any step fails the temp file is removed and
 * the old file is untouched.
 *
 * Hand-written rather than `write-file-atomic` (installed): its sync API issues a
 * single write(2) and ignores the count. On a nearly full filesystem write(2)
 * stores part of the buffer and returns the shorter count without an error, and
 * write-file-atomic 8.0.0 then renames the cut-off file over the good one
 * (measured on a 64 KB tmpfs: a 50 KB file replaced by its first 24 KB). It also
 * leaves the folder unsynced after the rename.
 */

/** The few fs calls a replacement makes; tests pass a version that fails on demand. */
export interface FileIo {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { recursive: true }): unknown;
}

const nodeIo: FileIo = fs;

export function replaceFileDurably(
  file: string,
  data: string,
  options: { io?: FileIo; fsync?: boolean; mode?: number } = {},
): void {
  const io = options.io ?? nodeIo;
  const sync = options.fsync !== false;
  const bytes = Buffer.from(data);
  const dir = dirname(file);
  io.mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`);
  let fd = io.openSync(temp, 'wx', options.mode ?? 0o644);
  let renamed = false;
  try {
    for (let at = 0; at < bytes.length; ) {
      const n = io.writeSync(fd, bytes, at, bytes.length - at);
      if (n <= 0) throw Object.assign(new Error(`short write to ${temp}`), { code: 'EIO', errno: -5 });
      at += n;
    }
    if (sync) io.fsyncSync(fd);
    io.closeSync(fd);
    fd = -1;
    io.renameSync(temp, file);
    renamed = true;
    if (sync) syncFolder(dir, io);
  } finally {
    if (fd >= 0) ignore(() => io.closeSync(fd));
    if (!renamed) ignore(() => io.unlinkSync(temp));
  }
}

/** fsync of the folder makes the rename durable; filesystems that cannot sync a folder say EINVAL. */
function syncFolder(dir: string, io: FileIo): void {
  const fd = io.openSync(dir, 'r');
  try {
    io.fsyncSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    io.closeSync(fd);
  }
}

/** Temp files left beside `file` by a writer that was killed mid-write (its pid is gone). */
export function removeStaleTemps(file: string): void {
  const dir = dirname(file);
  const prefix = `.${basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (pid && !pidAlive(pid)) ignore(() => fs.unlinkSync(join(dir, name)));
  }
}

/** "no space left on device (ENOSPC)": the system's words and the code an operator can search for. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOTDIR' || e?.code === 'EEXIST') return `a file is in the way where a folder should be (${e.code})`;
  if (typeof e?.errno === 'number' && e.code) {
    try {
      return `${getSystemErrorMessage(e.errno).toLowerCase()} (${e.code})`;
    } catch {
      // an errno the platform does not know
    }
  }
  return e?.message ?? String(err);
}

function ignore(fn: () => void): void {
  try {
    fn();
  } catch {
    // cleanup after a failure: the first error is the one to report
  }
}
