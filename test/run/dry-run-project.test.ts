import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from '../../runner/project.ts';
import { ROOT, makeLab, runCli, step } from './helpers.ts';

/**
 * Every procedure of the project, dry-run through the real CLI with the tools
 * a step could reach the lab with replaced by shims that log any call. A dry
 * run must print each step and execute nothing. Pages are discovered at run
 * time, so new runbooks are covered as they are written.
 */
const TOOLS = ['kubectl', 'ssh', 'scp', 'curl', 'helm', 'k3s', 'systemctl', 'velero', 'cmctl'];
const sandbox = mkdtempSync(join(tmpdir(), 'runbook-dry-'));
const shims = join(sandbox, 'bin');
mkdirSync(shims);
for (const tool of TOOLS) {
  writeFileSync(join(shims, tool), `#!/bin/sh\necho "${tool} $*" >> "$SHIM_LOG"\nexit 97\n`);
  chmodSync(join(shims, tool), 0o755);
}
const invoked = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8') : '');
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

const pages = loadAll(ROOT).filter((p) => p.kind === 'runbook' || p.steps.length > 0);

describe('dry-run of every procedure in the project executes nothing', () => {
  it('finds the project pages', () => {
    expect(pages.length).toBeGreaterThan(0);
  });

  it.concurrent.each(pages.map((p) => [p.kind === 'runbook' ? p.id : p.file, p] as const))('%s', async (ref, page) => {
    const records = join(sandbox, `records-${page.id}`);
    const log = join(sandbox, `${page.id}.calls`);
    const r = await runCli(['run', ref, '--dry-run', '--records', records], {
      PATH: `${shims}:${process.env.PATH}`,
      SHIM_LOG: log,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const s of page.steps) expect(r.stdout).toContain(s.id);
    expect(r.stdout).toContain('Dry run: nothing was executed.');
    expect(existsSync(records)).toBe(false);
    expect(invoked(log)).toBe('');
  });

  it('the shims do catch a tool that is invoked (a real run of a step calling kubectl)', async () => {
    const lab = makeLab();
    try {
      const file = lab.runbook('calls-kubectl', step('step=get', 'kubectl get nodes'));
      const log = join(lab.dir, 'calls.log');
      const r = await runCli(['run', file, ...lab.flags], {
        ...lab.env,
        PATH: `${shims}:${process.env.PATH}`,
        SHIM_LOG: log,
      });
      expect(r.code).toBe(1);
      expect(invoked(log)).toBe('kubectl get nodes\n');
    } finally {
      lab.cleanup();
    }
  });
});
