// After `runbook init --examples remove`, the site still builds: the minimal landing page and runbooks
// index link only to what is left, and the owner's name and links come from the site file init wrote.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSite, makeSandbox } from './harness.ts';

describe('the site after runbook init --examples remove', () => {
  // Inside the project (.cache/), so the build resolves node_modules from the checkout.
  const dir = makeSandbox('init-site', { content: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds, with the new owner and links and none of the example pages', () => {
    const init = spawnSync(
      process.execPath,
      [
        'runner/cli.ts',
        'init',
        '--owner',
        'Ada Lovelace',
        '--title',
        'Ada Lab',
        '--link',
        'Codeberg=https://codeberg.org/ada',
        '--node',
        'lab-1=10.0.0.5:server',
        '--k3s-version',
        'v1.34.3+k3s1',
        '--examples',
        'remove',
        '--yes',
      ],
      { cwd: dir, encoding: 'utf8', input: '', env: { ...process.env, KUBECONFIG: join(dir, 'none'), NO_COLOR: '1' } },
    );
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
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
  });
});
