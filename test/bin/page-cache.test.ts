// The page cache (runner/page-cache.ts) can never serve a stale page: after any edit, however small and
// whatever the file's mtime, `list` and `show` through the bin answer what a fresh parse from source answers.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectCopy } from './project-copy.ts';

let copy: ReturnType<typeof projectCopy>;
const page = (file: string) => join(copy.root, 'src/content/docs/runbooks', file);
const runbook = (id: string, title: string, command: string) =>
  `---\ntitle: ${title}\nrunbook:\n  id: ${id}\n  risk: low\n  cluster: homelab\n  api: optional\n---\n\n\`\`\`bash step=s1\n${command}\n\`\`\`\n`;
/** Writes keeping the old mtime, so a cache that trusted mtimes (or sizes, for same-length edits) would be caught. */
function write(file: string, text: string) {
  const { atime, mtime } = statSync(file);
  writeFileSync(file, text);
  utimesSync(file, atime, mtime);
}
const cached = (args: string[]) => copy.bin(args);
const fresh = (args: string[]) => copy.bin(args, { RUNBOOK_FROM_SOURCE: '1' });
const pagesDir = () => {
  const { key } = JSON.parse(readFileSync(join(copy.root, 'node_modules/.cache/runbook-cli/current.json'), 'utf8'));
  return join(copy.root, 'node_modules/.cache/runbook-cli', key, 'pages');
};
const same = (args: string[]) => {
  const [a, b] = [cached(args), fresh(args)];
  expect(a.stderr).toBe(b.stderr);
  expect(a.stdout).toBe(b.stdout);
  expect(a.code).toBe(b.code);
  return a;
};

beforeAll(() => {
  copy = projectCopy();
  const dir = join(copy.root, 'src/content/docs/runbooks');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'alpha.mdx'), runbook('alpha', 'Alpha one', 'echo one'));
  writeFileSync(join(dir, 'beta.mdx'), runbook('beta', 'Beta two', 'echo two'));
  writeFileSync(join(copy.root, 'src/content/docs/runbooks/../inventory-free.md'), '# no steps\n');
  mkdirSync(join(copy.root, 'src/content/lab'));
  writeFileSync(
    join(copy.root, 'src/content/lab/inventory.yaml'),
    'cluster:\n  name: homelab\n  context: bench\n  server: https://127.0.0.1:6443\n  k3sVersion: v1.34.3+k3s1\nnodes:\n  - { name: n1, roles: [server], address: 127.0.0.1 }\n',
  );
});
afterAll(() => copy.remove());

describe('the page cache', () => {
  it('is filled by the first list and answers the next ones', () => {
    same(['list', '--json']);
    expect(readdirSync(pagesDir()).sort()).toEqual(
      [
        'src/content/docs/inventory-free.md',
        'src/content/docs/runbooks/alpha.mdx',
        'src/content/docs/runbooks/beta.mdx',
      ].map((n) => `${encodeURIComponent(n)}.v8`),
    );
    expect(JSON.parse(same(['list', '--json']).stdout).map((r: { title: string }) => r.title)).toEqual([
      'Alpha one',
      'Beta two',
    ]);
  });

  it('never serves a stale page: any edit, same size and same mtime included, is what list and show print', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('alpha.mdx', 'beta.mdx'),
        fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,11}[A-Za-z]$/),
        fc.stringMatching(/^echo [a-z0-9]{1,8}$/),
        (file, title, command) => {
          const id = file.replace('.mdx', '');
          write(page(file), runbook(id, title, command));
          same(['list', '--json']);
          const shown = same(['show', id]);
          expect(shown.code, shown.stderr).toBe(0);
          expect(shown.stdout).toContain(command);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('a damaged entry, or one copied from another page, is a miss', () => {
    write(page('alpha.mdx'), runbook('alpha', 'Alpha one', 'echo one'));
    write(page('beta.mdx'), runbook('beta', 'Beta two', 'echo two'));
    same(['list', '--json']);
    const entry = (file: string) => join(pagesDir(), `${encodeURIComponent(`src/content/docs/runbooks/${file}`)}.v8`);
    writeFileSync(entry('alpha.mdx'), readFileSync(entry('alpha.mdx')).subarray(0, 40));
    copyFileSync(entry('beta.mdx'), join(pagesDir(), 'stolen.v8'));
    copyFileSync(join(pagesDir(), 'stolen.v8'), entry('alpha.mdx'));
    expect(JSON.parse(same(['list', '--json']).stdout).map((r: { title: string }) => r.title)).toEqual([
      'Alpha one',
      'Beta two',
    ]);
  });

  it('a page that turns invalid shows its errors, and RUNBOOK_PAGE_CACHE=0 parses without the cache', () => {
    write(page('alpha.mdx'), runbook('alpha', 'Alpha one', 'echo one').replace('risk: low', 'risk: lol'));
    expect(JSON.parse(same(['list', '--json']).stdout)[0].errors).toBeGreaterThan(0);
    const before = readdirSync(pagesDir()).map((f) => statSync(join(pagesDir(), f)).mtimeMs);
    write(page('beta.mdx'), runbook('beta', 'Beta 2', 'echo 2'));
    expect(copy.bin(['list', '--json'], { RUNBOOK_PAGE_CACHE: '0' }).stdout).toContain('Beta 2');
    expect(readdirSync(pagesDir()).map((f) => statSync(join(pagesDir(), f)).mtimeMs)).toEqual(before);
  });
});
