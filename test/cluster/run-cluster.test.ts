// A whole run against the sandbox, as the runner sees the cluster: identity, the
// cluster-wide lock, and the snapshots before and after its steps — after a run that
// drains a node, and after one interrupted with Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runbook } from '../helpers/cli.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { isSnapshot } from '../../runner/record/snapshot.ts';
import { diffSlots } from '../../runner/record/snapshot-diff.ts';
import { eventually, kubectl, sandbox, uniqueName } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'runbook-run-cluster-'));
const records = join(dir, 'runs');
// A cluster name of its own, so its lease never meets another suite's on the shared sandbox.
const clusterName = uniqueName('rc');
const inventory = join(dir, 'inventory.yaml');
const env = () => ({
  KUBECONFIG: inject('kubeconfig'),
  RUNBOOK_LOCK_DIR: join(dir, 'locks'),
  RUNBOOK_GRACE_MS: '300',
  PATH: `${join(inject('kubectl'), '..')}:${process.env.PATH}`,
});

function page(id: string, risk: string, body: string): string {
  const file = join(dir, `${id}.mdx`);
  writeFileSync(
    file,
    `---\ntitle: ${id}\nrunbook:\n  id: ${id}\n  risk: ${risk}\n  cluster: ${clusterName}\n  params:\n    NODE_NAME: { required: true }\n---\n\n# ${id}\n\n${body}`,
  );
  return file;
}

function onlyRecord(id: string): RunRecord {
  const names = readdirSync(join(records, id));
  expect(names).toHaveLength(1);
  return runRecordSchema.parse(JSON.parse(readFileSync(join(records, id, names[0]!), 'utf8')));
}

