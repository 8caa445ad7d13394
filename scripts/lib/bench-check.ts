import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const phases = args.includes('--phases');
const sizes = args.map(Number).filter(Boolean);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

/** A realistic runbook: frontmatter with params, prose, a ForEach, illustration fences and 6 steps. */
function page(i: number): string {
  return `---
title: Generated runbook ${i}
description: Benchmark page ${i}
runbook:
  risk: medium
  cluster: homelab
  requires: [kubectl, ssh]
  params:
    VERSION: { description: Target version, pattern: 'v\\d+\\.\\d+\\.\\d+\\+k3s\\d+', default: v1.35.1+k3s1 }
---
import ForEach from '~/components/ForEach.astro';

## Before you start

This page exists to measure the checker. It reads like a runbook: prose, a table and a few steps.

| Node | Role |
| --- | --- |
| k3s-master | server |
| k3s-worker-01 | agent |

\`\`\`bash step=snapshot title="Snapshot" on=role:server timeout=5m
k3s etcd-snapshot save --name "pre-${i}-$(date +%Y%m%d-%H%M%S)"
\`\`\`

\`\`\`text
Snapshot pre-${i} saved
\`\`\`

<ForEach nodes="role:agent">
\`\`\`bash step=drain title="Drain" confirm
kubectl drain "$NODE" --ignore-daemonsets --delete-emptydir-data --timeout=5m
\`\`\`

\`\`\`bash step=upgrade title="Install" on=$NODE timeout=10m
curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION="$VERSION" sh -s - agent
\`\`\`

\`\`\`bash step=wait title="Ready" retries=2
kubectl wait --for=condition=Ready "node/$NODE" --timeout=5m
\`\`\`

\`\`\`bash step=uncordon title="Uncordon"
kubectl uncordon "$NODE"
\`\`\`
</ForEach>

\`\`\`bash step=verify check expect="Ready"
for n in $(kubectl get nodes -o name); do
  kubectl get "$n" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'
done
\`\`\`
`;
}

/** CPU time (user + system, ms) of this process's waited-for children, bash processes of theirs included. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // cutime and cstime are fields 16 and 17 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

interface Sample {
  wall: number;
  cpu: number;
}

/** Both programs get the same environment, including one compile cache, so process start costs the same. */
function run(cmd: string[], env: NodeJS.ProcessEnv, expectOk = true): Sample & { stderr: string } {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const res = spawnSync(node, cmd, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  const sample = { wall: performance.now() - t0, cpu: childrenCpuMs() - cpu0, stderr: res.stderr };
  if (expectOk && res.status !== 0)
    throw new Error(`${cmd.join(' ')} failed (${res.status}):\n${res.stdout}${res.stderr}`);
  return sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the commands alternately (so both see the same machine load), after one untimed warm-up each. */
function compare(
  cmds: Record<string, string[]>,
  env: NodeJS.ProcessEnv,
  expectOk = true,
): Record<string, Sample & { stderr: string }> {
  const samples: Record<string, Array<Sample & { stderr: string }>> = {};
  for (const [name, cmd] of Object.entries(cmds)) samples[name] = [run(cmd, env, expectOk)];
  for (let r = 0; r < RUNS; r++)
    for (const [name, cmd] of Object.entries(cmds)) samples[name]!.push(run(cmd, env, expectOk));
  return Object.fromEntries(
    Object.entries(samples).map(([name, [warmUp, ...s]]) => [
      name,
      { wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)), stderr: warmUp!.stderr },
    ]),
  );
}

const node = process.execPath;
const cache = mkdtempSync(join(tmpdir(), 'bench-check-cache-'));
const env = { NODE_COMPILE_CACHE: cache };
const f = (x: number, w: number) => x.toFixed(0).padStart(w);
try {
  console.log(
    `runbook check vs bare unified+remark-mdx+remark-frontmatter parse of the same pages; whole processes, same compile cache;`,
  );
  console.log(
    `median of ${RUNS} alternating runs; ${process.version}, ${availableParallelism()} cores; cpu = user+system of the process and its children`,
  );
  console.log('pages  steps   bare ms  check ms  bare ms/page  check ms/page  ratio  bare cpu  check cpu');
  for (const n of sizes.length ? sizes : [100, 1000]) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-check-'));
    try {
      for (let i = 0; i < n; i++) writeFileSync(join(dir, `runbook-${i}.mdx`), page(i));
      const { bare, check } = compare(
        { bare: ['scripts/lib/bare-parse.ts', dir], check: ['runner/bin/runbook.js', 'check', '--strict', dir] },
        env,
      );
      console.log(
        `${String(n).padStart(5)}  ${String(n * 6).padStart(5)}  ${f(bare!.wall, 8)}  ${f(check!.wall, 8)}  ${(bare!.wall / n).toFixed(2).padStart(12)}  ${(check!.wall / n).toFixed(2).padStart(13)}  ${(check!.wall / bare!.wall).toFixed(2)}x  ${f(bare!.cpu, 8)}  ${f(check!.cpu, 9)}`,
      );
      if (phases)
        process.stdout.write(
          timings(
            run(['runner/bin/runbook.js', 'check', '--strict', dir], { ...env, RUNBOOK_CHECK_TIMING: '1' }).stderr,
          ),
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const { example } = compare({ example: ['runner/bin/runbook.js', 'check', '--strict'] }, env, false);
  console.log(
    `example content: runbook check --strict took ${f(example!.wall, 0)} ms wall, ${f(example!.cpu, 0)} ms cpu (median of ${RUNS}; ${example!.stderr.trim().split('\n').pop()})`,
  );
  if (phases)
    process.stdout.write(
      timings(run(['runner/bin/runbook.js', 'check', '--strict'], { ...env, RUNBOOK_CHECK_TIMING: '1' }, false).stderr),
    );
} finally {
  rmSync(cache, { recursive: true, force: true });
}

function timings(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('timing '))
    .map((l) => `    ${l}\n`)
    .join('');
}
