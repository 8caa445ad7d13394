/**
 * The example lab's shipped run history, written by `runbook run` on the lab twin:
 * brings up a twin in a temp state dir, runs SCENARIOS in order on it (records to a
 * temp folder), checks that each ended as its row says, then replaces the rehearsal
 * records in src/content/runs page by page. Records that are not rehearsals (runs
 * against a plain sandbox, or the lab's own runs) are kept as they are.
 *
 *   scripts/record-history [--keep-going] [--only NAME,…] [--no-write] [--dry]   (npm run fixtures:runs)
 *
 * --only runs the rows whose name or page id is listed (and replaces only those pages'
 * rehearsals); --keep-going plays every row even after one went wrong; --no-write plays
 * the rows and checks them but leaves src/content/runs alone; --dry lists the rows.
 *
 * Local steps run in the twin's operator namespace (RUNBOOK_STEP_NAMESPACE, only
 * loopback): the script refuses to run any scenario without it. Needs root, as the
 * twin does. A scenario that does not end as its row expects fails the script (exit
 * 1) and nothing in src/content/runs changes.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runRecordSchema, type RunRecord } from '../runner/record/schema.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = join(ROOT, 'src/content/runs');

/** How a run (or its resume) must end: its status, and for a failure the first failed instance (and target of a fan-out). */
interface Outcome {
  status: 'succeeded' | 'failed';
  at?: string;
  target?: string;
}

interface Scenario {
  /** Shown in the progress lines. */
  name: string;
  /**
   * `runbook run` arguments after `run`: the page id, then `--set`s. `@latest-snapshot` and `@token` are read
   * from the twin. With `verify`: `runbook verify` of these page ids instead (only their check steps run).
   */
  run: string[];
  /** A read-only sweep (`runbook verify`): how each page's run must end, by page id (`expect` is for the sweep's exit). */
  verify?: Record<string, Outcome>;
  /** `scripts/sandbox fault …` argument lists injected before the run. */
  faults?: string[][];
  expect: Outcome;
  /** After a failure: clear the faults and `runbook resume` the same run, which must end as this says. */
  resume?: Outcome;
  /** A scenario that does not go through on the twin today, and why: listed, not run. */
  skip?: string;
}

