// Per-step overhead of the runner. Each run is a whole process (node start-up,
// plan, context guard, lock, record written before the first step and twice per
// step) compared with bash doing the same `true`s. Also times the record write
// alone, with and without fsync, to show what durability would cost.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { writeRecord, readRecord, listRecords } from '../../runner/record/store.ts';

const steps = Number(process.argv[2] ?? 100);
const runs = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'bench-run-'));

writeFileSync(
  join(dir, 'inventory.yaml'),
  `cluster:\n  name: homelab\n  context: bench\n  server: https://127.0.0.1:6443\n  k3sVersion: v1.34.3+k3s1\nnodes:\n  - { name: n1, roles: [server], address: 127.0.0.1 }\n`,
);
writeFileSync(
  join(dir, 'kubeconfig'),
  `apiVersion: v1\nkind: Config\ncurrent-context: bench\nclusters: [{ name: c, cluster: { server: https://127.0.0.1:6443 } }]\ncontexts: [{ name: bench, context: { cluster: c } }]\n`,
);
const runbook = (n: number) => {
  const file = join(dir, `bench-${n}.mdx`);
  const body = Array.from({ length: n }, (_, i) => `\`\`\`bash step=s${i + 1}\ntrue\n\`\`\`\n`).join('\n');
  writeFileSync(
    file,
    `---\ntitle: Bench ${n}\nrunbook:\n  id: bench-${n}\n  risk: low\n  cluster: homelab\n  api: optional\n---\n\n${body}`,
  );
  return file;
};
const many = runbook(steps);
const one = runbook(1);
const builtin = join(dir, 'builtin.sh');
writeFileSync(builtin, `set -euo pipefail\n${'true\n'.repeat(steps)}`);
const forked = join(dir, 'forked.sh');
writeFileSync(forked, `set -euo pipefail\nfor i in $(seq ${steps}); do bash -c 'set -euo pipefail; true'; done\n`);

const env = {
  ...process.env,
  KUBECONFIG: join(dir, 'kubeconfig'),
  RUNBOOK_LOCK_DIR: join(dir, 'locks'),
  NO_COLOR: '1',
};
const time = (cmd: string, args: string[]) => {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return performance.now() - t;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// The bin, as an operator runs it (the bundle built from the sources, runner/bin/bundle.js).
const runner = (file: string) => [
  'runner/bin/runbook.js',
  'run',
  file,
  '--records',
  join(dir, 'runs'),
  '--inventory',
  join(dir, 'inventory.yaml'),
];

const samples = { runner: [] as number[], runner1: [] as number[], bash: [] as number[], bashForked: [] as number[] };
for (let i = 0; i < runs; i++) {
  samples.bash.push(time('bash', [builtin]));
  samples.bashForked.push(time('bash', [forked]));
  samples.runner.push(time(process.execPath, runner(many)));
  samples.runner1.push(time(process.execPath, runner(one)));
}
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<
  keyof typeof samples,
  number
>;

// The record write alone: the largest record of this bench (every step done).
const sample = listRecords(join(dir, 'runs'), `bench-${steps}`).records[0]!;
const writes = (fsync: boolean) => {
  const target = join(dir, `write-${fsync}.json`);
  const record = readRecord(sample.file);
  const t = performance.now();
  for (let i = 0; i < 200; i++) writeRecord(target, record, { fsync });
  return (performance.now() - t) / 200;
};
const write = { plain: writes(false), fsync: writes(true) };
rmSync(dir, { recursive: true, force: true });

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const out = [
  `runbook run, ${steps} steps of \`true\` (median of ${runs}, whole process):  ${fmt(m.runner)}`,
  `runbook run, 1 step:                                             ${fmt(m.runner1)}`,
  `bash script, ${steps} \`true\` (builtin):                               ${fmt(m.bash)}`,
  `bash script, ${steps} \`bash -c true\` (a process per step):            ${fmt(m.bashForked)}`,
  '',
  `overhead per step vs the bash script:        ${fmt((m.runner - m.bash) / steps)}   (ratio ${(m.runner / m.bash).toFixed(0)}x)`,
  `marginal cost per step (100-step − 1-step):   ${fmt((m.runner - m.runner1) / (steps - 1))}`,
  `  of which a process per step (bash -c):      ${fmt((m.bashForked - m.bash) / steps)}`,
  `record write (${steps}-step record, temp + rename): ${fmt(write.plain)}; with fsync ${fmt(write.fsync)}`,
];
process.stdout.write(`${out.join('\n')}\n`);
