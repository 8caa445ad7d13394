// A runbook's shape, minus the runner: `steps` steps, each on the three nodes one
// after another (a fan-out with parallel=1), through the ssh executor. Runs the
// same sequence with reuse (one authenticated master connection per node for the
// whole run) and without (a fresh connection and handshake per step), alternating
// the order per round. Reports per-step latency, totals, the ratio, and the
// authentications each sshd logged.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSshExecutor } from '../../runner/execute/ssh/executor.ts';
import { fanOut } from '../../runner/execute/fanout.ts';
import type { ExecResult } from '../../runner/execute/types.ts';
import type { StepInstance } from '../../runner/plan/plan.ts';
import { authCount, startSshLab, stopSshLab, type SshLab } from '../../test/ssh/lab.ts';

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}
const fanoutMode = process.argv[2] === '--fanout';
const steps = fanoutMode ? 0 : Number(process.argv[2] ?? 20);
const rounds = fanoutMode ? 0 : Number(process.argv[3] ?? 3);
if (fanoutMode) {
  await fanoutBench((process.argv[3] ?? '10,20,50').split(',').map(Number), Number(process.argv[4] ?? 10));
  process.exit(0);
}

/**
 * One step on N loopback sshd nodes with `parallel` at a time (connection reuse, as a run does): the first
 * step pays each node's handshake, the next ones reuse the masters. Wall time should grow with
 * ceil(N / parallel) rounds: the "per round" column stays flat when it does.
 */
async function fanoutBench(sizes: number[], parallel: number): Promise<void> {
  const most = Math.max(...sizes);
  const specs = Array.from({ length: most }, (_, i) => ({
    name: `node-${String(i + 1).padStart(2, '0')}`,
    roles: ['agent'],
    become: false,
  }));
  process.stderr.write(`bench-ssh --fanout: starting ${most} sshd daemons on 127.0.0.1…\n`);
  const lab = await startSshLab(specs);
  const rows: string[] = [];
  try {
    for (const n of sizes) {
      const executor = createSshExecutor({ configFile: lab.configFile, reuse: true });
      const targets = lab.nodes.slice(0, n).map((node) => ({
        kind: 'node' as const,
        node: node.name,
        host: '127.0.0.1',
        user: lab.user,
        port: node.port,
        become: false,
      }));
      const step = async (i: number) => {
        const t = performance.now();
        await fanOut(
          targets,
          { parallel, stopOnFailure: true, ok: (r: ExecResult) => r.exitCode === 0 },
          async (target) => {
            const r = await executor.exec({
              instance: { id: `s${i}` } as StepInstance,
              target,
              script: 'true',
              env: {},
              timeoutMs: 120_000,
              signal: new AbortController().signal,
              onOutput: () => {},
            });
            if (r.exitCode !== 0 || r.error)
              throw new Error(`${target.node}: ${r.error ?? `exit ${r.exitCode}`}\n${r.output}`);
            return r;
          },
        );
        return performance.now() - t;
      };
      const first = await step(1);
      const warm = [await step(2), await step(3), await step(4)].sort((a, b) => a - b)[1]!;
      await executor.close();
      const perRound = warm / Math.ceil(n / parallel);
      rows.push(
        `${String(n).padStart(5)}  ${String(Math.ceil(n / parallel)).padStart(6)}  ${fmt(first).padStart(11)}  ${fmt(warm).padStart(11)}  ${fmt(perRound).padStart(11)}`,
      );
    }
  } finally {
    await stopSshLab(lab);
  }
  process.stdout.write(
    `${[
      `one step of \`true\` on N nodes, parallel=${parallel}, connection reuse; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      'nodes  rounds  first step   warm step    warm per round',
      ...rows,
    ].join('\n')}\n`,
  );
}

interface Sample {
  perStep: number[];
  totalMs: number;
  auths: number;
}

async function runOnce(lab: SshLab, reuse: boolean): Promise<Sample> {
  const executor = createSshExecutor({ configFile: lab.configFile, reuse });
  const targets = lab.nodes.map((n) => ({
    kind: 'node' as const,
    node: n.name,
    host: '127.0.0.1',
    user: lab.user,
    port: n.port,
    become: n.become,
  }));
  const authsBefore = lab.nodes.map(authCount);
  const perStep: number[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    await fanOut(
      targets,
      { parallel: 1, stopOnFailure: true, ok: (r: ExecResult) => r.exitCode === 0 },
      async (target) => {
        const t = performance.now();
        const r = await executor.exec({
          instance: { id: `s${i}` } as StepInstance,
          target,
          script: `echo "step ${i} on $(hostname)"`,
          env: { STEP: String(i) },
          timeoutMs: 60_000,
          signal: new AbortController().signal,
          onOutput: () => {},
        });
        if (r.exitCode !== 0 || r.error)
          throw new Error(`step ${i} on ${target.node}: ${r.error ?? `exit ${r.exitCode}`}\n${r.output}`);
        perStep.push(performance.now() - t);
        return r;
      },
    );
  }
  const totalMs = performance.now() - t0;
  await executor.close();
  return { perStep, totalMs, auths: lab.nodes.map(authCount).reduce((a, n, i) => a + n - authsBefore[i]!, 0) };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Debian's bash sources ~/.bashrc for commands run by sshd, so every step pays for
 * the node user's rc file (here: this machine's). Timed separately to read the numbers.
 */
function rcCost(): number | undefined {
  const rc = join(userInfo().homedir, '.bashrc');
  if (!existsSync(rc)) return undefined;
  const times = Array.from({ length: 5 }, () => {
    const t = performance.now();
    spawnSync('bash', ['-c', `. ${rc}`], { stdio: 'ignore' });
    return performance.now() - t;
  });
  return pct(times, 50);
}

const lab = await startSshLab();
const samples = { reuse: [] as Sample[], fresh: [] as Sample[] };
try {
  for (let r = 0; r < rounds; r++) {
    const order: Array<'reuse' | 'fresh'> = r % 2 === 0 ? ['reuse', 'fresh'] : ['fresh', 'reuse'];
    for (const mode of order) samples[mode].push(await runOnce(lab, mode === 'reuse'));
  }
} finally {
  await stopSshLab(lab);
}

const summary = (mode: 'reuse' | 'fresh') => {
  const all = samples[mode].flatMap((s) => s.perStep);
  return {
    mean: mean(all),
    median: pct(all, 50),
    p95: pct(all, 95),
    total: mean(samples[mode].map((s) => s.totalMs)),
    auths: samples[mode].map((s) => s.auths),
  };
};
const rc = rcCost();
const reuse = summary('reuse');
const fresh = summary('fresh');
const execs = steps * lab.nodes.length;
const line = (label: string, s: ReturnType<typeof summary>) =>
  `${label}  per step: median ${fmt(s.median)}, mean ${fmt(s.mean)}, p95 ${fmt(s.p95)} · ${execs} steps in ${fmt(s.total)} · authentications per run: ${s.auths.join(', ')}`;
process.stdout.write(
  `${[
    `${steps} steps × ${lab.nodes.length} nodes (sshd on 127.0.0.1), ${rounds} rounds alternating order; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    line('with reuse (ControlMaster):  ', reuse),
    line('without reuse (fresh ssh):   ', fresh),
    `ratio without/with: per step (median) ${(fresh.median / reuse.median).toFixed(2)}x, whole run ${(fresh.total / reuse.total).toFixed(2)}x`,
    ...(rc === undefined
      ? []
      : [`of each step, the node user's ~/.bashrc (sourced by bash under sshd): ${fmt(rc)} (median, timed here)`]),
  ].join('\n')}\n`,
);
