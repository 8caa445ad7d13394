import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeProseLine } from '../../runner/import/mdx-escape.ts';
import { classifyFence, stripPrompts } from '../../runner/import/classify.ts';
import { runImport } from '../../runner/import/run-import.ts';
import { formatSummary } from '../../runner/import/summary.ts';

const root = resolve(import.meta.dirname, '../..');
const fixture = 'test/import/fixtures/k3s-upgrade.md';
const out = mkdtempSync(join(tmpdir(), 'import-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('runbook import', () => {
  it('imports the K3s upgrade notes into a page that passes check --strict', async () => {
    const [f] = await runImport(fixture, { out }, root);
    expect(f!.check).toEqual({ errors: 0, warnings: 0, messages: [] });
    expect(f!.steps.map((s) => [s.id, s.on, s.confirm, s.check])).toEqual([
      ['check-the-nodes', 'local', false, true],
      ['snapshot-etcd', 'k3s-master', false, false],
      ['upgrade-the-server', 'k3s-master', false, false],
      ['drain-a-worker', 'local', true, false],
    ]);
    expect(f!.steps[0]!.expect).toBe('Ready');
    expect(f!.params.map((p) => p.name)).toEqual(['DATE_STAMP', 'TARGET_VERSION', 'NODE_NAME']);
    const page = readFileSync(join(out, 'k3s-upgrade.mdx'), 'utf8');
    expect(page).toContain('k3s etcd-snapshot save --name pre-upgrade-"${DATE_STAMP}"');
    expect(page).not.toContain('sudo');
    // The output block is shown as text, not as shell the reader might paste.
    expect(page).toContain('```text\nNAME         STATUS   ROLES');
    expect(formatSummary({ ...f!, target: 'OUT/k3s-upgrade.mdx' })).toMatchInlineSnapshot(`
      "test/import/fixtures/k3s-upgrade.md -> OUT/k3s-upgrade.mdx
        fences 7, steps 4, params 3, node steps 2, illustration 3
        check --strict: 0 error(s), 0 warning(s)
        needs a decision:
          line 1: runbook id k3s-upgrade is taken by src/content/docs/runbooks/k3s-upgrade.mdx: pass --id
          line 44: ssh to nas-box, which the inventory does not know: left as illustration; add the host to the inventory or rewrite the step
        decisions taken:
          line 1: runbook.cluster: homelab, the inventory's cluster
          line 3: escaped < { } as HTML entities
          line 4: HTML comment became an MDX comment {/* … */}
          line 5: autolink <https://docs.k3s.io/upgrades> became [https://docs.k3s.io/upgrades](https://docs.k3s.io/upgrades)
          line 10: # Expected: comment became expect="Ready"
          line 16: illustration: output block ("Expected output:"), shown as text; step check-the-nodes keeps expect="Ready"
          line 24: ssh k3s-master became on=k3s-master
          line 24: dropped sudo: k3s-master has become: true
          line 31: ssh tom@192.168.2.20 became on=k3s-master
          line 31: dropped sudo: k3s-master has become: true
          line 38: step drain-a-worker: destructive, added confirm
          line 49: illustration: in a troubleshooting/history section
      "
    `);
  });

  it('imports a worker join: console prompts, a secret param, a lost export and an interactive watch', async () => {
    const [f] = await runImport('test/import/fixtures/worker-join.md', { out }, root);
    expect(f!.check.errors + f!.check.warnings).toBe(0);
    expect(f!.steps.map((s) => [s.id, s.on, s.check])).toEqual([
      ['look-at-the-cluster', 'local', true],
      // Only an export: read-only in fact; the decision below says it does not reach the node.
      ['install-the-agent', 'local', true],
      ['install-the-agent-2', 'k3s-worker-01', false],
    ]);
    expect(f!.params).toMatchObject([{ name: 'JOIN_TOKEN', secret: true }]);
    expect(f!.decisions.filter((d) => d.needsDecision).map((d) => [d.line, d.what.split(':')[0]])).toEqual([
      [22, 'K3S_URL is exported locally but used on the node'],
      [28, 'interactive'],
    ]);
    expect(f!.illustrations).toBe(3);
  });

  it('imports a folder, one page per file', async () => {
    const files = await runImport('test/import/fixtures', { out: join(out, 'all') }, root);
    expect(files.map((f) => f.target.split('/').at(-1))).toEqual([
      'datastore-choice.mdx',
      'k3s-upgrade.mdx',
      'rolling-agents.mdx',
      'runme-node-check.mdx',
      'worker-join.mdx',
    ]);
    expect(files.every((f) => f.check.errors === 0)).toBe(true);
  });

  it('the CLI exits 1 with decisions left, 2 on bad input, and --dry-run --json writes nothing', () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['runner/cli.ts', 'import', ...args], { cwd: root, encoding: 'utf8' });
    const dry = cli('test/import/fixtures/k3s-upgrade.md', '--out', join(out, 'cli'), '--dry-run', '--json');
    expect(dry.status).toBe(1);
    expect(JSON.parse(dry.stdout)[0]).toMatchObject({ id: 'k3s-upgrade', written: false, nodeSteps: 2 });
    expect(existsSync(join(out, 'cli'))).toBe(false);
    const bad = cli('test/import/fixtures/k3s-upgrade.md', '--id', 'Not An Id', '--dry-run');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--id Not An Id');
  });

  it('a FIFO, a binary file or bytes that are not UTF-8: exit 2 naming the file and line, nothing written; CRLF becomes LF', () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['runner/cli.ts', 'import', ...args], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
    const dir = join(out, 'sources');
    mkdirSync(dir);
    const target = join(out, 'sources-out');
    spawnSync('mkfifo', [join(dir, 'fifo.md')]);
    const fifo = cli(join(dir, 'fifo.md'), '--out', target);
    expect(fifo.stderr).toContain('fifo.md: cannot read it: a FIFO, not a regular file');
    expect(fifo.status).toBe(2);
    // In a folder too, and before any other file of it is written.
    writeFileSync(join(dir, 'a.md'), '# A\n\n## Step\n\n```bash\nuptime\n```\n');
    expect(cli(dir, '--out', target).status).toBe(2);
    expect(existsSync(target)).toBe(false);
    rmSync(join(dir, 'fifo.md'));
    writeFileSync(join(dir, 'bin.md'), Buffer.from([0x23, 0x20, 0x54, 0x0a, 0x0a, 0x00, 0x01, 0x02]));
    const bin = cli(join(dir, 'bin.md'), '--out', target);
    expect(bin.stderr).toContain('bin.md:3: a NUL byte: this is not a text file');
    expect(bin.status).toBe(2);
    writeFileSync(join(dir, 'latin1.md'), Buffer.from('# T\n\n## Do it\n\n```bash\necho caf\xe9\n```\n', 'latin1'));
    const latin1 = cli(join(dir, 'latin1.md'), '--out', target);
    expect(latin1.stderr).toContain('latin1.md:6:9: byte 0xe9 is not UTF-8');
    expect(latin1.status).toBe(2);
    expect(existsSync(target)).toBe(false);
    writeFileSync(
      join(dir, 'crlf.md'),
      '# T\r\n\r\nIntro\r\n\r\n## Restart\r\n\r\n```bash\r\nsystemctl is-active k3s\r\nkubectl get nodes\r\n```\r\n',
    );
    const crlf = cli(join(dir, 'crlf.md'), '--out', target);
    expect(crlf.stdout).toContain('CRLF line endings became LF');
    expect(crlf.stdout).toContain('check --strict: 0 error(s), 0 warning(s)');
    expect(readFileSync(join(target, 'crlf.mdx'), 'utf8')).not.toContain('\r');
  });

  it('--dry-run writes nothing', async () => {
    const dir = join(out, 'dry');
    const [f] = await runImport(fixture, { out: dir, dryRun: true }, root);
    expect(f!.written).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('escapes MDX-hostile prose but keeps code spans', () => {
    const changes: Array<{ line: number; what: string }> = [];
    expect(escapeProseLine('use `<x>` at <node-ip> {}', 7, { inComment: false }, changes)).toBe(
      'use `<x>` at &lt;node-ip> &#123;&#125;',
    );
    expect(changes).toEqual([{ line: 7, what: 'escaped < { } as HTML entities' }]);
  });

  it('keeps config, untagged and output fences as illustration; strips console prompts', () => {
    expect(
      classifyFence({ lang: 'bash', code: 'server: https://x\ntoken: abc', before: '', proseSection: false }).kind,
    ).toBe('illustration');
    expect(classifyFence({ lang: null, code: 'ls', before: '', proseSection: false }).kind).toBe('illustration');
    expect(classifyFence({ lang: 'sh', code: 'ls', before: 'You should see:', proseSection: false }).kind).toBe(
      'illustration',
    );
    expect(stripPrompts('$ kubectl get ns\nNAME STATUS\ndefault Active')).toEqual({
      code: 'kubectl get ns',
      dropped: 2,
    });
  });
});
