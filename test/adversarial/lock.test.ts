import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, ensurePrivateDir, lockDir, takeRunLock, type LockHolder } from '../../runner/record/lock.ts';
import { UsageError } from '../../runner/errors.ts';
import { ROOT } from '../run/helpers.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const holder = (over: Partial<LockHolder> = {}): LockHolder => ({
  runbook: 'drain',
  runId: 'r1',
  pid: process.pid,
  host: hostname(),
  startedAt: '2026-12-01T00:00:00.000Z',
  ...over,
});
const isRoot = process.getuid?.() === 0;

describe('where the lock lives', () => {
  it('defaults to a per-user folder, never a shared /tmp path', () => {
    expect(lockDir({ HOME: '/home/op' })).toBe('/home/op/.local/state/runbook/locks');
    expect(lockDir({ HOME: '/home/op', XDG_STATE_HOME: '/home/op/state' })).toBe('/home/op/state/runbook/locks');
    expect(lockDir({ HOME: '/home/op', XDG_RUNTIME_DIR: '/run/user/1000' })).toBe('/run/user/1000/runbook/locks');
    // Relative XDG paths are ignored, as the XDG spec says.
    expect(lockDir({ HOME: '/home/op', XDG_RUNTIME_DIR: 'run', XDG_STATE_HOME: 'state' })).toBe(
      '/home/op/.local/state/runbook/locks',
    );
    for (const env of [{ HOME: '/home/op' }, { HOME: '/h', XDG_RUNTIME_DIR: '/run/user/0' }])
      expect(lockDir(env).startsWith(tmpdir())).toBe(false);
  });

  it('creates the folder 0700, owned by the user, whatever the umask', () => {
    const old = process.umask(0o000);
    try {
      const locks = join(dir, 'state', 'runbook', 'locks');
      const got = acquireLock(holder(), locks);
      if ('release' in got) got.release();
      const st = statSync(locks);
      expect(st.mode & 0o777).toBe(0o700);
      expect(st.uid).toBe(process.getuid!());
      expect(statSync(join(dir, 'state', 'runbook')).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(old);
    }
  });

  it('refuses a folder others can write, a symlinked folder, and (as root) one owned by someone else', () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    for (const mode of [0o777, 0o770, 0o722, 0o1777]) {
      chmodSync(open, mode);
      expect(() => ensurePrivateDir(open)).toThrow(/is writable by others \(mode \d{4}\); run `chmod 700/);
    }
    symlinkSync(open, join(dir, 'link'));
    expect(() => ensurePrivateDir(join(dir, 'link'))).toThrow(/is a symbolic link, which the runner never follows/);
    if (isRoot) {
      const theirs = join(dir, 'theirs');
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      expect(() => ensurePrivateDir(theirs)).toThrow(/belongs to uid 65534, not to you \(uid 0\)/);
    }
  });
});

describe('taking the lock', () => {
  it('never follows a symlink planted at the lock path, and never writes through it', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    const locks = join(dir, 'locks');
    mkdirSync(locks, { mode: 0o700 });
    symlinkSync(victim, join(locks, 'drain.lock'));
    expect(() => acquireLock(holder(), locks)).toThrow(
      /drain\.lock is a symbolic link, which the runner never follows/,
    );
    symlinkSync(join(dir, 'missing'), join(locks, 'other.lock'));
    expect(() => acquireLock(holder({ runbook: 'other' }), locks)).toThrow(/symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(join(locks, 'drain.lock')).isSymbolicLink()).toBe(true);
  });

  it('a lock file is created 0600 with complete content', () => {
    const got = acquireLock(holder(), dir);
    if (!('release' in got)) throw new Error('not taken');
    expect(statSync(got.file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(got.file, 'utf8'))).toEqual(holder());
    got.release();
  });

  it('whatever bytes a lock file holds, the answer is the holder or a UsageError naming the file (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.uint8Array().map((b) => Buffer.from(b).toString('latin1')),
          fc.json(),
          fc.constant(''),
        ),
        (text) => {
          writeFileSync(join(dir, 'drain.lock'), text, { encoding: 'latin1' });
          try {
            const got = acquireLock(holder({ pid: 1 }), dir);
            if ('release' in got) got.release();
          } catch (err) {
            expect(err).toBeInstanceOf(UsageError);
            expect((err as Error).message).toContain(join(dir, 'drain.lock'));
            expect((err as Error).message).toMatch(/remove it if no run of this runbook is in progress/);
          }
          rmSync(join(dir, 'drain.lock'), { force: true });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a lock held from another host says so, with the run and the host, instead of "on this machine"', () => {
    writeFileSync(join(dir, 'drain.lock'), JSON.stringify(holder({ host: 'nas-01', runId: 'run-on-nas', pid: 4242 })));
    expect(() => takeRunLock(holder(), dir)).toThrow(
      /drain is held by run run-on-nas on host nas-01 \(pid 4242, started .*\): the lock folder .* is shared with that machine/,
    );
    expect(() => takeRunLock(holder(), dir)).not.toThrow(/on this machine/);
  });

  it('a live holder on this machine is named; a dead one is taken over', () => {
    writeFileSync(join(dir, 'drain.lock'), JSON.stringify(holder({ runId: 'alive', pid: process.pid })));
    expect(() => takeRunLock(holder({ runId: 'me' }), dir)).toThrow(
      /drain is already running on this machine: run alive, pid \d+/,
    );
    writeFileSync(join(dir, 'drain.lock'), JSON.stringify(holder({ runId: 'dead', pid: 2 ** 22 + 1 })));
    const lock = takeRunLock(holder({ runId: 'me' }), dir);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).runId).toBe('me');
    lock.release();
  });

  it('of eight runners started at once, exactly one gets the lock', async () => {
    const gate = join(dir, 'go');
    const done = join(dir, 'done');
    // Every runner holds on (the winner keeps its lock alive) until all eight have tried: a winner that
    // exited early would leave a dead holder, which a late starter rightly takes over.
    const script = `
      import { existsSync } from 'node:fs';
      import { acquireLock } from ${JSON.stringify(join(ROOT, 'runner/record/lock.ts'))};
      const wait = async (f) => { while (!existsSync(f)) await new Promise((r) => setTimeout(r, 2)); };
      await wait(${JSON.stringify(gate)});
      const got = acquireLock({ runbook: 'race', runId: String(process.pid), pid: process.pid, host: ${JSON.stringify(hostname())}, startedAt: '' }, ${JSON.stringify(dir)});
      process.stdout.write('release' in got ? 'won' : 'lost');
      await wait(${JSON.stringify(done)});`;
    const results: string[] = [];
    const children = Array.from({ length: 8 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', (d) => results.push(String(d)));
      return new Promise<void>((res) => child.on('close', () => res()));
    });
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(gate, '');
    const deadline = Date.now() + 20_000;
    while (results.length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(done, '');
    await Promise.all(children);
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'lost')).toHaveLength(7);
  });
});