describe('a run records the cluster before and after its steps', () => {
  const { kc } = sandbox();
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const ns = uniqueName('rc-app');
  let node = '';

  beforeAll(async () => {
    const inv = parse(readFileSync(join(inject('sandboxStateDir'), 'inventory.yaml'), 'utf8'));
    inv.cluster.name = clusterName;
    writeFileSync(inventory, stringify(inv));
    const nodes = (await core.listNode()).items;
    node = nodes.find((n) => !n.metadata?.labels?.['node-role.kubernetes.io/control-plane'])!.metadata!.name!;
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });

  afterAll(async () => {
    kubectl(['uncordon', node]);
    await core.deleteNamespace({ name: ns }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a run in the background; resolves its exit code and output. */
  function startRun(file: string) {
    const child = spawn(
      process.execPath,
      [
        'runner/cli.ts',
        'run',
        file,
        '--inventory',
        inventory,
        '--records',
        records,
        '--yes',
        '--set',
        `NODE_NAME=${node}`,
      ],
      {
        env: { ...process.env, NO_COLOR: '1', ...env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    return { output: () => out, exited, interrupt: () => child.kill('SIGINT') };
  }
  const lock = (...args: string[]) => runbook(['lock', '--inventory', inventory, ...args], { env: env() });

  it('drain: before has the node schedulable, after has it cordoned (a cordon left behind), the lock released', async () => {
    const file = page(
      'drain-one',
      'medium',
      '```bash step=drain confirm\nkubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout=60s\n```\n',
    );
    const r = runbook(
      ['run', file, '--inventory', inventory, '--records', records, '--yes', '--set', `NODE_NAME=${node}`],
      { env: env() },
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`cluster lock kube-system/runbook-${clusterName} held for this run`);
    const rec = onlyRecord('drain-one');
    expect(rec.lease).toMatchObject({ namespace: 'kube-system', name: `runbook-${clusterName}` });
    const { before, after } = rec.snapshots ?? {};
    expect(isSnapshot(before) && isSnapshot(after)).toBe(true);
    if (!isSnapshot(before) || !isSnapshot(after)) return;
    expect(before.serverVersion).toMatch(/^v1\.\d+\.\d+/);
    expect(before.nodes.find((n) => n.name === node)).toMatchObject({ unschedulable: false, ready: true });
    expect(after.nodes.find((n) => n.name === node)).toMatchObject({ unschedulable: true });
    expect(Date.parse(before.takenAt)).toBeLessThanOrEqual(Date.parse(rec.steps[0]!.startedAt!));
    expect(Date.parse(after.takenAt)).toBeGreaterThanOrEqual(Date.parse(rec.steps[0]!.endedAt!));
    expect(diffSlots(before, after)?.cordonsLeft).toContain(node);
    // Released at the end: the Lease has no holder any more.
    const lease = await coordination.readNamespacedLease({ name: `runbook-${clusterName}`, namespace: 'kube-system' });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    kubectl(['uncordon', node]);
  });

  it('Ctrl-C: the interrupted run still has its after snapshot, and the lock is given up', async () => {
    const run = startRun(page('held', 'high', '```bash step=wait\necho waiting; sleep 30\n```\n'));
    await eventually('the step to start', async () => run.output().includes('waiting'), 30_000, 50);
    // Held while the step runs.
    const held = await coordination.readNamespacedLease({ name: `runbook-${clusterName}`, namespace: 'kube-system' });
    expect(held.spec?.holderIdentity).toContain('/');
    run.interrupt();
    expect(await run.exited, run.output()).toBe(130);
    const rec = onlyRecord('held');
    expect(rec.status).toBe('interrupted');
    expect(isSnapshot(rec.snapshots?.before)).toBe(true);
    expect(isSnapshot(rec.snapshots?.after)).toBe(true);
    const lease = await coordination.readNamespacedLease({ name: `runbook-${clusterName}`, namespace: 'kube-system' });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
  });

  it('a lock broken between renewals stops the run before its next step (asked of the API before every step)', async () => {
    const marker = join(dir, 'third-ran');
    // The first step holds until the test has broken the lock (a gate, not a sleep: a loaded machine can take seconds for `lock`).
    const gate = join(dir, 'broken-gate');
    const file = page(
      'broken',
      'medium',
      [
        `\`\`\`bash step=one\necho started; for i in $(seq 600); do [ -e ${gate} ] && break; sleep 0.1; done\n\`\`\`\n`,
        '```bash step=two\ntrue\n```\n',
        `\`\`\`bash step=three\ntouch ${marker}\n\`\`\`\n`,
      ].join('\n'),
    );
    const run = startRun(file);
    await eventually('the first step to start', async () => run.output().includes('started'), 30_000, 50);
    const broke = lock('--release', '--force');
    writeFileSync(gate, '');
    expect(broke.code, broke.stderr).toBe(0);
    const code = await run.exited;
    expect(code, run.output()).toBe(2);
    expect(run.output()).toContain('the cluster lock was lost');
    const rec = onlyRecord('broken');
    expect(rec.steps.map((s) => s.status)).toEqual(['succeeded', 'pending', 'pending']);
    expect(rec.lease?.lost).toContain('released');
    expect(() => readFileSync(marker)).toThrow();
  });

  it('`runbook lock --release` (without --force) refuses to free the lease of your run that is still going', async () => {
    const gate = join(dir, 'alive-gate');
    const file = page(
      'alive',
      'medium',
      `\`\`\`bash step=one\necho started; for i in $(seq 600); do [ -e ${gate} ] && break; sleep 0.1; done\n\`\`\`\n`,
    );
    const run = startRun(file);
    await eventually('the step to start', async () => run.output().includes('started'), 30_000, 50);
    const refused = lock('--release');
    writeFileSync(gate, '');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('still running here');
    expect(await run.exited, run.output()).toBe(0);
  });

  it("a Lease another tool took is shown by its holderIdentity, not by the last runner's stale annotations", async () => {
    // A free lease with the last holder's annotations (from the runs above), then another tool takes it.
    const name = `runbook-${clusterName}`;
    const now = new Date().toISOString().replace(/Z$/, '000Z');
    kubectl([
      '-n',
      'kube-system',
      'patch',
      'lease',
      name,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { holderIdentity: 'other-tool', renewTime: now, acquireTime: now, leaseDurationSeconds: 60 },
      }),
    ]);
    try {
      const shown = lock('--json');
      expect(shown.code, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout).holder).toMatchObject({ identity: 'other-tool', who: 'other-tool' });
      expect(JSON.parse(shown.stdout).holder.runId).toBeUndefined();
      // Not yours (it is other-tool's): a plain --release refuses.
      expect(lock('--release').code).toBe(2);
    } finally {
      expect(lock('--release', '--force').code).toBe(0);
    }
  });

  it('a low-risk run of checks only takes no lock', () => {
    const file = page('checks-only', 'low', '```bash step=nodes check\nkubectl get nodes -o name\n```\n');
    const r = runbook(['run', file, '--inventory', inventory, '--records', records, '--set', `NODE_NAME=${node}`], {
      env: env(),
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const rec = onlyRecord('checks-only');
    expect(rec.lease).toBeUndefined();
    expect(isSnapshot(rec.snapshots?.after)).toBe(true);
  });

  it('history --json carries the snapshots', () => {
    const r = runbook(['history', 'drain-one', '--records', records, '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout);
    expect(isSnapshot(row.snapshots.before)).toBe(true);
  });
});
