import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../runner/inventory/load.ts';
import { expectFromOutput } from '../../runner/import/expected.ts';
import { importMarkdown } from '../../runner/import/page.ts';
import { runImport } from '../../runner/import/run-import.ts';
import { readRunmeCell } from '../../runner/import/runme.ts';
import { formatSummary } from '../../runner/import/summary.ts';

const root = resolve(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'import-transforms-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const { inventory } = loadInventory(undefined, root);
const open = (f: { decisions: Array<{ line: number; what: string; needsDecision: boolean }> }) =>
  f.decisions.filter((d) => d.needsDecision).map((d) => [d.line, d.what.split(':')[0]]);
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['runner/cli.ts', ...args], { cwd: root, encoding: 'utf8' });

describe('runbook import: Runme notebooks', () => {
  it('maps name, cwd, interactive, background and excludeFromRunAll, and drops display annotations', async () => {
    const [f] = await runImport('test/import/fixtures/runme-node-check.md', { out }, root);
    expect(f!.check).toEqual({ errors: 0, warnings: 0, messages: [] });
    expect(f!.steps.map((s) => [s.id, s.on, s.cwd, s.check])).toEqual([
      ['list-nodes', 'local', '/srv/lab', true],
      // Server_Disk made a valid id; the document's cwd is a local folder, not the node's.
      ['server-disk', 'k3s-master', undefined, true],
      ['collect-manifests', 'local', 'manifests', true],
      ['server-shell', 'k3s-master', undefined, true],
    ]);
    expect(open(f!)).toEqual([
      [35, 'Runme cwd manifests is relative to the Markdown file; the runner starts from the project root'],
      [41, 'Runme ran server-shell in a terminal (interactive=true); a step has none and reads no input'],
      [46, 'Runme background=true'],
    ]);
    const page = readFileSync(join(out, 'runme-node-check.mdx'), 'utf8');
    // No Runme annotation reaches the page, and the frontmatter is the page's own.
    expect(page).not.toMatch(/\{"|\{ name=|runme:|01JDX/);
    expect(page).toContain('```sh\nkubectl delete namespace scratch\n```');
    expect(page).toContain('```sh\nkubectl -n monitoring port-forward');
    expect(page).toContain('cluster: homelab');
  });

  it('reads both annotation forms and ignores fences without them', () => {
    expect(readRunmeCell('{"name":"drain","excludeFromRunAll":"true"}')).toMatchObject({
      name: 'drain',
      excludeFromRunAll: true,
    });
    expect(readRunmeCell('{ name=drain interactive=false cwd="/srv/a b" }')).toMatchObject({
      name: 'drain',
      interactive: false,
      cwd: '/srv/a b',
    });
    expect(readRunmeCell('title="x" {1-3}')).toBeUndefined();
    expect(readRunmeCell(undefined)).toBeUndefined();
  });
});

describe('runbook import: expected output', () => {
  it('takes the stable start of the most telling line, regex characters escaped', () => {
    const table = 'NAME  STATUS ROLES AGE VERSION\nk3s-master  Ready  control-plane  41d  v1.34.3+k3s1';
    expect(expectFromOutput(table)).toEqual({ pattern: 'k3s-master\\s+Ready\\s+control-plane', line: 1 });
    expect(expectFromOutput('Server Version: v1.34.3+k3s1')?.pattern).toBe('Server\\s+Version:\\s+v1\\.34\\.3\\+k3s1');
    // Ages, counts and addresses change between runs: nothing stable to match.
    expect(expectFromOutput('41d\n3/3 10.42.0.7\nok')).toBeUndefined();
  });

  it('an output block after a step becomes its expect=; without a step it is only shown as text', () => {
    const md = [
      '# Cluster checks',
      '## Version',
      '```bash',
      'kubectl version',
      '```',
      'You should see:',
      '```',
      'Server Version: v1.34.3+k3s1',
      '```',
      '## Sample',
      'Output:',
      '```bash',
      'NAME READY',
      '```',
    ].join('\n');
    const r = importMarkdown(md, 'notes', inventory);
    expect(r.steps).toMatchObject([{ id: 'version', expect: 'Server\\s+Version:\\s+v1\\.34\\.3\\+k3s1', check: true }]);
    expect(r.page).toContain('```text\nNAME READY\n```');
    expect(r.page).not.toContain('```bash\nNAME');
  });
});

describe('runbook import: waits, repeated node blocks, alternatives', () => {
  it('folds per-node blocks into a ForEach, turns sleeps into waits, and flags a variable lost between steps', async () => {
    const [f] = await runImport('test/import/fixtures/rolling-agents.md', { out }, root);
    expect(f!.check).toEqual({ errors: 0, warnings: 0, messages: [] });
    expect(f!.steps.map((s) => [s.id, s.on, s.confirm, s.check])).toEqual([
      ['kubectl-drain', 'local', true, false],
      ['systemctl-restart-k3s-agent', '$NODE', false, false],
      ['kubectl-wait', 'local', false, false],
      ['check-the-ingress-answers', 'local', false, true],
      ['look-at-the-events', 'local', false, true],
    ]);
    expect(open(f!)).toEqual([
      [38, 'INGRESS is set in step check-the-ingress-answers but used in step look-at-the-events'],
    ]);
    const page = readFileSync(join(out, 'rolling-agents.mdx'), 'utf8');
    expect(page).toContain("import ForEach from '~/components/ForEach.astro';");
    expect(page).toContain('<ForEach nodes="role:agent">');
    expect(page).toContain(
      'kubectl wait --for=condition=Ready node/"${NODE}" --timeout=300s\nkubectl get nodes "${NODE}"',
    );
    expect(page).not.toMatch(/k3s-worker-0[12]|sleep 30|sleep 10/);
    expect(page).toContain('until curl -sf "$INGRESS/api/health"; do');
    expect(formatSummary({ ...f!, target: 'OUT/rolling-agents.mdx' })).toMatchInlineSnapshot(`
      "test/import/fixtures/rolling-agents.md -> OUT/rolling-agents.mdx
        fences 4, steps 5, params 0, node steps 1, illustration 0
        check --strict: 0 error(s), 0 warning(s)
        needs a decision:
          line 38: INGRESS is set in step check-the-ingress-answers but used in step look-at-the-events: each step is its own bash process, so it is empty here; declare it as a param or merge the steps
        decisions taken:
          line 1: runbook.cluster: homelab, the inventory's cluster
          line 8: 2 repeated blocks for k3s-worker-01, k3s-worker-02 became one <ForEach nodes="role:agent"> with $NODE
          line 8: step kubectl-drain: destructive, added confirm
          line 9: ssh k3s-worker-01 became on=k3s-worker-01
          line 9: dropped sudo: k3s-worker-01 has become: true
          line 10: # Expected: comment became expect="Ready"
          line 10: sleep 30 before a check became kubectl wait --for=condition=Ready node/k3s-worker-01 --timeout=300s
          line 20: ssh k3s-worker-02 became on=k3s-worker-02
          line 20: dropped sudo: k3s-worker-02 has become: true
          line 21: # Expected: comment became expect="Ready"
          line 21: sleep 30 before a check became kubectl wait --for=condition=Ready node/k3s-worker-02 --timeout=300s
          line 31: sleep 10 before a check became a loop that polls curl every 5s for at most 300s
      "
    `);
  });

  it('makes Option A / Option B a Tabs block chosen by an enum param; another kube context leaves cluster open', async () => {
    const [f] = await runImport('test/import/fixtures/datastore-choice.md', { out }, root);
    expect(f!.check).toEqual({ errors: 0, warnings: 0, messages: [] });
    expect(f!.params).toMatchObject([{ name: 'OPTION', enum: ['etcd-snapshot', 'sqlite-copy'] }]);
    expect(f!.cluster).toBeUndefined();
    expect(open(f!)).toEqual([
      [19, "the notes use kube context lab-old, the inventory's cluster homelab has context homelab"],
    ]);
    const page = readFileSync(join(out, 'datastore-choice.mdx'), 'utf8');
    expect(page).toContain('<Tabs param="OPTION">\n\n<TabItem label="etcd-snapshot">');
    expect(page).not.toContain('cluster:');
    // The site and the runner read the page alike: show picks one tab's steps.
    const show = cli('show', join(out, 'datastore-choice.mdx'), '--set', 'OPTION=sqlite-copy');
    expect(show.stdout).toContain('option-a-etcd-snapshot: alternative for OPTION=sqlite-copy');
  });

  it('leaves alternatives without steps as headings, and a sleep before an unknown check as it is', () => {
    const md = [
      '# N',
      '## Option A: read',
      'Text.',
      '## Option B: skip',
      'More.',
      '## Wait',
      '```bash',
      'sleep 15',
      'make test',
      '```',
    ];
    const r = importMarkdown(md.join('\n'), 'n', inventory);
    expect(r.page).toContain('## Option A: read');
    expect(r.page).not.toContain('<Tabs');
    expect(r.params).toEqual([]);
    expect(r.decisions.filter((d) => d.needsDecision).map((d) => d.what)).toEqual([
      'step "wait" sleeps 15s to wait: replace it with kubectl wait or a polling loop',
    ]);
  });
});

describe('runbook import: sleeps and node groups, in detail', () => {
  const page = (...lines: string[]) => importMarkdown(['# Lab work', ...lines].join('\n'), 'lab', inventory);
  const fence = (...code: string[]) => ['```bash', ...code, '```'];

  it('waits for pods, trusts rollout status, drops a step that only slept, and stretches a long wait', () => {
    const pods = page(
      '## Pods',
      ...fence('kubectl apply -f app.yaml', 'sleep 20', 'kubectl get pods -n web -l app=web # Running'),
    );
    expect(pods.page).toContain('kubectl wait --for=condition=Ready pods -l app=web -n web --timeout=300s');
    const rollout = page(
      '## Roll',
      ...fence('kubectl -n web rollout restart deploy/web'),
      ...fence('sleep 15'),
      '## Status',
      ...fence('kubectl -n web rollout status deploy/web'),
    );
    expect(rollout.steps.map((s) => s.id)).toEqual(['roll', 'status']);
    expect(rollout.decisions.map((d) => d.what)).toContain('step roll-2 held only the sleep: left out');
    expect(rollout.page).not.toContain('sleep');
    const long = page('## Ready', ...fence('ssh k3s-worker-02 "sudo reboot"', 'sleep 5m', 'kubectl get nodes # Ready'));
    expect(long.page).toContain('kubectl wait --for=condition=Ready node/k3s-worker-02 --timeout=600s');
    // The wait outlasts the default 10m step timeout, so the step gets a longer one.
    expect(long.page).toMatch(/step=ready-2 title="Ready" timeout=660s/);
    // Without a namespace a pod wait would include finished Job pods: left for a person.
    const anyNs = page('## All', ...fence('sleep 20', 'kubectl get pods -A | grep Running'));
    expect(anyNs.decisions.filter((d) => d.needsDecision).map((d) => d.line)).toEqual([4]);
  });

  it('groups nodes that are not a whole role by name, and folds addresses into $NODE_ADDRESS', () => {
    const r = page(
      '## First',
      ...fence('ssh tom@192.168.2.20 "uptime"', 'ping -c 1 192.168.2.20'),
      'A note about the second node only.',
      '## Second',
      ...fence('ssh tom@192.168.2.22 "uptime"', 'ping -c 1 192.168.2.22'),
    );
    expect(r.page).toContain('<ForEach nodes="k3s-master,k3s-worker-02">');
    expect(r.page).toContain('ping -c 1 "${NODE_ADDRESS}"');
    expect(r.steps.map((s) => s.on)).toEqual(['$NODE', 'local']);
    expect(r.decisions.filter((d) => d.needsDecision).map((d) => d.what)).toEqual([
      'prose of a repeated per-node block left out of the ForEach: check it adds nothing',
    ]);
  });

  it('does not fold blocks that differ in more than the node', () => {
    const r = page('## A', ...fence('ssh k3s-worker-01 "uptime"'), '## B', ...fence('ssh k3s-worker-02 "df -h"'));
    expect(r.page).not.toContain('<ForEach');
    expect(r.steps.map((s) => s.on)).toEqual(['k3s-worker-01', 'k3s-worker-02']);
  });
});

describe('runbook import: existing pages', () => {
  it('refuses to replace a page without --force, names it, and replaces it with --force', () => {
    const dir = join(out, 'force');
    const file = 'test/import/fixtures/datastore-choice.md';
    expect(cli('import', file, '--out', dir).status).toBe(1);
    writeFileSync(join(dir, 'datastore-choice.mdx'), 'hand edits');
    const refused = cli('import', file, '--out', dir);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/datastore-choice\.mdx already exists: pass --force/);
    expect(readFileSync(join(dir, 'datastore-choice.mdx'), 'utf8')).toBe('hand edits');
    const dry = cli('import', file, '--out', dir, '--dry-run');
    expect(dry.stdout).toMatch(/exists: importing would refuse it without --force/);
    const forced = cli('import', file, '--out', dir, '--force');
    expect(forced.stdout).toMatch(/exists and was replaced \(--force\)/);
    expect(readFileSync(join(dir, 'datastore-choice.mdx'), 'utf8')).toContain('<Tabs param="OPTION">');
    expect(cli('check', '--strict', join(dir, 'datastore-choice.mdx')).status).toBe(0);
  });

  it('an HTML comment that never closes hides the rest, as in Markdown, and the page stays valid MDX', async () => {
    const r = importMarkdown('# T\n\n<!-- unclosed\n\n## Step\n\n```bash\necho hi\n```\n', 'unclosed', inventory);
    expect(r.page.trimEnd().endsWith('*/}')).toBe(true);
    expect(r.decisions).toContainEqual(
      expect.objectContaining({ needsDecision: true, what: expect.stringContaining('never closes') }),
    );
    expect(r.steps).toEqual([]);
  });
});
