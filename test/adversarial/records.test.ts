import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FileIo } from '../../runner/record/durable.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { findRecord, RecordWriteError, recordFile, writeRecord } from '../../runner/record/store.ts';
import { UsageError } from '../../runner/errors.ts';
import { makeLab, operatorEnv, ROOT, step, type Lab } from '../run/helpers.ts';

/**
 * Records: "A record is replaced only by a complete, fsynced, schema-valid file.
 * When a write fails (ENOSPC, EIO, read-only folder, a file or a symlink loop where
 * the folder should be), the previous record stays intact, the step's result is not
 * reported as success, and the run ends with exit 2 and one line naming the folder
 * and the cause. No run ever reports `succeeded` without its final record on disk."
 * And: paths never leave the records folder.
 */

const CLI = join(ROOT, 'runner/cli.ts');
const FAULTS = join(import.meta.dirname, 'fs-faults.ts');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI, optionally with a preload (the fs fault injector). */
function cli(args: string[], env: NodeJS.ProcessEnv, preload?: string): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...(preload ? ['--import', preload] : []), CLI, ...args], {
      cwd: ROOT,
      env: operatorEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Every file under `dir`, recursively (temp files included). */
function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

/** The one record file under `dir`, parsed strictly; also fails on any leftover temp file. */
function theRecord(dir: string): RunRecord {
  const files = allFiles(dir);
  expect(
    files.filter((f) => !f.endsWith('.json')),
    'no temp files are left',
  ).toEqual([]);
  expect(files).toHaveLength(1);
  return runRecordSchema.parse(JSON.parse(readFileSync(files[0]!, 'utf8')));
}

/** One line on stderr, naming the folder and the cause. */
function expectOneLine(r: CliResult, folder: string, cause: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^runbook: /);
  expect(lines[0]).toContain(folder);
  expect(lines[0]).toMatch(cause);
  expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  expect(r.stdout).not.toContain('Run succeeded');
}

function sampleRecord(runId: string, steps = 1, output = ''): RunRecord {
  return {
    schemaVersion: 1,
    runId,
    runbook: { id: 'demo', title: 'Demo', file: 'demo.mdx', kind: 'runbook' },
    git: { commit: null, dirty: false },
    pageHash: 'h',
    stepHashes: {},
    params: [],
    operator: 'op@host',
    host: hostname(),
    pid: process.pid,
    cluster: {},
    status: 'running',
    startedAt: '2026-11-01T00:00:00.000Z',
    resumes: [],
    steps: Array.from({ length: steps }, (_, i) => ({
      index: i + 1,
      id: `s${i + 1}`,
      stepId: `s${i + 1}`,
      hash: 'h',
      flags: [],
      status: 'succeeded' as const,
      exitCode: 0,
      attempts: 1,
      durationMs: 1,
      output,
      truncated: false,
      targets: [],
    })),
  };
}

const RUN_ID = '20261101T000000Z-demo-0a0a';

// ── a tmpfs of our own (CI runs as root) ─────────────────────────────────────

