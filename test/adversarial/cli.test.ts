import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeError } from '../../runner/errors.ts';
import { shellCommand, shellQuote } from '../../runner/ui/shell-quote.ts';
import { showInvisible } from '../../runner/ui/escape.ts';
import { confirmationText } from '../../runner/run/confirm.ts';
import type { StepInstance } from '../../runner/plan/plan.ts';
import { makeLab, operatorEnv, ROOT, runCli, step, type Lab } from '../run/helpers.ts';

/** What every failure of the runner (not of a step) looks like: exit 2, one line saying what and what to do, no stack. */
function expectOneLineFailure(r: { code: number | null; stderr: string }, says?: string | RegExp) {
  const lines = r.stderr.trimEnd().split('\n');
  expect(r.code, r.stderr).toBe(2);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^runbook: \S/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  if (says) expect(r.stderr).toMatch(says);
}

const isRoot = process.getuid?.() === 0;
let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

describe('a runner failure is one line and exit 2, never a stack or exit 1', () => {
  const okPage = () => lab.runbook('ok', step('step=a', 'true'));

  it('garbage, empty, unreadable and symlinked lock files, and a lock folder that is a file', async () => {
    const file = okPage();
    const locks = join(lab.dir, 'locks');
    const cases: Array<[string, () => void, RegExp]> = [
      [
        'garbage',
        () => writeFileSync(join(locks, 'ok.lock'), '\x00\xffnot json'),
        /the lock .*ok\.lock is not a lock this runner wrote .*remove it if no run/,
      ],
      ['wrong JSON', () => writeFileSync(join(locks, 'ok.lock'), '{"pid":"1"}'), /is not a lock this runner wrote/],
      ['empty', () => writeFileSync(join(locks, 'ok.lock'), ''), /the lock .*ok\.lock is empty; remove it/],
      ['a folder', () => mkdirSync(join(locks, 'ok.lock')), /the lock .*ok\.lock is not a file/],
      [
        'a symlink',
        () => symlinkSync('/etc/hostname', join(locks, 'ok.lock')),
        /ok\.lock is a symbolic link, which the runner never follows/,
      ],
    ];
    // The run's temp folder holds a copy of the kube credentials: it must not stay behind a refused run.
    const tmp = join(lab.dir, 'tmp');
    mkdirSync(tmp);
    for (const [, plant, says] of cases) {
      rmSync(locks, { recursive: true, force: true });
      mkdirSync(locks, { mode: 0o700 });
      plant();
      expectOneLineFailure(await runCli(['run', file, ...lab.flags], { ...lab.env, TMPDIR: tmp }), says);
      expect(readdirSync(tmp)).toEqual([]);
    }
    rmSync(locks, { recursive: true, force: true });
    writeFileSync(locks, '');
    expectOneLineFailure(await runCli(['run', file, ...lab.flags], lab.env), /the lock folder .*locks is not a folder/);
    expect(lab.readRecords()).toEqual([]);
  });

  it('--records that is a file, a dangling symlink, a symlink loop, too long a name, or under a file', async () => {
    const file = okPage();
    const plain = join(lab.dir, 'plain');
    writeFileSync(plain, '');
    symlinkSync(join(lab.dir, 'nowhere'), join(lab.dir, 'dangling'));
    symlinkSync(join(lab.dir, 'loop'), join(lab.dir, 'loop'));
    const cases: Array<[string, RegExp]> = [
      [plain, /--records .*plain is a file, not a folder/],
      [join(lab.dir, 'dangling'), /--records .*dangling is a symbolic link to something that does not exist/],
      [join(lab.dir, 'loop'), /--records .*loop is a symbolic link to something that does not exist \(or a loop\)/],
      [join(lab.dir, 'x'.repeat(300)), /the name is too long/],
      [join(plain, 'runs'), /a part of this path is not a folder/],
    ];
    for (const [records, says] of cases) {
      for (const verb of [
        ['run', file, '--inventory', lab.inventory],
        ['history'],
        ['show', file, '--inventory', lab.inventory],
      ]) {
        const r = await runCli([...verb, '--records', records], lab.env);
        // Reading (history, show): a folder that does not exist is simply empty; anything else unusable is refused.
        if (verb[0] !== 'run' && /x{300}|runs$/.test(records)) continue;
        expectOneLineFailure(r, says);
      }
    }
  });

  it.skipIf(!isRoot)('--records on a read-only file system (a real read-only tmpfs)', async () => {
    const mnt = join(lab.dir, 'ro');
    mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mnt]);
    if (mounted.status !== 0) return; // no mount privilege in this container
    try {
      expectOneLineFailure(
        await runCli(['run', okPage(), '--records', mnt, '--inventory', lab.inventory], lab.env),
        /the file system is read-only/,
      );
      expectOneLineFailure(
        await runCli(['run', okPage(), '--records', join(mnt, 'sub'), '--inventory', lab.inventory], lab.env),
        /read-only/,
      );
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it.skipIf(isRoot)('--records without permission', async () => {
    const locked = join(lab.dir, 'locked');
    mkdirSync(locked, { mode: 0o500 });
    expectOneLineFailure(
      await runCli(['run', okPage(), '--records', locked, '--inventory', lab.inventory], lab.env),
      /permission denied/,
    );
    chmodSync(locked, 0o700);
  });

  it('names too long: a runbook id, a run id, an inventory path', async () => {
    expectOneLineFailure(await runCli(['run', 'a'.repeat(5000), ...lab.flags], lab.env), /no runbook/);
    expectOneLineFailure(await runCli(['resume', `2026-${'r'.repeat(300)}`, ...lab.flags], lab.env));
    expectOneLineFailure(
      await runCli(['run', okPage(), '--records', lab.records, '--inventory', join(lab.dir, 'i'.repeat(300))], lab.env),
      /inventory/,
    );
  });

  it('malformed kubeconfig shapes name the file and what is wrong', async () => {
    const file = okPage();
    const shapes: Array<[string, RegExp]> = [
      ['just a string\n', /not a kubeconfig: the YAML is a string/],
      ['- a\n- b\n', /the YAML is a list/],
      ['42\n', /the YAML is a number/],
      ['contexts: {name: lab-test}\ncurrent-context: lab-test\n', /contexts must be a list/],
      ['contexts: [lab-test]\ncurrent-context: lab-test\n', /contexts\[0\] is not a \{name, context\} entry/],
      ['contexts: [{context: {cluster: c}}]\ncurrent-context: lab-test\n', /contexts\[0\] has no name/],
      ['contexts: [{name: lab-test}]\ncurrent-context: lab-test\n', /context "lab-test" names no cluster/],
      ['contexts: [{name: lab-test, context: [1]}]\ncurrent-context: lab-test\n', /context must be a mapping/],
      [
        'contexts: [{name: lab-test, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: [1]}}]\ncurrent-context: lab-test\n',
        /server that is not a URL/,
      ],
      ['current-context: [x]\n', /current-context must be a context name/],
      ['contexts: [unclosed\n', /not a readable kubeconfig/],
    ];
    for (const [text, says] of shapes) {
      writeFileSync(lab.kubeconfig, text);
      const r = await runCli(['run', file, ...lab.flags], lab.env);
      expectOneLineFailure(r, says);
      expect(r.stderr).toContain(lab.kubeconfig);
    }
    expectOneLineFailure(
      await runCli(['run', file, ...lab.flags], { ...lab.env, KUBECONFIG: lab.dir }),
      /this is a folder, not a file/,
    );
  });

  it('a FIFO as the page, the inventory or the kubeconfig is refused in one line, never waited on', async () => {
    const fifo = (name: string) => {
      const path = join(lab.dir, name);
      expect(spawnSync('mkfifo', [path]).status).toBe(0);
      return path;
    };
    const page = fifo('fifo.mdx');
    expectOneLineFailure(await runCli(['run', page, ...lab.flags], lab.env), /a FIFO, not a regular file/);
    expect((await runCli(['check', page], lab.env)).stdout).toMatch(/cannot read: a FIFO, not a regular file/);
    const inventory = fifo('inventory.yaml.fifo');
    expectOneLineFailure(
      await runCli(['run', okPage(), '--records', lab.records, '--inventory', inventory], lab.env),
      /a FIFO/,
    );
    const kubeconfig = fifo('kubeconfig.fifo');
    expectOneLineFailure(
      await runCli(['run', okPage(), ...lab.flags], { ...lab.env, KUBECONFIG: kubeconfig }),
      /not a regular file/,
    );
  });

  it('a symlink loop as the page or the kubeconfig is named as one, not read as missing', async () => {
    const page = join(lab.dir, 'loop.mdx');
    symlinkSync(page, page);
    expectOneLineFailure(await runCli(['run', page, ...lab.flags], lab.env), /cannot read: too many symbolic links/);
    const kubeconfig = join(lab.dir, 'loop.kubeconfig');
    symlinkSync(kubeconfig, kubeconfig);
    expectOneLineFailure(
      await runCli(['run', okPage(), ...lab.flags], { ...lab.env, KUBECONFIG: kubeconfig }),
      /too many symbolic links/,
    );
  });

  it('an unexpected error is one line with a pointer to RUNBOOK_DEBUG, and RUNBOOK_DEBUG=1 shows the stack (through the bin launcher)', () => {
    // A fault injected below the runner: every readdir fails with a plain Error, as a driver bug would.
    const inject = `data:text/javascript,${encodeURIComponent(
      "import fs from 'node:fs'; import { syncBuiltinESMExports } from 'node:module'; fs.readdirSync = () => { throw new Error('injected fault\\nsecond line'); }; syncBuiltinESMExports();",
    )}`;
    const run = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['--import', inject, 'runner/bin/runbook.js', 'history', '--records', lab.records], {
        cwd: ROOT,
        encoding: 'utf8',
        env: operatorEnv(env),
      });
    mkdirSync(lab.records, { recursive: true });
    const quiet = run({});
    expectOneLineFailure(
      { code: quiet.status, stderr: quiet.stderr },
      /^runbook: injected fault \(set RUNBOOK_DEBUG=1 for the stack\)$/m,
    );
    const debug = run({ RUNBOOK_DEBUG: '1' });
    expect(debug.status).toBe(2);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it('errno codes read as plain words naming the path, on one line', () => {
    const codes = ['ENOENT', 'EACCES', 'ENOSPC', 'ENAMETOOLONG', 'ELOOP', 'ENOTDIR', 'EISDIR', 'EROFS', 'EPERM', 'EIO'];
    for (const code of codes) {
      const err = Object.assign(new Error(`${code}: raw`), { code, syscall: 'open', path: '/some/where' });
      const text = describeError(err);
      expect(text).toMatch(/^cannot open \/some\/where: [a-z]/);
      expect(text).not.toContain(code);
      expect(text).not.toContain('\n');
    }
  });
});

describe('resume never starts a second copy beside the earlier attempt', () => {
  it('refuses while a process of the earlier attempt lives, naming its pid and command; resumes once it is gone', async () => {
    const file = lab.runbook('leftover', step('step=a', 'exit 1'));
    expect((await runCli(['run', file, ...lab.flags], lab.env)).code).toBe(1);
    const { runId } = lab.onlyRecord();
    // A step process that outlived its runner carries the run's mark in its environment.
    const straggler = spawn('sleep', ['30'], { env: { ...process.env, RUNBOOK_RUN_ID: runId }, stdio: 'ignore' });
    try {
      const r = await runCli(['resume', runId, ...lab.flags], lab.env);
      expectOneLineFailure(
        r,
        new RegExp(`still has processes of its earlier attempt: pid ${straggler.pid} \\(sleep 30\\)`),
      );
      expect(r.stderr).toContain(`kill ${straggler.pid}`);
    } finally {
      straggler.kill('SIGKILL');
      await new Promise((res) => straggler.once('exit', res));
    }
    expect((await runCli(['resume', runId, ...lab.flags], lab.env)).code).toBe(1); // the step itself fails again
  });
});

describe('a page with no steps cannot run', () => {
  it('run and run --dry-run refuse it (exit 2, nothing recorded)', async () => {
    const file = lab.runbook('empty', 'Only prose here, and an example:\n\n```bash\necho not a step\n```\n');
    for (const extra of [[], ['--dry-run']]) {
      const r = await runCli(['run', file, ...extra, ...lab.flags], lab.env);
      expectOneLineFailure(r, /empty\.mdx has no steps; nothing to run/);
    }
    expect(lab.readRecords()).toEqual([]);
  });
});

describe('every command printed for copying is shell-quoted', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-quote-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The words bash reads from each line (one bash for all of them). */
  function bashWords(lines: string[]): string[][] {
    // Each line's word count, then its words, all NUL-separated (no other byte can delimit arbitrary words).
    const script = lines.map((l) => `set -- ${l}; printf '%s\\0' "$#" "$@"`).join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const fields = r.stdout.split('\0');
    const out: string[][] = [];
    for (let i = 0; i < fields.length - 1; ) {
      const n = Number(fields[i]);
      out.push(fields.slice(i + 1, i + 1 + n));
      i += n + 1;
    }
    return out;
  }

  it('a quoted word is read back by bash exactly, whatever it holds (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.string({ unit: 'binary', minLength: 0, maxLength: 12 }).filter((s) => !s.includes('\0')),
            { minLength: 1, maxLength: 4 },
          ),
          { minLength: 1, maxLength: 40 },
        ),
        (commands) => {
          const printed = commands.map(shellCommand);
          for (const line of printed)
            expect(line).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u);
          expect(bashWords(printed)).toEqual(commands);
        },
      ),
      { numRuns: 25 },
    );
    expect(shellQuote('src/content/runs')).toBe('src/content/runs');
    // C1 and other non-ASCII invisibles go as UTF-8 bytes, which read back the same in any locale.
    expect(bashWords([shellCommand(['\u0080', '\u009b\u202e', '\ufeffx'])])).toEqual([
      ['\u0080', '\u009b\u202e', '\ufeffx'],
    ]);
  });

  it('"Resume with:" after a failed run, for a --records folder with spaces, quotes, $ and a newline in its name', async () => {
    const records = join(dir, "it's a $HOME\nfolder");
    const file = lab.runbook('quoted', step('step=a', 'exit 3'));
    const r = await runCli(['run', file, '--records', records, '--inventory', lab.inventory], lab.env);
    expect(r.code).toBe(1);
    const line = /Resume with: (.*)$/m.exec(r.stdout)![1]!;
    const [words] = bashWords([line]);
    expect(words!.slice(0, 2)).toEqual(['runbook', 'resume']);
    expect(words!.slice(3)).toEqual(['--records', records, '--inventory', lab.inventory]);
  });
});