/** The lab's history, in order: each row depends on the twin state the rows before left behind. */
export const SCENARIOS: Scenario[] = [
  {
    name: 'health check',
    run: ['cluster-health'],
    expect: { status: 'succeeded' },
  },
  // The ADR validations whose checks all pass on the twin, swept before the upgrades (0001 checks the inventory's
  // K3s version); scripts/rehearse-plan.txt rehearses the same ones. The others stop today at: 0003 control-plane-taint (no taint on the twin's server), 0004
  // flannel-backend, 0005 traefik-configured (no HelmChartConfig), 0007 csi-driver-registered (no CSINode), 0008
  // served-by-lets-encrypt, 0015 etcd-copy-on-nas; the weekend plans at a probe claim, an HTTPS check, Prometheus
  // targets or psql (weekends 1 and 3 need params to run at all).
  {
    name: 'ADR checks swept (runbook verify)',
    run: ['0001-kubernetes-distribution', '0006-load-balancer-metallb-l2', '0017-coordinated-reboots'],
    verify: {},
    expect: { status: 'succeeded' },
  },
  {
    name: 'k3s upgrade to v1.35.0',
    run: ['k3s-upgrade', '--set', 'TARGET_VERSION=v1.35.0+k3s1'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'k3s upgrade to v1.35.1, an agent install fails, resumed',
    faults: [['install-fails', 'k3s-worker-01']],
    run: ['k3s-upgrade', '--set', 'TARGET_VERSION=v1.35.1+k3s1'],
    expect: { status: 'failed', at: 'install-agent@k3s-worker-01' },
    resume: { status: 'succeeded' },
  },
  { name: 'data and apps after the upgrade', run: ['post-change-checks'], expect: { status: 'succeeded' } },
  {
    name: 'health check after the upgrades',
    run: ['cluster-health', '--set', 'K3S_VERSION=v1.35.1+k3s1'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'etcd backup',
    run: ['cluster-backup'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'PostgreSQL backup',
    run: ['postgres-backup', '--set', 'BACKUP_DIR=@work/pg-backups'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'PostgreSQL restore drill from that dump',
    run: ['postgres-restore', '--set', 'BACKUP_FILE=@work/pg-backups/latest/n8n.dump'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'restore drill from the newest snapshot on the NAS',
    run: ['cluster-restore', '--set', 'SNAPSHOT=@latest-snapshot'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'token rotation',
    run: ['k3s-token-rotation', '--set', 'NEW_TOKEN=TwinRotatedToken0123456789abcdefXYZ'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'node maintenance',
    run: ['node-maintenance'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'fan-out failure: an agent unreachable in the upgrade preflight',
    faults: [['unreachable', 'k3s-worker-02']],
    run: ['k3s-upgrade', '--set', 'TARGET_VERSION=v1.35.2+k3s1'],
    expect: { status: 'failed', at: 'agent-preflight', target: 'k3s-worker-02' },
  },
  {
    name: 'node failure recovery: k3s stopped on k3s-worker-02',
    faults: [['k3s-stopped', 'k3s-worker-02']],
    run: ['node-failure-recovery', '--set', 'FAILED_NODE=k3s-worker-02'],
    expect: { status: 'succeeded' },
  },
  {
    name: 'health check catches a stopped node',
    faults: [['k3s-stopped', 'k3s-worker-01']],
    run: ['cluster-health', '--set', 'K3S_VERSION=v1.35.1+k3s1'],
    expect: { status: 'failed', at: 'nodes-ready' },
  },
];

// Set by main: the twin's state dir and the records folder the scenarios write to, in one temp dir.
let work = '';
let state = '';
let records = '';

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 900_000) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? 2, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
const sandbox = (...args: string[]) => sh('bash', ['scripts/sandbox', ...args, '--state-dir', state]);

/** The environment `eval "$(scripts/sandbox env)"` gives a shell, read back through `env -0`. */
function twinEnvironment(): NodeJS.ProcessEnv {
  const r = spawnSync('bash', ['-c', 'eval "$(bash scripts/sandbox env --state-dir "$1")" && env -0', '-', state], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`scripts/sandbox env failed: ${r.stderr}`);
  return Object.fromEntries(
    r.stdout
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** Values a row can only name, because the twin makes them during the history. */
function resolveArg(arg: string): string {
  if (arg.endsWith('=@latest-snapshot')) {
    const dir = join(state, 'twin/nas/volume1/k3s-backups/etcd');
    // K3s names a snapshot <name>-<node>-<unix time> (the name may hold dots, as a version does); .token and .sha256 sit beside it.
    const stamp = (f: string) => Number(/-(\d{9,})$/.exec(f)?.[1] ?? NaN);
    const names = existsSync(dir) ? readdirSync(dir).filter((f) => !Number.isNaN(stamp(f))) : [];
    return arg.replace('@latest-snapshot', names.sort((x, y) => stamp(x) - stamp(y)).at(-1) ?? 'none');
  }
  // A path in this history's own work dir; its first folder (postgres-backup's dumps) is made on first use, as
  // scripts/rehearse-all makes it.
  if (arg.includes('=@work/')) {
    const [name, rest] = [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=@work/') + '=@work/'.length)];
    mkdirSync(join(work, rest.split('/')[0]!), { recursive: true });
    return `${name}=${join(work, rest)}`;
  }
  if (arg.endsWith('=@token'))
    return arg.replace(
      '@token',
      readFileSync(join(state, 'twin/nodes/k3s-master/root/var/lib/rancher/k3s/server/token'), 'utf8').trim(),
    );
  return arg;
}

function newestRecord(id: string, before: Set<string>): RunRecord | undefined {
  const dir = join(records, id);
  const fresh = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json') && !before.has(f))
        .sort()
    : [];
  const file = fresh.at(-1);
  return file ? runRecordSchema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8'))) : undefined;
}

function recordFiles(id: string): Set<string> {
  const dir = join(records, id);
  return new Set(existsSync(dir) ? readdirSync(dir) : []);
}

function readRecord(id: string, runId: string): RunRecord {
  return runRecordSchema.parse(JSON.parse(readFileSync(join(records, id, `${runId}.json`), 'utf8')));
}

/** What the record says happened, in the terms of Outcome: '' when it is what the row expects. */
function mismatch(record: RunRecord | undefined, want: Outcome): string {
  if (!record) return 'no record was written (the run was refused)';
  const failed = record.steps.find((s) => s.status === 'failed' || s.status === 'timed-out');
  const failedTarget = failed?.targets.find((t) => t.status === 'failed' || t.status === 'timed-out')?.target;
  const got = `${record.status}${failed ? ` at ${failed.id}${failedTarget ? ` on ${failedTarget}` : ''}` : ''}`;
  const wanted = `${want.status}${want.at ? ` at ${want.at}${want.target ? ` on ${want.target}` : ''}` : ''}`;
  if (record.status !== want.status) return `ended ${got}, expected ${wanted}${stopLine(record)}`;
  if (want.at && failed?.id !== want.at) return `ended ${got}, expected ${wanted}${stopLine(record)}`;
  if (want.target && failedTarget !== want.target) return `ended ${got}, expected ${wanted}${stopLine(record)}`;
  return '';
}

function stopLine(record: RunRecord): string {
  const s = record.steps.find((x) => !['succeeded', 'skipped'].includes(x.status));
  if (!s) return '';
  const text = s.output || s.targets.map((t) => t.output ?? '').join('\n') || s.error || '';
  return ` (${s.id}: ${text.trim().split('\n').at(-1)?.slice(0, 140) ?? s.status})`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Runs one row (and its resume); throws with what went differently from the row. */
function play(s: Scenario, env: NodeJS.ProcessEnv): void {
  const [id, ...rest] = s.run;
  for (const f of s.faults ?? []) {
    const r = sandbox('fault', ...f);
    if (r.code !== 0) throw new Error(`fault ${f.join(' ')} was refused: ${r.out.trim()}`);
  }
  if (s.verify) {
    sweep(s, env);
    return;
  }
  const before = recordFiles(id!);
  const run = sh('node', ['runner/cli.ts', 'run', id!, '--yes', '--records', records, ...rest.map(resolveArg)], env);
  let record = newestRecord(id!, before);
  let problem = mismatch(record, s.expect);
  if (!problem && s.faults?.length) sandbox('fault', 'clear', 'all');
  if (!problem && s.resume) {
    const again = sh('node', ['runner/cli.ts', 'resume', record!.runId, '--yes', '--records', records], env);
    record = readRecord(id!, record!.runId);
    problem = mismatch(record, s.resume);
    if (problem) problem = `resumed: ${problem}; ${again.out.trim().split('\n').at(-1)}`;
  }
  if (problem) {
    if (!record) problem += `: ${run.out.trim().split('\n').at(-1)}`;
    throw new Error(problem);
  }
}

/** A `runbook verify` row: one run per page, each checked against its own outcome. */
function sweep(s: Scenario, env: NodeJS.ProcessEnv): void {
  const before = new Map(s.run.map((id) => [id, recordFiles(id)]));
  const r = sh('node', ['runner/cli.ts', 'verify', ...s.run, '--records', records], env);
  const problems = s.run.flatMap((id) => {
    const problem = mismatch(newestRecord(id, before.get(id)!), s.verify![id] ?? s.expect);
    return problem ? [`${id} ${problem}`] : [];
  });
  if (s.faults?.length) sandbox('fault', 'clear', 'all');
  const exit = s.expect.status === 'succeeded' ? 0 : 1;
  if (r.code !== exit) problems.push(`verify exited ${r.code}, expected ${exit}: ${r.out.trim().split('\n').at(-1)}`);
  if (problems.length) throw new Error(problems.join('; '));
}

/**
 * Replaces the rehearsal records of each page the history wrote (and of pages whose
 * rehearsals it no longer writes), keeping every other record: the page's new folder
 * is assembled beside the old one and renamed over it, so the site never sees half of it.
 */
export function swapInto(records: string, runsDir: string, partial: boolean): number {
  const written = pageDirs(records).filter((id) => readdirSync(join(records, id)).some((f) => f.endsWith('.json')));
  // A full history owns every rehearsal record; a partial one (--only) just the pages it wrote.
  const pages = new Set([
    ...written,
    ...(partial ? [] : pageDirs(runsDir).filter((id) => hasRehearsal(join(runsDir, id)))),
  ]);
  let n = 0;
  for (const id of [...pages].sort()) {
    const dir = join(runsDir, id);
    const next = join(runsDir, `.${id}.next`);
    const old = join(runsDir, `.${id}.old`);
    rmSync(next, { recursive: true, force: true });
    mkdirSync(next);
    for (const f of existsSync(dir) ? readdirSync(dir) : [])
      if (f.endsWith('.json') && !isRehearsal(join(dir, f))) cpSync(join(dir, f), join(next, f));
    for (const f of existsSync(join(records, id)) ? readdirSync(join(records, id)) : []) {
      if (!f.endsWith('.json')) continue;
      cpSync(join(records, id, f), join(next, f));
      n++;
    }
    if (readdirSync(next).length === 0) {
      rmSync(next, { recursive: true });
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(next, dir);
    rmSync(old, { recursive: true, force: true });
  }
  return n;
}

function isRehearsal(file: string): boolean {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).rehearsal !== undefined;
  } catch {
    return false;
  }
}
const hasRehearsal = (dir: string) => readdirSync(dir).some((f) => f.endsWith('.json') && isRehearsal(join(dir, f)));

/** The page folders of a records folder (not README.md, not a swap's own .<id>.next/.old). */
const pageDirs = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
    : [];

async function main(): Promise<number> {
  const started = performance.now();
  const { values: opts } = parseArgs({
    options: {
      'keep-going': { type: 'boolean', default: false },
      only: { type: 'string' },
      dry: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const only = opts.only?.split(',');
  work = mkdtempSync(join(tmpdir(), 'record-history-'));
  state = join(work, 'sandbox');
  records = join(work, 'runs');
  process.on('exit', () => {
    sandbox('down');
    rmSync(work, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

  const rows = SCENARIOS.filter((s) => !only || only.includes(s.run[0]!) || only.includes(s.name));
  if (opts.dry) {
    for (const s of rows)
      console.log(
        `${s.skip ? 'skip' : 'run '}  ${s.name}: runbook ${s.verify ? 'verify' : 'run'} ${s.run.join(' ')}${s.skip ? `  (${s.skip})` : ''}`,
      );
    return 0;
  }
  const t0 = performance.now();
  const upped = sandbox('up');
  if (upped.code !== 0) {
    console.error(`record-history: the twin did not come up:\n${upped.out}`);
    return 2;
  }
  // Params not --set come from the environment: drop vitest's and Vite's MODE/DEV/PROD/SSR/BASE_URL (postgres-restore
  // has a MODE param), and keep what steps write to XDG_STATE_HOME (k3s-upgrade's state dump) in the work dir.
  const { MODE: _m, DEV: _d, PROD: _p, SSR: _s, BASE_URL: _b, ...twin } = twinEnvironment();
  const env: NodeJS.ProcessEnv = {
    ...twin,
    NO_COLOR: '1',
    RUNBOOK_LOCK_DIR: join(work, 'locks'),
    XDG_STATE_HOME: join(work, 'state'),
  };
  if (!env.RUNBOOK_STEP_NAMESPACE) {
    console.error('record-history: the twin has no operator namespace; refusing (local steps could reach the network)');
    return 2;
  }
  console.log(`twin up in ${seconds(performance.now() - t0)} (${state})`);

  let failures = 0;
  for (const [i, s] of rows.entries()) {
    const label = `[${i + 1}/${rows.length}] ${s.name}`;
    if (s.skip) {
      console.log(`${label}: skipped (${s.skip})`);
      continue;
    }
    const t = performance.now();
    try {
      play(s, env);
      console.log(
        `${label}: ${s.expect.status}${s.expect.at ? ` at ${s.expect.at}` : ''}${s.resume ? `, resumed: ${s.resume.status}` : ''} as expected (${seconds(performance.now() - t)})`,
      );
    } catch (e) {
      failures++;
      sandbox('fault', 'clear', 'all');
      console.error(`${label}: NOT AS EXPECTED after ${seconds(performance.now() - t)}: ${(e as Error).message}`);
      if (!opts['keep-going']) break;
    }
  }
  if (failures > 0) {
    console.error(
      `record-history: ${failures} scenario(s) did not end as their rows expect; src/content/runs is unchanged`,
    );
    return 1;
  }
  if (opts['no-write']) {
    console.log(
      `every scenario ended as expected in ${seconds(performance.now() - started)}; --no-write: src/content/runs left as it was`,
    );
    return 0;
  }
  const n = swapInto(records, RUNS, only !== undefined);
  console.log(`${n} rehearsal records written under src/content/runs in ${seconds(performance.now() - started)}`);
  return 0;
}

if (import.meta.main) process.exitCode = await main();