const isRoot = process.getuid?.() === 0;
function mountTmpfs(dir: string, size: string): boolean {
  return (
    spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'ignore' }).status === 0
  );
}
const umount = (dir: string) => spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
const canMount = (() => {
  if (!isRoot) return false;
  const probe = mkdtempSync(join(tmpdir(), 'runbook-mount-probe-'));
  const ok = mountTmpfs(probe, '64k');
  if (ok) umount(probe);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();
const NEEDS_MOUNT = 'needs root and mount(8) to make a small tmpfs (CI runs as root)';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

describe('writeRecord: a record is replaced only by a complete, fsynced, schema-valid file', () => {
  const CODES = ['ENOSPC', 'EIO', 'EROFS', 'EDQUOT', 'ELOOP', 'ENOTDIR'] as const;

  /** Real fs calls in order, failing the `failAt`-th one (short-writing first when `short`). */
  function faultyIo(failAt: number, code: string, short: boolean, calls: string[]): FileIo {
    let n = 0;
    const fail = (what: string) => {
      calls.push(`${what}!`);
      return Object.assign(new Error(`${code} injected`), { code, errno: -5, syscall: what });
    };
    const tick = (what: string) => {
      n++;
      if (n === failAt) throw fail(what);
      calls.push(what);
    };
    const dirs = new Set<number>();
    return {
      mkdirSync: (p, o) => {
        tick('mkdir');
        return fs.mkdirSync(p, o);
      },
      openSync: (p, flags, mode) => {
        tick(flags === 'r' ? 'open-dir' : 'open');
        const fd = fs.openSync(p, flags, mode);
        if (flags === 'r') dirs.add(fd);
        return fd;
      },
      writeSync: (fd, buf, off, len) => {
        if (short && n + 1 === failAt) {
          n++;
          calls.push('write-short');
          return fs.writeSync(fd, buf, off, Math.ceil(len / 2)); // part lands; the next write gets the error
        }
        tick('write');
        return fs.writeSync(fd, buf, off, len);
      },
      fsyncSync: (fd) => {
        tick(dirs.has(fd) ? 'fsync-dir' : 'fsync');
        fs.fsyncSync(fd);
      },
      closeSync: (fd) => {
        tick('close');
        dirs.delete(fd);
        fs.closeSync(fd);
      },
      renameSync: (a, b) => {
        tick('rename');
        fs.renameSync(a, b);
      },
      unlinkSync: (p) => fs.unlinkSync(p), // cleanup never fails here: it is what is being checked
    };
  }

  it('whichever fs call fails, the file is the old record or the new one, whole, and no temp file is left (property)', () => {
    const file = recordFile(lab.records, 'demo', RUN_ID);
    const old = sampleRecord(RUN_ID, 1, 'old');
    writeRecord(file, old);
    const oldText = readFileSync(file, 'utf8');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 14 }),
        fc.constantFrom(...CODES),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        (failAt, code, short, steps) => {
          writeFileSync(file, oldText);
          const next = sampleRecord(RUN_ID, steps, 'x'.repeat(500));
          const calls: string[] = [];
          let threw: unknown;
          try {
            writeRecord(file, next, { io: faultyIo(failAt, code, short, calls) });
          } catch (err) {
            threw = err;
          }
          const text = readFileSync(file, 'utf8');
          expect(readdirSync(join(lab.records, 'demo'))).toEqual([`${RUN_ID}.json`]);
          const renamed = calls.includes('rename');
          if (threw === undefined) {
            expect(runRecordSchema.parse(JSON.parse(text))).toEqual(runRecordSchema.parse(next));
            // Durable: the bytes are synced before the rename, the folder after it.
            expect(calls.indexOf('fsync')).toBeGreaterThan(calls.lastIndexOf('write'));
            expect(calls.indexOf('fsync')).toBeLessThan(calls.indexOf('rename'));
            expect(calls.indexOf('fsync-dir')).toBeGreaterThan(calls.indexOf('rename'));
          } else {
            expect(threw).toBeInstanceOf(RecordWriteError);
            expect((threw as Error).message).toContain(`cannot write the run record in ${join(lab.records, 'demo')}: `);
            expect((threw as Error).message).toContain(`(${code === 'ENOTDIR' ? 'ENOTDIR' : code})`);
            // Before the rename nothing changed; after it (the folder's fsync failed) the new record is whole.
            expect(text).toBe(renamed ? `${JSON.stringify(runRecordSchema.parse(next), null, 2)}\n` : oldText);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a record that does not match the schema, and leaves the old one', () => {
    const file = recordFile(lab.records, 'demo', RUN_ID);
    writeRecord(file, sampleRecord(RUN_ID));
    const before = readFileSync(file, 'utf8');
    expect(() => writeRecord(file, { ...sampleRecord(RUN_ID), status: 'weird' as never })).toThrow(
      /invalid run record/,
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  describe.skipIf(!canMount)(`on a real, nearly full filesystem (${canMount ? 'tmpfs' : NEEDS_MOUNT})`, () => {
    let mnt: string;
    beforeAll(() => {
      mnt = mkdtempSync(join(tmpdir(), 'runbook-full-'));
      if (!mountTmpfs(mnt, '64k')) throw new Error(`cannot mount a tmpfs on ${mnt}`);
    });
    afterAll(() => {
      umount(mnt);
      rmSync(mnt, { recursive: true, force: true });
    });

    it('a write that only partly fits (a short write, not an error) never replaces the record', () => {
      // write(2) on an almost full filesystem stores what fits and returns the shorter count.
      const file = recordFile(mnt, 'demo', RUN_ID);
      writeRecord(file, sampleRecord(RUN_ID, 1, 'small'));
      const before = readFileSync(file, 'utf8');
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(36 * 1024));
      expect(() => writeRecord(file, sampleRecord(RUN_ID, 1, 'y'.repeat(40 * 1024)))).toThrow(
        /cannot write the run record in .*: no space left on device \(ENOSPC\)/,
      );
      expect(readFileSync(file, 'utf8')).toBe(before);
      expect(readdirSync(join(mnt, 'demo'))).toEqual([`${RUN_ID}.json`]);
    });
  });
});

describe('runbook run when its record cannot be written', () => {
  const threeSteps = (l: Lab, marker?: string) =>
    l.runbook(
      'rec',
      step('step=one', 'echo one') +
        step('step=two', 'echo two') +
        step('step=three', marker ? `touch ${marker}` : 'echo three'),
    );

  it('fails no matter which record write fails, at which stage and why: exit 2, one line, the last complete record, never succeeded (property)', async () => {
    const file = threeSteps(lab);
    // A clean run counts the writes: the initial record, one per step, the final one.
    const log = join(lab.dir, 'writes.log');
    const clean = await cli(
      ['run', file, ...lab.flags],
      { ...lab.env, FAULT_DIR: lab.records, FAULT_AT: '0', FAULT_LOG: log },
      FAULTS,
    );
    expect(clean.code, clean.stderr).toBe(0);
    const total = new Set(
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ).size;
    expect(total).toBe(5);
    rmSync(lab.records, { recursive: true, force: true });

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: total + 1 }),
        fc.constantFrom('open', 'write', 'short', 'fsync', 'rename', 'dirsync'),
        fc.constantFrom('ENOSPC', 'EIO', 'EROFS', 'EDQUOT'),
        async (at, stage, code) => {
          rmSync(lab.records, { recursive: true, force: true });
          const env = {
            ...lab.env,
            FAULT_DIR: lab.records,
            FAULT_AT: String(at),
            FAULT_STAGE: stage,
            FAULT_CODE: code,
          };
          const r = await cli(['run', file, ...lab.flags], env, FAULTS);
          if (at > total) {
            expect(r.code, r.stderr).toBe(0);
            expect(theRecord(lab.records).status).toBe('succeeded');
            return;
          }
          expectOneLine(r, join(lab.records, 'rec'), new RegExp(`\\(${code}\\)`));
          const record = theRecord(lab.records);
          // The first record failed: no step ran (the closing write that got through says so).
          if (at === 1) expect(record.steps.map((s) => s.status)).toEqual(['pending', 'pending', 'pending']);
          // Only a folder fsync failing after the final rename leaves the final (succeeded) record in place;
          // the run still says it could not confirm the write.
          if (at === total && stage === 'dirsync') expect(record.status).toBe('succeeded');
          else expect(record.status).not.toBe('succeeded');
          expect(r.stderr).toMatch(/the last complete record is \S+\.json/);
        },
      ),
      { numRuns: 24 },
    );
  }, 120_000); // 25 whole runs of the CLI: on two loaded cores that is more than the default 30 s

  it.skipIf(!canMount)(
    `on a full filesystem (${canMount ? 'tmpfs' : NEEDS_MOUNT}): stops at the step whose record does not fit`,
    async () => {
      const mnt = mkdtempSync(join(tmpdir(), 'runbook-full-run-'));
      try {
        expect(mountTmpfs(mnt, '200k')).toBe(true);
        const marker = join(lab.dir, 'ran-after');
        // Each step's output (40 KB) lands in the record, which soon no longer fits beside its previous version.
        const big = 'head -c 40000 /dev/zero | tr "\\0" x; echo';
        const file = lab.runbook(
          'full',
          [1, 2, 3, 4, 5].map((n) => step(`step=s${n}`, big)).join('') + step('step=after', `touch ${marker}`),
        );
        const r = await cli(['run', file, '--records', mnt, '--inventory', lab.inventory], lab.env);
        expectOneLine(r, join(mnt, 'full'), /no space left on device \(ENOSPC\)/);
        expect(existsSync(marker)).toBe(false); // the run stopped before the next step
        const record = theRecord(mnt);
        expect(record.status).toBe('running'); // the last complete record: written before the failing step ended
        const failed = record.steps.findIndex((s) => s.status === 'pending');
        expect(failed).toBeGreaterThan(0);
        // On stdout the step whose record did not fit is not a success.
        expect(r.stdout).toMatch(
          new RegExp(
            `■ ${failed + 1}/6 s${failed + 1} interrupted in \\S+: the run stopped: cannot write the run record`,
          ),
        );
      } finally {
        umount(mnt);
        rmSync(mnt, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(!canMount)(
    `when the folder turns read-only mid-run (${canMount ? 'tmpfs remounted ro' : NEEDS_MOUNT})`,
    async () => {
      const mnt = mkdtempSync(join(tmpdir(), 'runbook-ro-'));
      try {
        expect(mountTmpfs(mnt, '1m')).toBe(true);
        const marker = join(lab.dir, 'ran-after');
        const file = lab.runbook(
          'ro',
          step('step=freeze', `mount -o remount,ro ${mnt}`) + step('step=after', `touch ${marker}`),
        );
        const r = await cli(['run', file, '--records', mnt, '--inventory', lab.inventory], lab.env);
        expectOneLine(r, join(mnt, 'ro'), /read-only file system \(EROFS\)/);
        expect(existsSync(marker)).toBe(false);
        const record = theRecord(mnt);
        expect(record.steps.map((s) => s.status)).toEqual(['pending', 'pending']); // the record before the step: intact
        expect(r.stdout).toMatch(/■ 1\/2 freeze interrupted in \S+: the run stopped: cannot write the run record/);
      } finally {
        spawnSync('mount', ['-o', 'remount,rw', mnt], { stdio: 'ignore' });
        umount(mnt);
        rmSync(mnt, { recursive: true, force: true });
      }
    },
  );

  it('when a file is where the records folder (or the runbook folder) should be: exit 2, one line, nothing runs', async () => {
    const marker = join(lab.dir, 'ran');
    const file = threeSteps(lab, marker);
    const notADir = join(lab.dir, 'records-file');
    writeFileSync(notADir, 'not a folder');
    const r = await cli(['run', file, '--records', notADir, '--inventory', lab.inventory], lab.env);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(notADir);
    expect(existsSync(marker)).toBe(false);

    mkdirSync(lab.records);
    writeFileSync(join(lab.records, 'rec'), 'a file where the runbook folder goes');
    const inner = await cli(['run', file, ...lab.flags], lab.env);
    expectOneLine(
      inner,
      join(lab.records, 'rec'),
      /a file is in the way where a folder should be \((EEXIST|ENOTDIR)\)/,
    );
    expect(inner.stderr).toContain('nothing was run');
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(lab.records, 'rec'), 'utf8')).toBe('a file where the runbook folder goes');
  });

  it('when a step swaps its runbook folder for a symlink to elsewhere mid-run: exit 2, nothing written outside, no later step', async () => {
    const outside = join(lab.dir, 'outside');
    const later = join(lab.dir, 'later-ran');
    const file = lab.runbook(
      'swap',
      step(
        'step=swap',
        `mv ${lab.records}/swap ${lab.dir}/moved && mkdir -p ${outside} && ln -s ${outside} ${lab.records}/swap`,
      ) + step('step=later', `touch ${later}`),
    );
    const r = await cli(['run', file, ...lab.flags], lab.env);
    expectOneLine(r, join(lab.records, 'swap'), /leads outside the records folder/);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(later)).toBe(false);
  });

  it('when a symlink loop is where the folder should be: exit 2, one line, nothing runs', async () => {
    const marker = join(lab.dir, 'ran');
    const file = threeSteps(lab, marker);
    mkdirSync(lab.records);
    symlinkSync(join(lab.records, 'rec'), join(lab.records, 'rec')); // rec -> rec
    const r = await cli(['run', file, ...lab.flags], lab.env);
    expectOneLine(r, join(lab.records, 'rec'), /\(ELOOP\)/);
    expect(existsSync(marker)).toBe(false);

    const loop = join(lab.dir, 'loop');
    symlinkSync(loop, loop);
    const top = await cli(['run', file, '--records', loop, '--inventory', lab.inventory], lab.env);
    expectOneLine(top, loop, /ELOOP|symbolic link/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('paths never leave the records folder', () => {
  /** A valid record outside the records folder, where traversal would find it. */
  function honeypot(): string {
    const outside = join(lab.dir, 'outside');
    mkdirSync(outside, { recursive: true });
    const file = join(outside, `${RUN_ID}.json`);
    writeFileSync(file, JSON.stringify(sampleRecord(RUN_ID)));
    return file;
  }

  it('findRecord accepts only run ids, and never finds a record outside the folder, whatever the input (property)', () => {
    honeypot();
    mkdirSync(join(lab.records, 'demo'), { recursive: true });
    const traversal = fc.constantFrom(
      '..',
      '../outside',
      `../outside/${RUN_ID}`,
      `../../outside/${RUN_ID}`,
      '/etc/passwd',
      '../../etc/passwd',
      `..%2F${RUN_ID}`,
    );
    const tricky = fc.oneof(
      traversal,
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc
        .tuple(fc.constantFrom('', '../', '/', './'), fc.constant(RUN_ID), fc.constantFrom('', '\0', '/..', '\n'))
        .map((p) => p.join('')),
      fc.string({ minLength: 200, maxLength: 400 }),
      fc.stringMatching(/^\d{8}T\d{6}Z-[a-z./-]{1,20}-[0-9a-f]{4}$/),
    );
    fc.assert(
      fc.property(tricky, (input) => {
        let found: string | undefined;
        try {
          found = findRecord(lab.records, input).file;
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect((err as Error).message.split('\n')).toHaveLength(1);
          return;
        }
        expect(resolve(found).startsWith(`${resolve(lab.records)}/`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('recordFile refuses ids that are not one plain path segment, and anything it returns is inside the folder (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 140 }),
          fc.constantFrom('..', '.', 'a/b', 'a\0b', '', 'x'.repeat(129), '-x', 'ok-id'),
        ),
        (id) => {
          let file: string;
          try {
            file = recordFile(
              lab.records,
              id,
              `20261101T000000Z-${/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) ? id : 'demo'}-abcd`,
            );
          } catch (err) {
            expect(err).toBeInstanceOf(UsageError);
            return;
          }
          expect(file.startsWith(`${resolve(lab.records)}/`)).toBe(true);
          expect(file.slice(resolve(lab.records).length + 1).split('/')).toHaveLength(2);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a runbook folder that links outside the records folder is refused, for reading and for writing', () => {
    const pot = honeypot();
    mkdirSync(lab.records, { recursive: true });
    symlinkSync(join(lab.dir, 'outside'), join(lab.records, 'demo'));
    expect(() => findRecord(lab.records, RUN_ID)).toThrow(/leads outside the records folder/);
    expect(() => recordFile(lab.records, 'demo', RUN_ID)).toThrow(/leads outside the records folder/);
    expect(readFileSync(pot, 'utf8')).toBe(JSON.stringify(sampleRecord(RUN_ID)));
  });

  it('`runbook resume` with a path, `..`, an absolute path, a control character or an overlong name: exit 2, one line', async () => {
    honeypot();
    for (const bad of [
      '../../etc/passwd',
      '..',
      `../outside/${RUN_ID}`,
      '/etc/passwd',
      'x\x1b[31mred',
      'r'.repeat(5000),
    ]) {
      const r = await cli(['resume', bad, ...lab.flags], lab.env);
      expect(r.code, bad).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^runbook: .* is not a run id/);
      expect(lines[0]!.length).toBeLessThan(300);
      expect(r.stderr).not.toContain('\x1b');
    }
  });
});
