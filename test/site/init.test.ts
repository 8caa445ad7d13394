// A newcomer's whole way in, on a copy of the checkout: `runbook init --examples remove`, then
// `runbook import` of a folder of plain-Markdown runbooks, then `check --strict`, a dry run of an
// imported page against the new inventory, and the site build: the minimal landing page and runbooks
// index link only to what is left, the owner's name and links come from the site file init wrote, and
// the imported runbooks are pages of the site.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSite, makeSandbox } from './harness.ts';

describe('a newcomer makes the checkout their lab (init, import, check, dry run, build)', () => {
  // Inside the project (.cache/), so the build resolves node_modules from the checkout.
  const dir = makeSandbox('init-site', { content: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['runner/cli.ts', ...args], {
      cwd: dir,
      encoding: 'utf8',
      input: '',
      env: { ...process.env, KUBECONFIG: join(dir, 'none'), NO_COLOR: '1' },
    });

  it("init, import, check, a dry run and the build: the operator's own lab", () => {
    const init = cli([
      'init',
      '--owner',
      'Ada Lovelace',
      '--title',
      'Ada Lab',
      '--link',
      'Codeberg=https://codeberg.org/ada',
      '--node',
      'lab-1=10.0.0.5:server',
      // The imported fixtures ssh to these names.
      '--node',
      'k3s-master=10.0.0.6:server',
      '--node',
      'k3s-worker-01=10.0.0.7',
      '--k3s-version',
      'v1.34.3+k3s1',
      '--examples',
      'remove',
      '--yes',
    ]);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);

    // Exit 1: written, but some fences are left for a human (an unknown host, a `kubectl get -w`).
    const imported = cli(['import', join(process.cwd(), 'test/import/fixtures')]);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toContain('-> src/content/docs/runbooks/imported/worker-join.mdx');
    expect(imported.status).toBe(1);
    const check = cli(['check', '--strict']);
    expect(check.stdout + check.stderr).toMatch(/0 errors, 0 warnings/);
    expect(check.status).toBe(0);
    // The ssh line became a step on the inventory's node, with its address and sudo from the inventory.
    const plan = cli(['run', 'worker-join', '--dry-run']);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toMatch(/on k3s-worker-01 \(\S+@10\.0\.0\.7, sudo\)/);
    expect(plan.stdout).toContain('Dry run: nothing was executed.');

    // Broken internal links fail the build (SITE_LINKS=fail).
    expect(() => buildSite(dir, { SITE_LINKS: 'fail', SITE_RUNS_DIR: undefined })).not.toThrow();
    const landing = readFileSync(join(dir, 'dist/index.html'), 'utf8');
    expect(landing).toContain('Ada Lab');
    expect(landing).toContain('Ada Lovelace');
    expect(landing).toContain('href="https://codeberg.org/ada"');
    expect(landing).toContain('lab-1');
    expect(landing).not.toContain('Tom Jetzinger');
    expect(existsSync(join(dir, 'dist/runbooks/index.html'))).toBe(true);
    expect(existsSync(join(dir, 'dist/reference/init/index.html'))).toBe(true);
    expect(existsSync(join(dir, 'dist/adrs/0001-kubernetes-distribution/index.html'))).toBe(false);
    expect(existsSync(join(dir, 'dist/runbooks/k3s-upgrade/index.html'))).toBe(false);
    expect(existsSync(join(dir, 'dist/runbooks/imported/worker-join/index.html'))).toBe(true);
    expect(readFileSync(join(dir, 'dist/runbooks/imported/worker-join/index.html'), 'utf8')).toContain(
      'Join a new worker',
    );
  });
});
