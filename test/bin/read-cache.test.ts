// Validated records and the validated inventory kept between runs (runner/read-cache.ts) can never be
// served stale or unvalidated: after a one-byte edit that keeps the size and the mtime, `show` and
// `history` through the bin answer what the sources answer without any cache, and an invalid file is
// reported on every run.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { projectCopy } from './project-copy.ts';

let copy: ReturnType<typeof projectCopy>;
const runs = () => join(copy.root, 'src/content/runs/alpha');
const inventory = () => join(copy.root, 'src/content/lab/inventory.yaml');
const shipped = 'src/content/runs/k3s-upgrade';
const records = readdirSync(shipped).sort(); // oldest first (run ids start with the start time)
const newest = () => join(runs(), records.at(-1)!);

const runbook = (id: string, attrs = '') =>
  `---\ntitle: ${id}\nrunbook:\n  id: ${id}\n  risk: low\n  cluster: homelab\n  api: optional\n---\n\n\`\`\`bash step=s1 ${attrs}\nuptime\n\`\`\`\n`;
/** The ids `list` prints, through the bin (and the same from the sources). */
const listed = () => (JSON.parse(same(['list', '--json']).stdout) as { id: string }[]).map((r) => r.id).sort();

/** Replaces `from` by `to` (of the same length) keeping the size and the mtime, so only the bytes tell. */
function edit(file: string, from: string, to: string) {
  expect(to.length).toBe(from.length);
  const { atime, mtime, size } = statSync(file);
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
  utimesSync(file, atime, mtime);
  expect(statSync(file).size).toBe(size);
}
/** The bin (bundle and caches) and the sources (no cache) answer alike; the bin's answer. */
const same = (args: string[]) => {
  const [a, b] = [copy.bin(args), copy.bin(args, { RUNBOOK_FROM_SOURCE: '1' })];
  expect(a.stderr).toBe(b.stderr);
  expect(a.stdout).toBe(b.stdout);
  expect(a.code).toBe(b.code);
  return a;
};
const cacheDir = (kind: string) => {
  const { key } = JSON.parse(readFileSync(join(copy.root, 'node_modules/.cache/runbook-cli/current.json'), 'utf8'));
  return join(copy.root, 'node_modules/.cache/runbook-cli', key, kind);
};

beforeAll(() => {
  copy = projectCopy();
  const pages = join(copy.root, 'src/content/docs/runbooks');
  mkdirSync(pages, { recursive: true });
  writeFileSync(join(pages, 'alpha.mdx'), runbook('alpha', 'on=role:server'));
  mkdirSync(join(copy.root, 'src/content/lab'));
  writeFileSync(
    inventory(),
    'cluster:\n  name: homelab\n  context: bench\n  server: https://127.0.0.1:6443\n  k3sVersion: v1.34.3+k3s1\nnodes:\n  - { name: n1, roles: [server], address: 127.0.0.1 }\n',
  );
  mkdirSync(runs(), { recursive: true });
  for (const r of records) copyFileSync(join(shipped, r), join(runs(), r));
});
afterAll(() => copy.remove());

describe('the record and inventory caches', () => {
  it('are filled by the first show and answer the next ones alike', () => {
    const first = same(['show', 'alpha']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`${records.length} runs recorded`);
    expect(first.stdout).toContain('127.0.0.1:22');
    expect(readdirSync(cacheDir('records'))).toHaveLength(records.length);
    expect(readdirSync(cacheDir('inventory'))).toHaveLength(1);
    expect(same(['show', 'alpha']).stdout).toBe(first.stdout);
  });

  it('never serve a stale record: a one-byte edit of the same size and mtime is what show prints', () => {
    same(['show', 'alpha']);
    edit(newest(), '"operator": "root@vm"', '"operator": "root@vX"');
    expect(same(['show', 'alpha']).stdout).toContain('by root@vX');
    expect(same(['show', 'alpha', '--json']).stdout).toContain('"operator": "root@vX"');
    edit(newest(), '"operator": "root@vX"', '"operator": "root@vm"');
    expect(same(['show', 'alpha']).stdout).toContain('by root@vm');
  });

  it('report a record that turns invalid on every run, with its field issue, and count it no more', () => {
    same(['show', 'alpha']); // every record validated and kept
    edit(newest(), '"schemaVersion": 1', '"schemaVersion": 2');
    for (let i = 0; i < 2; i++) {
      expect(same(['show', 'alpha']).stdout).toContain(`${records.length - 1} runs recorded`);
      const history = same(['history', 'alpha']);
      expect(history.stderr).toContain(`${newest()}: not a valid run record:`);
      expect(history.stderr).toContain('schemaVersion: ');
    }
    edit(newest(), '"schemaVersion": 2', '"schemaVersion": 1');
    expect(same(['history', 'alpha']).stderr).toBe('');
    expect(same(['show', 'alpha']).stdout).toContain(`${records.length} runs recorded`);
  });

  it('never serve a stale inventory, and report an invalid one on every run', () => {
    same(['show', 'alpha']);
    edit(inventory(), 'address: 127.0.0.1', 'address: 127.0.0.2');
    expect(same(['show', 'alpha']).stdout).toContain('127.0.0.2:22');
    edit(inventory(), 'roles: [server]', 'roles: [Server]');
    for (let i = 0; i < 2; i++) {
      const shown = same(['show', 'alpha']);
      expect(shown.code).toBe(2);
      expect(shown.stderr).toContain('nodes.0.roles.0: use lowercase letters');
    }
    edit(inventory(), 'roles: [Server]', 'roles: [server]');
    expect(same(['show', 'alpha']).stdout).toContain('127.0.0.2:22');
  });

  it('take an entry copied from another record, or a damaged one, as a miss', () => {
    same(['show', 'alpha']);
    const dir = cacheDir('records');
    const [a, b, c] = readdirSync(dir).map((f) => join(dir, f));
    copyFileSync(a!, b!);
    writeFileSync(c!, readFileSync(c!).subarray(0, 40));
    const shown = same(['show', 'alpha', '--json']);
    expect(JSON.parse(shown.stdout).lastRun).toMatchObject({ runs: records.length, operator: 'root@vm' });
    expect(same(['history', 'alpha', '--json']).stdout).toBe(
      copy.bin(['history', 'alpha', '--json'], { RUNBOOK_PAGE_CACHE: '0' }).stdout,
    );
  });
});

