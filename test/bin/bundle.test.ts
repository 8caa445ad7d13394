// The bundled CLI (runner/bin/bundle.js) is never stale: whatever the sources say is what runs, however
// they were edited (same size, same mtime, a new import, a dependency reinstall), and a build that cannot
// be made falls back to the sources.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  readdirSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BUNDLE_JS = resolve('runner/bin/bundle.js');

/** Writes `text` to `file` keeping its mtime: a freshness check that trusted mtimes would miss the edit. */
function editKeepingTime(file: string, text: string) {
  const { atime, mtime } = statSync(file);
  writeFileSync(file, text);
  utimesSync(file, atime, mtime);
}

describe('a small project run through bundledEntry', () => {
  let root: string;
  const cacheDir = () => join(root, 'cache');
  /** What a fresh process runs: 'bundle' or 'source', and the value the entry's main() returns. */
  const runEntry = () => {
    const script = `
      const { bundledEntry } = await import(${JSON.stringify(BUNDLE_JS)});
      const url = await bundledEntry({ root: ${JSON.stringify(root)}, entry: 'entry.ts', cacheDir: ${JSON.stringify(cacheDir())} });
      const m = await import(url ?? ${JSON.stringify(join(root, 'entry.ts'))}).catch((e) => ({ main: () => 'import failed: ' + e.message }));
      console.log((url ? 'bundle ' : 'source ') + m.main());`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: root });
    expect(r.stderr).toBe('');
    return r.stdout.trim();
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'bundle-test-'));
    mkdirSync(join(root, 'node_modules'));
    writeFileSync(join(root, 'node_modules', '.package-lock.json'), '{"lockfileVersion":3}');
    writeFileSync(
      join(root, 'entry.ts'),
      "import { value } from './dep.ts';\nexport function main(): string {\n  return value;\n}\n",
    );
    writeFileSync(join(root, 'dep.ts'), "export const value: string = 'one';\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('builds on first run, then reuses the bundle while nothing changed', () => {
    expect(runEntry()).toBe('bundle one');
    const dirs = () => readdirSync(cacheDir()).filter((d) => !d.startsWith('.') && d !== 'current.json');
    const first = dirs();
    expect(first).toHaveLength(1);
    expect(runEntry()).toBe('bundle one');
    expect(dirs()).toEqual(first);
  });

  it('runs an edit of the same size and the same mtime', () => {
    editKeepingTime(join(root, 'dep.ts'), "export const value: string = 'two';\n");
    expect(runEntry()).toBe('bundle two');
  });

  it('runs a new file that an edited file imports', () => {
    writeFileSync(join(root, 'extra.ts'), "export const more = 'three';\n");
    writeFileSync(join(root, 'dep.ts'), "import { more } from './extra.ts';\nexport const value: string = more;\n");
    expect(runEntry()).toBe('bundle three');
    editKeepingTime(join(root, 'extra.ts'), "export const more = 'four!';\n");
    expect(runEntry()).toBe('bundle four!');
  });

  it('rebuilds after a dependency reinstall (the lock file changed)', () => {
    const key = () => JSON.parse(readFileSync(join(cacheDir(), 'current.json'), 'utf8')).key;
    const before = key();
    writeFileSync(join(root, 'node_modules', '.package-lock.json'), '{"lockfileVersion":3,"packages":{}}');
    expect(runEntry()).toBe('bundle four!');
    expect(key()).not.toBe(before);
  });

  it('a bundle tampered with after its build is not used; its inputs are compared, not trusted', () => {
    const { key } = JSON.parse(readFileSync(join(cacheDir(), 'current.json'), 'utf8'));
    const inputs = join(cacheDir(), key, 'inputs.bin');
    writeFileSync(inputs, readFileSync(inputs).subarray(1));
    expect(runEntry()).toBe('bundle four!');
  });

  it('falls back to the sources when the build fails', () => {
    writeFileSync(join(root, 'dep.ts'), "export const value: string = 'five' +;\n");
    expect(runEntry()).toMatch(/^source import failed/);
    writeFileSync(join(root, 'dep.ts'), "export const value: string = 'six';\n");
    expect(runEntry()).toBe('bundle six');
  });

  it('keeps only a few old bundles', () => {
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(root, 'dep.ts'), `export const value: string = 'v${i}';\n`);
      expect(runEntry()).toBe(`bundle v${i}`);
    }
    expect(
      readdirSync(cacheDir()).filter((d) => !d.startsWith('.') && d !== 'current.json').length,
    ).toBeLessThanOrEqual(4);
  });
});

describe('the runbook bin in a copy of the project', () => {
  let root: string;
  const bin = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [join(root, 'runner/bin/runbook.js'), ...args], {
      encoding: 'utf8',
      cwd: root,
      env: {
        ...process.env,
        NO_COLOR: '1',
        RUNBOOK_BUNDLE_DIR: join(root, 'bundles'),
        npm_package_version: undefined,
        ...env,
      },
    });

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'bundle-bin-test-'));
    cpSync(resolve('runner'), join(root, 'runner'), { recursive: true });
    cpSync(resolve('package.json'), join(root, 'package.json'));
    symlinkSync(resolve('node_modules'), join(root, 'node_modules'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints what the sources print (--help, a verb help, --version)', () => {
    for (const args of [['--help'], ['run', '--help'], ['--version']]) {
      const bundled = bin(args);
      const source = bin(args, { RUNBOOK_FROM_SOURCE: '1' });
      expect(bundled.status).toBe(0);
      expect(bundled.stdout).toBe(source.stdout);
    }
    expect(readdirSync(join(root, 'bundles'))).toContain('current.json');
  });

  it('runs the edited source: a changed description shows in --help at once', () => {
    const cli = join(root, 'runner/cli.ts');
    const text = readFileSync(cli, 'utf8');
    expect(text).toContain('documented procedures: parse');
    editKeepingTime(cli, text.replace('documented procedures: parse', 'DOCUMENTED procedures: parse'));
    expect(bin(['--help']).stdout).toContain('DOCUMENTED procedures: parse');
    const verb = join(root, 'runner/commands/list.ts');
    expect(readFileSync(verb, 'utf8')).toContain("'list the runbooks in this project");
    editKeepingTime(
      verb,
      readFileSync(verb, 'utf8').replace("'list the runbooks in this project", "'LIST the runbooks in this project"),
    );
    expect(bin(['--help']).stdout).toContain('LIST the runbooks in this project');
  });
});
