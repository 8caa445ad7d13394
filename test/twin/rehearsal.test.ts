// Rehearsals of the real k3s-upgrade runbook (src/content/docs/runbooks/k3s-upgrade.mdx) on a
// twin of its own: every node step over the runner's ssh to the node's sshd, the simulated K3s
// driving the Node objects, the NAS twin receiving the snapshot. Local steps run in the twin's
// operator namespace (RUNBOOK_STEP_NAMESPACE), so the runbook's lab URLs never leave loopback.
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, up, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { clearFaults, injectFault } from '../../scripts/sandbox-lib/twin/faults.ts';
import { readTwin, twinEnv } from '../../scripts/sandbox-lib/twin/index.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { runbook } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'k3s-rehearsal-'));
const stateDir = join(root, 'sandbox');
const records = join(root, 'runs');
let state: SandboxState;

const env = () => ({
  KUBECONFIG: state.kubeconfig,
  RUNBOOK_INVENTORY: state.sandboxInventory,
  RUNBOOK_LOCK_DIR: join(root, 'locks'),
  XDG_STATE_HOME: join(root, 'state'), // k3s-upgrade's state dump goes there, not into the user's ~/.local/state
  PATH: `${state.binDir}:${process.env.PATH}`,
  ...twinEnv(stateDir),
});
const kubectl = (...args: string[]) => {
  const r = spawnSync(state.kubectl, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: state.kubeconfig } });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const nodes = () =>
  JSON.parse(kubectl('get', 'nodes', '-o', 'json')).items.map((n: any) => ({
    name: n.metadata.name as string,
    version: n.status.nodeInfo.kubeletVersion as string,
    ready: n.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'True',
    cordoned: n.spec.unschedulable === true,
  }));
const upgrade = (target: string, extra: string[] = []) =>
  runbook(['run', 'k3s-upgrade', '--set', `TARGET_VERSION=${target}`, '--yes', '--records', records, ...extra], {
    env: env(),
  });
const resume = (runId: string) => runbook(['resume', runId, '--yes', '--records', records], { env: env() });
const recordsOf = (id: string): RunRecord[] =>
  (existsSync(join(records, id)) ? readdirSync(join(records, id)).sort() : []).map((f) =>
    runRecordSchema.parse(JSON.parse(readFileSync(join(records, id, f), 'utf8'))),
  );
const last = (id: string) => recordsOf(id).at(-1)!;

