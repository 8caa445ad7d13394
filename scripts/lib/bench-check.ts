import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const RUNS = 5;

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

function time(cmd: string, args: string[]): number {
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    samples.push(performance.now() - t0);
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}):\n${res.stdout}${res.stderr}`);
  }
  return samples.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const node = process.execPath;
console.log(`runbook check vs bare unified+remark-mdx parse; median of ${RUNS} runs, whole processes, ${process.version}`);
console.log('pages  steps   bare ms  check ms  bare ms/page  check ms/page  ratio');
for (const n of sizes.length ? sizes : [100, 1000]) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-check-'));
  try {
    for (let i = 0; i < n; i++) writeFileSync(join(dir, `runbook-${i}.mdx`), page(i));
    const bare = time(node, ['scripts/lib/bare-parse.ts', dir]);
    const check = time(node, ['runner/bin/runbook.js', 'check', '--strict', dir]);
    const f = (x: number) => x.toFixed(0).padStart(8);
    console.log(`${String(n).padStart(5)}  ${String(n * 6).padStart(5)}  ${f(bare)}  ${f(check)}  ${(bare / n).toFixed(2).padStart(12)}  ${(check / n).toFixed(2).padStart(13)}  ${(check / bare).toFixed(2)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const t0 = performance.now();
const ex = spawnSync(node, ['runner/bin/runbook.js', 'check', '--strict'], { encoding: 'utf8' });
console.log(`example content: runbook check --strict took ${(performance.now() - t0).toFixed(0)} ms wall (exit ${ex.status}; ${ex.stderr.trim().split('\n').pop()})`);
