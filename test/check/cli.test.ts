import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runbook } from '../helpers/cli.ts';
import { TEST_INVENTORY_FILE } from '../helpers/inventory.ts';

const inv = ['--inventory', TEST_INVENTORY_FILE];
const tmp = mkdtempSync(join(tmpdir(), 'runbook-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('runbook check (CLI)', () => {
  it('prints path:line:col  severity  rule  message and exits 2 on errors', () => {
    const r = runbook(['check', ...inv, 'test/fixtures/check/broken/destructive-unconfirmed.mdx']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /^test\/fixtures\/check\/broken\/destructive-unconfirmed\.mdx:7:1 {2}error {2}destructive-unconfirmed {2}step "drain" runs kubectl drain without confirm/m,
    );
    expect(r.stderr).toContain('1 page, 1 step: 1 error, 0 warnings');
  });

  it('passes warnings without --strict and fails them with it', () => {
    const file = 'test/fixtures/check/broken/sleep-wait.mdx';
    expect(runbook(['check', ...inv, file]).code).toBe(0);
    const strict = runbook(['check', ...inv, '--strict', file]);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toContain('warning  sleep-wait');
  });

  it('answers --json with every diagnostic', () => {
    const r = runbook(['check', ...inv, '--json', 'test/fixtures/check/broken']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.files).toBeGreaterThan(20);
    expect(out.diagnostics[0]).toEqual(
      expect.objectContaining({
        file: expect.any(String),
        line: expect.any(Number),
        column: expect.any(Number),
        severity: expect.any(String),
        rule: expect.any(String),
      }),
    );
  });

  it('executes nothing, not even command substitutions in a broken step', () => {
    const marker = join(tmp, 'executed');
    const page = join(tmp, 'page.mdx');
    writeFileSync(
      page,
      `---\ntitle: t\n---\n\`\`\`bash step=a\ntouch ${marker}\necho "$(touch ${marker})"\nif\n\`\`\`\n\n\`\`\`bash step=b\ntouch ${marker}\n\`\`\`\n`,
    );
    const r = runbook(['check', ...inv, page]);
    expect(r.stdout).toContain('bash-syntax');
    expect(existsSync(marker)).toBe(false);
  });

  it('names the file and line of a broken inventory', () => {
    const bad = join(tmp, 'inventory.yaml');
    writeFileSync(
      bad,
      'cluster:\n  name: x\n  context: x\n  server: https://127.0.0.1:6443\n  k3sVersion: v1.34.3+k3s1\nnodes:\n  - name: Bad_Name\n    roles: [server]\n    address: 127.0.0.1\n',
    );
    const r = runbook(['check', '--inventory', bad, 'test/fixtures/check/valid']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/inventory\.yaml:7 {2}nodes\.0\.name: use lowercase letters/);
  });

  it('validates run records', () => {
    const records = join(tmp, 'runs');
    mkdirSync(join(records, 'rolling'), { recursive: true });
    writeFileSync(join(records, 'rolling', 'broken.json'), '{"schemaVersion": 1}');
    const r = runbook(['check', ...inv, '--records', records, 'test/fixtures/check/valid']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /runs\/rolling\/broken\.json:1:1 {2}error {2}run-record {2}not a valid run record: runId: /,
    );
  });

  it('says what to do for a missing path', () => {
    const r = runbook(['check', ...inv, 'no/such/page.mdx']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no/such/page.mdx: no such file or folder');
  });
});

describe('CLI conventions', () => {
  it("the project's own pages pass --strict (what CI runs last), with the real inventory", () => {
    const r = runbook(['check', '--strict']);
    expect(r.stdout, r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  it('a closed pipe (runbook show … | head -1) ends quietly with the exit code, no EPIPE crash', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" runner/cli.ts show k3s-upgrade --set TARGET_VERSION=v1.35.1+k3s1 | head -1`,
      ],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined } },
    );
    expect(r.stdout).toMatch(/^K3s upgrade/);
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.status).toBe(0);
  });

  it('history marks runs made against the sandbox (a loopback API server)', () => {
    const r = runbook(['history', 'cluster-health', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ sandbox: boolean; file: string }>;
    const server = (file: string) =>
      (JSON.parse(readFileSync(file, 'utf8')) as { cluster: { server?: string } }).cluster.server ?? '';
    for (const row of rows) expect(row.sandbox, row.file).toBe(/^https:\/\/127\./.test(server(row.file)));
    expect(rows.some((row) => row.sandbox)).toBe(true);
    expect(runbook(['history', 'cluster-health']).stdout).toMatch(/succeeded \(sandbox\)/);
  });

  it('--help lists the verbs and exits 0', () => {
    const r = runbook(['--help']);
    expect(r.code).toBe(0);
    for (const verb of ['list', 'show', 'check']) expect(r.stdout).toContain(verb);
    expect(r.stdout).toContain('Exit codes');
  });

  it('an unknown verb exits 2 with a suggestion', () => {
    const r = runbook(['chek']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('check');
  });

  it('show prints a numbered plan with targets, masked secrets and param sources', () => {
    const r = runbook(['show', ...inv, 'test/fixtures/check/valid/rolling.mdx', '--set', 'REASON=kernel'], {
      env: { API_TOKEN: 'canary-5e3c1' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3. restart@agent-1');
    expect(r.stdout).toContain('on agent-1 (operator@127.0.0.2:2202)');
    expect(r.stdout).toMatch(/API_TOKEN\s+••••\s+environment/);
    expect(r.stdout).toMatch(/REASON\s+kernel\s+--set/);
    expect(r.stdout).not.toContain('canary-5e3c1');
    const json = runbook(['show', ...inv, '--json', 'test/fixtures/check/valid/rolling.mdx'], {
      env: { API_TOKEN: 'canary-5e3c1' },
    });
    expect(json.stdout).not.toContain('canary-5e3c1');
    expect(JSON.parse(json.stdout).problems).toEqual([expect.stringContaining('param REASON is required')]);
  });
});