describe('k3s-upgrade rehearsed on the lab twin', () => {
  beforeAll(async () => {
    state = await up({ stateDir, twin: true });
  }, 300_000);
  afterAll(async () => {
    if (state) await down(stateDir);
    rmSync(root, { recursive: true, force: true });
  });

  it('a reboot scheduled from a step outlives the step (systemd runs it) and the node comes back with a new boot id', async () => {
    const bootId = () => kubectl('get', 'node', 'k3s-worker-02', '-o', 'jsonpath={.status.nodeInfo.bootID}').trim();
    const before = bootId();
    const r = runbook(
      ['run', 'node-maintenance', '--only', 'reboot-agent@k3s-worker-02', '--yes', '--records', records],
      { env: env() },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const deadline = Date.now() + 60_000;
    while (bootId() === before && Date.now() < deadline) await sleep(500);
    expect(bootId()).not.toBe(before);
    expect(bootId()).not.toBe('');
  });

  it('the skew guard: a target two minors ahead fails in preflight, and no node is drained', () => {
    const r = upgrade('v1.36.0+k3s1');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const rec = last('k3s-upgrade');
    expect(rec.steps.find((s) => s.status === 'failed')?.id).toBe('version-path');
    expect(rec.steps.find((s) => s.id === 'version-path')?.output).toContain('would skip a minor version');
    expect(rec.steps.filter((s) => s.id.startsWith('drain')).every((s) => s.status === 'pending')).toBe(true);
    expect(nodes().every((n: { cordoned: boolean }) => !n.cordoned)).toBe(true);
    expect(rec.rehearsal).toEqual({ twin: true, faults: [] });
  });

  it("a PDB that blocks the drain: the drain waits on the API's eviction refusal (in the record) until stopped", async () => {
    await injectFault(stateDir, 'pdb-block', { node: 'k3s-master' });
    try {
      // kubectl drain retries a refused eviction until its --timeout (10m in the runbook): the operator stops it.
      const child = spawn(
        process.execPath,
        ['runner/cli.ts', 'run', 'k3s-upgrade', '--set', 'TARGET_VERSION=v1.35.0+k3s1', '--yes', '--records', records],
        {
          env: { ...process.env, NO_COLOR: '1', RUNBOOK_GRACE_MS: '500', ...env() },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      const deadline = Date.now() + 120_000;
      while (!/violate the pod's disruption budget/.test(out) && Date.now() < deadline) await sleep(200);
      child.kill('SIGINT');
      expect(await exited, out).toBe(130);
      const rec = last('k3s-upgrade');
      const drain = rec.steps.find((s) => s.id === 'drain-server@k3s-master')!;
      expect(drain.status).toBe('interrupted');
      expect(drain.output).toMatch(/Cannot evict pod as it would violate the pod's disruption budget/);
      expect(rec.rehearsal?.faults.map((f) => f.kind)).toEqual(['pdb-block']);
      // Nothing was installed: the server still runs the old version.
      expect(nodes().find((n: { name: string }) => n.name === 'k3s-master').version).toBe('v1.34.3+k3s1');
    } finally {
      await clearFaults(stateDir, { kind: 'pdb-block' });
      kubectl('uncordon', 'k3s-master');
    }
  });

  it('end to end: every node Ready and schedulable at the target, the NAS holds the snapshot with its token and checksum', () => {
    const r = upgrade('v1.35.0+k3s1');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rec = last('k3s-upgrade');
    expect(rec.steps.every((s) => s.status === 'succeeded')).toBe(true);
    for (const n of nodes()) expect(n).toMatchObject({ version: 'v1.35.0+k3s1', ready: true, cordoned: false });
    const etcd = join(readTwin(stateDir)!.dir, 'nas/volume1/k3s-backups/etcd');
    const files = readdirSync(etcd);
    const snap = files.find((f) => /^pre-upgrade-v1\.35\.0-k3s1-k3s-master-\d+$/.test(f));
    expect(snap, files.join(', ')).toBeDefined();
    expect(files).toEqual(expect.arrayContaining([`${snap}.token`, `${snap}.sha256`]));
    // The record carries the cluster before and after: every kubelet moved.
    const before = rec.snapshots?.before as { nodes: Array<{ kubeletVersion: string }> };
    const after = rec.snapshots?.after as { nodes: Array<{ kubeletVersion: string }> };
    expect(before.nodes.every((n) => n.kubeletVersion === 'v1.34.3+k3s1')).toBe(true);
    expect(after.nodes.every((n) => n.kubeletVersion === 'v1.35.0+k3s1')).toBe(true);
  });

  it("an agent's install fails mid-upgrade: the run stops there with the node cordoned; cleared and resumed, it finishes", async () => {
    await injectFault(stateDir, 'install-fails', { node: 'k3s-worker-01' });
    const r = upgrade('v1.35.1+k3s1');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const rec = last('k3s-upgrade');
    expect(rec.steps.find((s) => s.status === 'failed')?.id).toBe('install-agent@k3s-worker-01');
    expect(nodes().find((n: { name: string }) => n.name === 'k3s-worker-01')).toMatchObject({
      cordoned: true,
      version: 'v1.35.0+k3s1',
    });
    expect(rec.rehearsal?.faults.map((f) => f.kind)).toContain('install-fails');

    await clearFaults(stateDir, { kind: 'install-fails' });
    const again = resume(rec.runId);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const done = last('k3s-upgrade');
    expect(done.runId).toBe(rec.runId);
    expect(done.status).toBe('succeeded');
    expect(done.resumes).toHaveLength(1);
    for (const n of nodes()) expect(n).toMatchObject({ version: 'v1.35.1+k3s1', ready: true, cordoned: false });
  });
});