describe('the confirm prompt shows exactly what will run', () => {
  const instance = (code: string): StepInstance =>
    ({
      index: 1,
      id: 'wipe',
      targets: [{ kind: 'local' }],
      parallel: 1,
      env: { NODE: 'n1\x1b[2K' },
      step: {
        id: 'wipe',
        kind: 'shell',
        code,
        attrs: { confirm: true, on: 'local' },
        position: { start: { line: 1, column: 1 } },
      },
    }) as unknown as StepInstance;

  it('control and reordering characters are shown escaped, never sent to the terminal (property: the escapes read back to the script)', () => {
    const invisible = fc.constantFrom(
      '\x1b',
      '\r',
      '\b',
      '\x07',
      '\x00',
      '\x7f',
      '\x9b',
      '\u202e',
      '\u2066',
      '\u200b',
      '\ufeff',
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            invisible,
            fc.string({ maxLength: 4 }).map((s) => s.replace(/[⟦⟧]/g, '')),
          ),
          { maxLength: 30 },
        ),
        (parts) => {
          const script = parts.join('');
          // picocolors colours under CI=true; its own SGR codes go first. A raw ESC from the script
          // could only hide among them by spelling one, and then `back` below would not read back.
          const text = confirmationText(instance(script), (s) => `⟦${s}⟧`).replace(/\x1b\[(?:1|2|7|22|27|33|39)m/g, '');
          const body = text
            .split('\n')
            .filter((l) => l.startsWith('  │ '))
            .map((l) => l.slice(4))
            .join('\n');
          expect(body + text).not.toMatch(
            /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u,
          );
          const back = body.replace(/⟦\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|(r))⟧/g, (_m, x, u, r) =>
            r ? '\r' : String.fromCharCode(parseInt(x ?? u, 16)),
          );
          expect(back).toBe(script.replace(/\n$/, ''));
        },
      ),
      { numRuns: 300 },
    );
    expect(confirmationText(instance('printf "\x1b[2Kok"\r'), (s) => s)).toContain('printf "\\x1b[2Kok"\\r');
    expect(showInvisible('a\tb\nc').text).toBe('a\tb\nc');
  });
});

describe('an option that takes a value never takes an empty one', () => {
  it('--records, --inventory, --from, --only and --context refuse "", " " in every spelling, executing nothing (property)', async () => {
    const marker = join(lab.dir, 'ran-empty');
    const page = lab.runbook('empty-values', step('step=a', `touch ${marker}`));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('--records', '--inventory', '--from', '--only', '--context'),
        fc.constantFrom('', ' ', '\t'),
        fc.boolean(),
        async (flag, value, attached) => {
          const args = attached ? [`${flag}=${value}`] : [flag, value];
          const r = await runCli(['run', page, '--yes', ...args], lab.env);
          expect(r.code, r.stderr).toBe(2);
          expect(r.stderr).toContain(`option '${flag}`);
          expect(r.stderr).toContain('An empty value');
          expect(existsSync(marker)).toBe(false);
        },
      ),
      { numRuns: 12 },
    );
  });
});
