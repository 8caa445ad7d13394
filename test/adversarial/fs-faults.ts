// Preload (`node --import`) for a runbook CLI under test: fails one record write,
// the FAULT_AT-th (1-based) under FAULT_DIR, at one stage of it, with FAULT_CODE.
// Stages: open (the temp file), write, short (half the bytes land, then the error),
// fsync, rename, dirsync (the folder's fsync after the rename). FAULT_LOG, when set,
// gets one line per record write: "<n> <stage reached>", so a test can count them.
// Patches node:fs itself, so the runner's code runs unchanged.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const dir = process.env.FAULT_DIR ?? '/nonexistent';
const at = Number(process.env.FAULT_AT ?? 0);
const stage = process.env.FAULT_STAGE ?? 'write';
const code = process.env.FAULT_CODE ?? 'EIO';
const log = process.env.FAULT_LOG;
const ERRNO: Record<string, number> = {
  ENOSPC: -28,
  EIO: -5,
  EROFS: -30,
  EDQUOT: -122,
  ELOOP: -40,
  ENOTDIR: -20,
  EACCES: -13,
};

const real = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  writeSync: fs.writeSync,
  fsyncSync: fs.fsyncSync,
  renameSync: fs.renameSync,
};
const byFd = new Map<number, number>(); // temp file fd → write number
const byPath = new Map<string, number>(); // temp path → write number
const dirFd = new Map<number, number>(); // folder fd opened for fsync → write number
let writes = 0;
let shortDone = false;

const fault = (syscall: string) =>
  Object.assign(new Error(`${code}: injected fault, ${syscall}`), { code, errno: ERRNO[code] ?? -5, syscall });
const note = (n: number, what: string) => {
  if (log) fs.appendFileSync(log, `${n} ${what}\n`);
};
const inDir = (p: unknown) => typeof p === 'string' && p.startsWith(dir);

const patched = {
  openSync(path: fs.PathLike, flags: fs.OpenMode = 'r', mode?: fs.Mode | null): number {
    if (inDir(path) && String(path).endsWith('.tmp')) {
      const n = ++writes;
      note(n, 'open');
      if (n === at && stage === 'open') throw fault('open');
      const fd = real.openSync(path, flags, mode);
      byFd.set(fd, n);
      byPath.set(String(path), n);
      return fd;
    }
    const fd = real.openSync(path, flags, mode);
    if (inDir(path) && flags === 'r' && fs.fstatSync(fd).isDirectory()) dirFd.set(fd, writes);
    return fd;
  },
  closeSync(fd: number): void {
    // fd numbers are reused: forget this one first.
    byFd.delete(fd);
    dirFd.delete(fd);
    real.closeSync(fd);
  },
  writeSync(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null): number {
    const n = byFd.get(fd);
    if (n === at && stage === 'write') throw fault('write');
    if (n === at && stage === 'short') {
      if (shortDone) throw fault('write');
      shortDone = true;
      return real.writeSync(fd, buffer, offset, Math.max(1, Math.floor((length ?? buffer.length) / 2)), position);
    }
    return real.writeSync(fd, buffer, offset, length, position);
  },
  fsyncSync(fd: number): void {
    if (byFd.get(fd) === at && stage === 'fsync') throw fault('fsync');
    if (dirFd.get(fd) === at && stage === 'dirsync') throw fault('fsync');
    real.fsyncSync(fd);
  },
  renameSync(from: fs.PathLike, to: fs.PathLike): void {
    const n = byPath.get(String(from));
    if (n === at && stage === 'rename') throw fault('rename');
    real.renameSync(from, to);
    if (n !== undefined) note(n, 'renamed');
  },
};
Object.assign(fs, patched);
syncBuiltinESMExports();
