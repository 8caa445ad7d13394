// `runbook verify` against the shared sandbox, over a throwaway project: pages whose check
// steps pass, fail, or try to write, a page that needs a param, a page without checks. Every
// check talks to the sandbox only (kubectl with its kubeconfig); nothing here leaves loopback.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it, inject } from 'vitest';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { operatorEnv, ROOT } from '../run/helpers.ts';
import { kubectl } from './helpers.ts';

const CLI = join(ROOT, 'runner/cli.ts');
const fence = (attrs: string, code: string) => `\`\`\`bash ${attrs}\n${code}\n\`\`\`\n\n`;

const PAGES: Record<string, string> = {
  'src/content/adrs/0001-probe.mdx': `---
title: "ADR-0001: a probe"
status: accepted
date: 2026-01-01
deciders: ["Lab owner"]
---

## Validation

${fence('step=api-ready check expect="readyz check passed"', "kubectl get --raw='/readyz?verbose'")}${fence(
  'step=master-listed check',
  'kubectl get nodes -o name | grep -x node/k3s-master',
)}`,
  'src/content/docs/runbooks/mixed.mdx': `---
title: Mixed
runbook:
  risk: medium
  cluster: homelab
---

${fence('step=prepare title="Not a check: must not run in a sweep"', 'echo ran > prepare-ran.txt')}${fence(
  'step=nodes check',
  'kubectl get nodes -o name',
)}${fence('step=absent check', 'kubectl get namespace verify-absent-namespace')}${fence(
  'step=after-failure check title="Runs although the check before it failed"',
  'kubectl get namespace kube-system -o name',
)}`,
  'src/content/docs/runbooks/sneaky.mdx': `---
title: Sneaky
runbook:
  risk: low
  cluster: homelab
---

${fence(
  'step=write check title="A write only known at run time"',
  // check (the linter) cannot see the verb; the read-only shim refuses it when the step runs.
  'verb=create\nkubectl "$verb" namespace verify-written-by-a-check',
)}`,
  'src/content/docs/runbooks/needs-param.mdx': `---
title: Needs a param
runbook:
  risk: low
  cluster: homelab
  params:
    PROBE_TARGET:
      description: Something only the operator knows
      required: true
---

${fence('step=probe check', 'kubectl get namespace "$PROBE_TARGET"')}`,
  'src/content/docs/guide.mdx': `---
title: A guide
---

${fence('step=hello', 'echo hello')}`,
};

