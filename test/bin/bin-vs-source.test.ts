// The `runbook` bin runs a bundle (runner/bin/bundle.js); the other suites run runner/cli.ts from source.
// Here each verb runs both ways and must answer alike, so a bundling mistake (a module that loads
// differently once bundled) fails a test rather than an operator's run.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string;
const env = () => ({
  ...process.env,
  NO_COLOR: '1',
  FORCE_COLOR: undefined,
  KUBECONFIG: join(dir, 'kubeconfig'),
  RUNBOOK_LOCK_DIR: join(dir, 'locks'),
  RUNBOOK_INVENTORY: undefined,
});
const via = (entry: string) => (args: string[]) => {
  const r = spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8', env: env(), input: '', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const bin = via('runner/bin/runbook.js');
const source = via('runner/cli.ts');
/** Durations and run ids differ from run to run; the rest must not. */
const steady = (text: string) => text.replace(/\d+(\.\d+)?\s?(ms|s)\b/g, 'T').replace(/\d{8}T\d{6}Z-[\w-]+/g, 'RUN');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bin-vs-source-'));
  writeFileSync(
    join(dir, 'inventory.yaml'),
    'cluster:\n  name: homelab\n  context: bench\n  server: https://127.0.0.1:6443\n  k3sVersion: v1.34.3+k3s1\nnodes:\n  - { name: n1, roles: [server], address: 127.0.0.1 }\n',
  );
  writeFileSync(
    join(dir, 'kubeconfig'),
    'apiVersion: v1\nkind: Config\ncurrent-context: bench\nclusters: [{ name: c, cluster: { server: https://127.0.0.1:6443 } }]\ncontexts: [{ name: bench, context: { cluster: c } }]\n',
  );
  const page = (id: string, body: string) =>
    writeFileSync(
      join(dir, `${id}.mdx`),
      `---\ntitle: ${id}\nrunbook:\n  id: ${id}\n  risk: low\n  cluster: homelab\n  api: optional\n---\n\n${body}`,
    );
  page(
    'two-steps',
    '```bash step=hello\necho hello\n```\n\n```bash step=count check expect="3"\nprintf \'%s\\n\' 1 2 3 | wc -l\n```\n',
  );
  page('fails', '```bash step=nope\nexit 3\n```\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bin and source answer alike', () => {
  const cases: Record<string, () => string[]> = {
    help: () => ['--help'],
    'verb help': () => ['show', '--help'],
    version: () => ['--version'],
    'unknown verb': () => ['shwo'],
    list: () => ['list', '--json'],
    'list --all': () => ['list', '--all'],
    show: () => ['show', 'k3s-upgrade'],
    'show --json': () => ['show', 'k3s-upgrade', '--json'],
    'show a file': () => ['show', join(dir, 'two-steps.mdx'), '--inventory', join(dir, 'inventory.yaml')],
    check: () => ['check', 'src/content/docs/runbooks/k3s-upgrade.mdx', '--json'],
    'check a bad page': () => ['check', join(dir, 'fails.mdx'), '--strict'],
    'dry run': () => [
      'run',
      join(dir, 'two-steps.mdx'),
      '--dry-run',
      '--inventory',
      join(dir, 'inventory.yaml'),
      '--records',
      join(dir, 'dry'),
    ],
    'status without a cluster': () => ['status', '--inventory', join(dir, 'inventory.yaml')],
    'a usage mistake': () => ['run'],
  };
  for (const [name, args] of Object.entries(cases)) {
    it(name, () => {
      const [a, b] = [bin(args()), source(args())];
      expect({ code: a.code, stdout: steady(a.stdout), stderr: steady(a.stderr) }).toEqual({
        code: b.code,
        stdout: steady(b.stdout),
        stderr: steady(b.stderr),
      });
    });
  }

  it('runs steps, records them, and history reads them', () => {
    for (const [which, run] of [
      ['bin', bin],
      ['source', source],
    ] as const) {
      const records = join(dir, `runs-${which}`);
      const common = ['--inventory', join(dir, 'inventory.yaml'), '--records', records];
      const ok = run(['run', join(dir, 'two-steps.mdx'), ...common]);
      expect(ok.stderr + ok.stdout).toContain('hello');
      expect(ok.code, ok.stderr).toBe(0);
      const failed = run(['run', join(dir, 'fails.mdx'), ...common]);
      expect(failed.code).toBe(1);
      expect(readdirSync(records).sort()).toEqual(['fails', 'two-steps']);
      const history = JSON.parse(run(['history', '--json', '--records', records]).stdout);
      expect(history.map((h: { runbook: string; status: string }) => `${h.runbook} ${h.status}`).sort()).toEqual([
        'fails failed',
        'two-steps succeeded',
      ]);
    }
  });
});