describe('the page list', () => {
  it('follows every change of the content tree: a page added, moved, renamed, removed', () => {
    const docs = join(copy.root, 'src/content/docs');
    expect(listed()).toEqual(['alpha']);
    writeFileSync(join(docs, 'beta.mdx'), runbook('beta'));
    expect(listed()).toEqual(['alpha', 'beta']);
    mkdirSync(join(docs, 'more'));
    renameSync(join(docs, 'beta.mdx'), join(docs, 'more/beta.mdx'));
    expect(same(['show', 'beta']).stdout).toContain('src/content/docs/more/beta.mdx');
    renameSync(join(docs, 'more/beta.mdx'), join(docs, 'more/beta.txt'));
    expect(listed()).toEqual(['alpha']);
    mkdirSync(join(docs, 'more/gamma.mdx'));
    expect(listed()).toEqual(['alpha']);
    rmSync(join(docs, 'more/gamma.mdx'), { recursive: true });
    writeFileSync(join(docs, 'more/gamma.mdx'), runbook('gamma'));
    expect(listed()).toEqual(['alpha', 'gamma']);
    rmSync(join(docs, 'more'), { recursive: true });
    expect(listed()).toEqual(['alpha']);
  });

  it('follows a symlinked folder to wherever it points now', () => {
    const [one, two] = ['one', 'two'].map((d) => join(copy.root, d));
    for (const [dir, id] of [
      [one!, 'delta'],
      [two!, 'epsilon'],
    ] as const) {
      mkdirSync(dir);
      writeFileSync(join(dir, `${id}.mdx`), runbook(id)); // other names: the glob's answer differs
    }
    const link = join(copy.root, 'src/content/docs/linked');
    symlinkSync(one!, link);
    expect(listed()).toEqual(['alpha', 'delta']);
    rmSync(link);
    symlinkSync(two!, link);
    expect(listed()).toEqual(['alpha', 'epsilon']);
    rmSync(link);
    expect(listed()).toEqual(['alpha']);
  });

  it("re-checks a page's param default whenever the page's default or pattern changes, and reports a bad one every time", () => {
    const page = join(copy.root, 'src/content/docs/runbooks/pd.mdx');
    const pattern = String.raw`v[0-9]+\.[0-9]+\.[0-9]+`;
    writeFileSync(
      page,
      `---\ntitle: pd\nrunbook:\n  id: pd\n  risk: low\n  api: optional\n  params:\n    VERSION:\n      default: v1.2.3\n      pattern: '${pattern}'\n---\n\n\`\`\`bash step=s1\necho "$VERSION"\n\`\`\`\n`,
    );
    const bad = /param VERSION: "x1\.2\.3" does not match the pattern/;
    expect(same(['show', 'pd']).stdout).not.toMatch(/does not match/);
    expect(readdirSync(cacheDir('param-defaults')).length).toBeGreaterThan(0);
    edit(page, 'default: v1.2.3', 'default: x1.2.3');
    expect(same(['show', 'pd']).stdout).toMatch(bad);
    expect(same(['show', 'pd']).stdout).toMatch(bad); // the failed verdict is kept, and said again
    edit(page, 'default: x1.2.3', 'default: v1.2.3');
    expect(same(['show', 'pd']).stdout).not.toMatch(/does not match/);
    edit(page, "pattern: 'v[0-9]", "pattern: 'w[0-9]"); // same default, another pattern
    expect(same(['show', 'pd']).stdout).toMatch(/param VERSION: "v1\.2\.3" does not match the pattern w/);
  });
});