/** A throwaway project: a package.json, the pages, a private lock folder. */
function makeProject(pages: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-verify-'));
  writeFileSync(join(dir, 'package.json'), '{ "name": "verify-test", "private": true }\n');
  for (const [file, text] of Object.entries(pages)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  mkdirSync(join(dir, 'locks'), { mode: 0o700 });
  return dir;
}

describe('runbook verify against the sandbox', () => {
  let project = '';
  let env: NodeJS.ProcessEnv = {};
  const records = () => join(project, 'src/content/runs');
  const verify = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, 'verify', ...args], {
      cwd: project,
      env: operatorEnv(env),
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const readRecords = (): RunRecord[] =>
    (existsSync(records()) ? readdirSync(records()) : []).flatMap((page) =>
      readdirSync(join(records(), page)).map((f) =>
        runRecordSchema.parse(JSON.parse(readFileSync(join(records(), page, f), 'utf8'))),
      ),
    );

  beforeAll(() => {
    const stateDir = inject('sandboxStateDir');
    const kubeconfig = process.env.SANDBOX_KUBECONFIG!;
    const kubectlBin = process.env.SANDBOX_KUBECTL!;
    project = makeProject(PAGES);
    env = {
      KUBECONFIG: kubeconfig,
      RUNBOOK_INVENTORY: join(stateDir, 'inventory.yaml'),
      RUNBOOK_LOCK_DIR: join(project, 'locks'),
      // The sandbox's kubectl (matching the server) behind the read-only shims.
      PATH: `${dirname(kubectlBin)}:${process.env.PATH}`,
    };
  });

  beforeEach(() => rmSync(records(), { recursive: true, force: true }));
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('a sweep of every page with a check step: exit 1, one record per page, only check steps run', () => {
    const t0 = performance.now();
    const r = verify();
    const ms = performance.now() - t0;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^Verifying 4 pages against homelab · https:\/\/127\.0\.0\.1:\d+ · uid [0-9a-f-]{36}/);
    // One line per page as it finishes (plus one per failed check), then the table and the verdict.
    expect(r.stdout).toMatch(
      /^✓ 0001-probe {2}2\/2 checks passed {2}\S+ {2}src\/content\/runs\/0001-probe\/\S+\.json$/m,
    );
    expect(r.stdout).toMatch(
      /^✗ mixed {2}2\/3 checks passed .*$\n^ {4}✗ absent:\d+: exit code 1 — Error from server \(NotFound\): namespaces "verify-absent-namespace" not found$/m,
    );
    expect(r.stdout).toMatch(
      /^- needs-param {2}not run: cannot run: param PROBE_TARGET is required \(Something only the operator knows\): pass --set PROBE_TARGET=…$/m,
    );
    expect(r.stdout).toMatch(/^✗ sneaky {2}0\/1 checks passed/m);
    expect(r.stdout).toMatch(/^PAGE\s+KIND\s+PASSED\s+FAILED\s+RESULT\s+RECORD$/m);
    expect(r.stdout).toMatch(/^mixed\s+runbook\s+2\s+1\s+failed\s+src\/content\/runs\/mixed\//m);
    expect(r.stdout).toMatch(/^needs-param\s+runbook\s+-\s+-\s+not run\s+-$/m);
    expect(r.stdout).toContain('Verify failed: 4/6 checks passed on 3 pages, 2 failed; 1 page not run.');
    expect(r.stdout).not.toContain('guide');
    console.error(`verify of 4 pages (6 checks) against the sandbox: ${Math.round(ms)} ms`);

    const byPage = new Map(readRecords().map((rec) => [rec.runbook.id, rec]));
    expect([...byPage.keys()].sort()).toEqual(['0001-probe', 'mixed', 'sneaky']);
    const mixed = byPage.get('mixed')!;
    expect(mixed.status).toBe('failed');
    expect(mixed.steps.map((s) => [s.id, s.status, s.readOnly ?? false])).toEqual([
      ['prepare', 'skipped', false],
      ['nodes', 'succeeded', true],
      ['absent', 'failed', true],
      ['after-failure', 'succeeded', true],
    ]);
    expect(existsSync(join(project, 'prepare-ran.txt'))).toBe(false);
    // A page without runbook.cluster (the ADR) is about the inventory's cluster too: the record says which one answered.
    const adr = byPage.get('0001-probe')!;
    expect(adr).toMatchObject({ status: 'succeeded', runbook: { kind: 'adr' }, cluster: { context: 'homelab' } });
    expect(adr.cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(adr.cluster.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a check step that tries to write is refused by the read-only shim, and the cluster is unchanged', () => {
    const r = verify('sneaky');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^ {4}✗ write:\d+: exit code 3 — runbook: check step is read-only: kubectl create refused/m,
    );
    const [record] = readRecords();
    expect(record!.steps[0]).toMatchObject({ id: 'write', status: 'failed', exitCode: 3, readOnly: true });
    expect(kubectl(['get', 'namespace', 'verify-written-by-a-check']).status).not.toBe(0);
  });

  it('all checks pass: exit 0; --json is one document on stdout, progress on stderr', () => {
    const r = verify('0001-probe', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      ok: true,
      cluster: { name: 'homelab', identity: expect.stringMatching(/^(pinned|unpinned)$/) },
      totals: {
        pages: 1,
        verified: 1,
        passedPages: 1,
        failedPages: 0,
        notRun: 0,
        checks: 2,
        passed: 2,
        failed: 0,
        unreachable: 0,
      },
      pages: [{ id: '0001-probe', kind: 'adr', outcome: 'passed', checks: 2, passed: 2, failed: 0, failures: [] }],
    });
    expect(out.pages[0].record).toBe(`src/content/runs/0001-probe/${out.pages[0].runId}.json`);
    expect(r.stderr).toMatch(/^✓ 0001-probe {2}2\/2 checks passed/m);
    expect(readRecords()).toHaveLength(1);
  });

  it('--json of a failed check names the step, its line and its error', () => {
    const r = verify('mixed', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.pages[0].failures).toEqual([
      {
        step: 'absent',
        line: expect.any(Number),
        status: 'failed',
        unreachable: false,
        error: 'exit code 1',
        lastOutput: 'Error from server (NotFound): namespaces "verify-absent-namespace" not found',
      },
    ]);
  });

  it('a named page that cannot run here, or has no check step: exit 2', () => {
    const param = verify('needs-param');
    expect(param.code).toBe(2);
    expect(param.stdout).toMatch(/not run: .*PROBE_TARGET/);
    const guide = verify('guide');
    expect(guide.code).toBe(2);
    expect(guide.stderr).toBe(
      'runbook: src/content/docs/guide.mdx has no check step: nothing to verify there (`runbook show guide` lists its steps)\n',
    );
    expect(readRecords()).toHaveLength(0);
  });

  it("--verbose shows each page's run as `runbook run` prints it", () => {
    const r = verify('mixed', '--verbose');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^▶ 2\/4 nodes/m);
    expect(r.stdout).toMatch(/^\s+│ node\/k3s-master$/m);
    expect(r.stdout).toMatch(/^✗ mixed {2}2\/3 checks passed/m);
  });

  it('Ctrl-C stops the running check and the sweep: exit 130, the page recorded interrupted, later pages not run', async () => {
    const slow = makeProject({
      'src/content/adrs/0001-slow.mdx': PAGES['src/content/adrs/0001-probe.mdx']!.replace(
        '## Validation\n',
        `## Validation\n\n${fence('step=slow check', 'echo waiting; sleep 30')}`,
      ),
      'src/content/adrs/0002-later.mdx': PAGES['src/content/adrs/0001-probe.mdx']!,
    });
    try {
      const child = spawn(process.execPath, [CLI, 'verify'], {
        cwd: slow,
        env: operatorEnv({ ...env, RUNBOOK_LOCK_DIR: join(slow, 'locks') }),
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      // The record is written before the first step: once the slow step runs, its record says so.
      const runs = join(slow, 'src/content/runs/0001-slow');
      const deadline = Date.now() + 30_000;
      for (;;) {
        // Only the record itself: a write in progress leaves a `.…tmp` beside it for a moment.
        const file = existsSync(runs)
          ? readdirSync(runs).find((f) => f.endsWith('.json') && !f.startsWith('.'))
          : undefined;
        const rec = file ? (JSON.parse(readFileSync(join(runs, file), 'utf8')) as RunRecord) : undefined;
        if (rec?.steps.some((s) => s.id === 'slow' && s.status === 'running')) break;
        if (Date.now() > deadline) throw new Error(`the slow check never started; stdout:\n${stdout}`);
        await sleep(100);
      }
      child.kill('SIGINT');
      expect(await closed).toBe(130);
      expect(stdout).toMatch(/^■ 0001-slow {2}\d\/3 checks passed/m);
      expect(stdout).toContain('Verify interrupted: 0/3 checks passed on 1 page; stopped with 1 page left.');
      expect(stdout).not.toMatch(/^. 0002-later/m);
      const [file] = readdirSync(runs).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
      const rec = runRecordSchema.parse(JSON.parse(readFileSync(join(runs, file!), 'utf8')));
      expect(rec.status).toBe('interrupted');
      expect(rec.steps.find((s) => s.id === 'slow')?.status).toBe('interrupted');
      expect(existsSync(join(slow, 'src/content/runs/0002-later'))).toBe(false);
    } finally {
      rmSync(slow, { recursive: true, force: true });
    }
  });

  it('the wrong kube context: refused before any page, exit 2, no record', () => {
    const r = verify('--context', 'not-the-lab');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^runbook: refusing: .*not-the-lab/);
    expect(readRecords()).toHaveLength(0);
  });
});
