// See scripts/bench-cluster. Whole processes for the run figures (what an operator
// waits for), in-process loops for the API calls alone (what the runner's own code
// costs once client-node is loaded).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { down, up } from '../sandbox-lib/sandbox.ts';
import { connectCluster } from '../../runner/cluster/api.ts';
import { clusterUid } from '../../runner/cluster/identity.ts';
import { takeClusterLease } from '../../runner/cluster/lease.ts';
import { takeSnapshot } from '../../runner/cluster/snapshot.ts';

const runs = Number(process.argv[2] ?? 7);
const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
const stateDir = join(dir, 'sandbox');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0).padStart(5)} ms`;

try {
  process.stderr.write('starting a sandbox…\n');
  const state = await up({ stateDir });
  const inv = parse(readFileSync(state.sandboxInventory, 'utf8'));
  inv.cluster.name = 'bench';
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, stringify(inv));
  // The same step in each: `true`, marked check (a check step runs behind the same read-only prelude either way).
  const page = (id: string, frontmatter: string) => {
    const file = join(dir, `${id}.mdx`);
    writeFileSync(
      file,
      `---\ntitle: ${id}\nrunbook:\n  id: ${id}\n${frontmatter}---\n\n\`\`\`bash step=one check\ntrue\n\`\`\`\n`,
    );
    return file;
  };
  const pages = {
    none: page('no-cluster', '  risk: medium\n'),
    checks: page('identity-snapshots', '  risk: low\n  cluster: bench\n'),
    all: page('identity-lease-snapshots', '  risk: medium\n  cluster: bench\n'),
  };
  const env = { ...process.env, KUBECONFIG: state.kubeconfig, RUNBOOK_LOCK_DIR: join(dir, 'locks'), NO_COLOR: '1' };
  const time = (args: string[]) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return performance.now() - t;
  };
  const run = (file: string) =>
    time(['runner/cli.ts', 'run', file, '--yes', '--records', join(dir, 'runs'), '--inventory', inventory]);
  const samples = { none: [] as number[], checks: [] as number[], all: [] as number[], load: [] as number[] };
  for (let i = 0; i < runs; i++) {
    samples.none.push(run(pages.none));
    samples.checks.push(run(pages.checks));
    samples.all.push(run(pages.all));
    samples.load.push(time(['-e', "await import('@kubernetes/client-node')"]) - time(['-e', '0']));
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<
    keyof typeof samples,
    number
  >;

  // The API work alone, warm (client-node loaded, connection pooled): what the runner adds per run besides the load.
  const cluster = await connectCluster(state.kubeconfig);
  const loop = async (fn: () => Promise<unknown>, n = 20) => {
    await fn();
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return (performance.now() - t) / n;
  };
  const holder = {
    operator: 'bench@here',
    host: 'here',
    runbook: 'bench',
    runId: 'bench-run',
    startedAt: new Date().toISOString(),
  };
  const api = {
    identity: await loop(() => clusterUid(cluster)),
    lease: await loop(async () => (await takeClusterLease(cluster, 'bench-api', holder)).release()),
    snapshot: await loop(() => takeSnapshot(cluster)),
  };
  const apiTotal = api.identity + api.lease + 2 * api.snapshot;

  const out = [
    `one-step run, medians of ${runs} whole processes against a sandbox (${state.server}):`,
    `  no cluster (baseline)                         ${fmt(m.none)}`,
    `  identity + both snapshots (low risk)          ${fmt(m.checks)}   +${(m.checks - m.none).toFixed(0)} ms, ${(m.checks / m.none).toFixed(2)}x`,
    `  identity + lock + both snapshots (medium)     ${fmt(m.all)}   +${(m.all - m.none).toFixed(0)} ms, ${(m.all / m.none).toFixed(2)}x`,
    `  of which loading @kubernetes/client-node      ${fmt(m.load)}`,
    'the API work alone, in-process, warm (mean of 20):',
    `  identity (GET namespace kube-system)          ${api.identity.toFixed(1).padStart(6)} ms`,
    `  lock take + release                           ${api.lease.toFixed(1).padStart(6)} ms`,
    `  one snapshot (5 lists + version)              ${api.snapshot.toFixed(1).padStart(6)} ms`,
    `  identity + lock + 2 snapshots                 ${apiTotal.toFixed(1).padStart(6)} ms`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await down(stateDir).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
