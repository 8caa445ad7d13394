// The CLI's start-up and per-step cost as an operator meets them: whole processes of the `runbook` bin
// (runner/bin/runbook.js, which runs the bundle built from the sources), alternated round by round
// with `node -e 0` and, when installed, `mask` (a native Markdown task runner), medians and ratios
// from the same rounds. Wall time is what the operator waits; CPU time is less hurt by a loaded machine.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, ms, ratio, timeProcess, type Sample } from './bench-proc.ts';

const rounds = Number(process.argv[2] ?? 9);
const steps = Number(process.argv[3] ?? 100);
const mask = process.env.MASK_BIN || undefined;
const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));

writeFileSync(
  join(dir, 'inventory.yaml'),
  `cluster:\n  name: homelab\n  context: bench\n  server: https://127.0.0.1:6443\n  k3sVersion: v1.34.3+k3s1\nnodes:\n  - { name: n1, roles: [server], address: 127.0.0.1 }\n`,
);
writeFileSync(
  join(dir, 'kubeconfig'),
  `apiVersion: v1\nkind: Config\ncurrent-context: bench\nclusters: [{ name: c, cluster: { server: https://127.0.0.1:6443 } }]\ncontexts: [{ name: bench, context: { cluster: c } }]\n`,
);
const runbookOf = (n: number) => {
  const file = join(dir, `bench-${n}.mdx`);
  const body = Array.from({ length: n }, (_, i) => `\`\`\`bash step=s${i + 1}\ntrue\n\`\`\`\n`).join('\n');
  writeFileSync(
    file,
    `---\ntitle: Bench ${n}\nrunbook:\n  id: bench-${n}\n  risk: low\n  cluster: homelab\n  api: optional\n---\n\n${body}`,
  );
  return file;
};
const one = runbookOf(1);
const many = runbookOf(steps);
const maskfile = join(dir, 'maskfile.md');
writeFileSync(maskfile, '# Tasks\n\n## t\n\n~~~bash\ntrue\n~~~\n');
const maskLoop = join(dir, 'mask-loop.sh');
writeFileSync(
  maskLoop,
  `for i in $(seq ${steps}); do ${JSON.stringify(mask ?? 'mask')} --maskfile ${JSON.stringify(maskfile)} t; done\n`,
);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  KUBECONFIG: join(dir, 'kubeconfig'),
  RUNBOOK_LOCK_DIR: join(dir, 'locks'),
  NO_COLOR: '1',
};
delete env.RUNBOOK_INVENTORY;
const bin = 'runner/bin/runbook.js';
/** The runbook verbs measured, run in the checkout `cwd` (BENCH_COMPARE names another, e.g. an older commit's export). */
const verbs = (label: string, cwd: string) => {
  // A bundle folder of each checkout's own (inside it, where its packages resolve): checkouts that share
  // node_modules through a symlink would otherwise replace each other's bundle, and a run would time a build.
  const own = { ...env, RUNBOOK_BUNDLE_DIR: join(cwd, '.cache', 'bench-cli-bundles') };
  const node =
    (...args: string[]) =>
    () =>
      timeProcess(process.execPath, args, { env: own, cwd });
  const run = (file: string) =>
    node(bin, 'run', file, '--records', join(dir, 'runs'), '--inventory', join(dir, 'inventory.yaml'));
  return {
    [`${label}runbook --help`]: node(bin, '--help'),
    [`${label}runbook --version`]: node(bin, '--version'),
    [`${label}runbook run, 1 step of true`]: run(one),
    [`${label}runbook run, ${steps} steps of true`]: run(many),
    [`${label}runbook list (example lab)`]: node(bin, 'list'),
    [`${label}runbook show k3s-upgrade`]: node(bin, 'show', 'k3s-upgrade'),
  };
};
const compare = process.env.BENCH_COMPARE;

const programs: Record<string, () => Sample> = {
  'node -e 0': () => timeProcess(process.execPath, ['-e', '0'], { env }),
  ...verbs('', process.cwd()),
  ...(compare ? verbs('before: ', compare) : {}),
  'runbook --help (from source)': () => timeProcess(process.execPath, ['runner/cli.ts', '--help'], { env }),
  ...(mask
    ? {
        'mask, one task': () => timeProcess(mask, ['--maskfile', maskfile, 't'], { env }),
        [`mask, ${steps} invocations`]: () => timeProcess('bash', [maskLoop], { env }),
      }
    : {}),
};

process.stderr.write(`bench-cli: ${rounds} alternating rounds of ${Object.keys(programs).length} programs…\n`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
const m = alternate(rounds, programs);
rmSync(dir, { recursive: true, force: true });

const base = m['node -e 0']!;
const row = (name: string, s: Sample, vs = base, vsName = 'node -e 0') =>
  `| ${name} | ${ms(s.wall)} | ${ms(s.cpu)} | ${ratio(s.wall, vs.wall)} ${vsName} (cpu ${ratio(s.cpu, vs.cpu)}) |`;
const lines = [`| what | wall (median of ${rounds}) | cpu | ratio |`, '|---|---|---|---|'];
for (const [name, s] of Object.entries(m))
  if (name !== 'node -e 0' && !name.startsWith('mask')) lines.push(row(name, s));
lines.push(`| node -e 0 | ${ms(base.wall)} | ${ms(base.cpu)} | 1× |`);
const maskOne = m['mask, one task'];
for (const label of compare ? ['', 'before: '] : ['']) {
  const [a, b] = [m[`${label}runbook run, ${steps} steps of true`]!, m[`${label}runbook run, 1 step of true`]!];
  const marginal = { wall: (a.wall - b.wall) / (steps - 1), cpu: (a.cpu - b.cpu) / (steps - 1) };
  lines.push(
    `| ${label}marginal cost per step (${steps}-step − 1-step)/${steps - 1} | ${ms(marginal.wall)} | ${ms(marginal.cpu)} | ${maskOne ? `${ratio(marginal.wall, maskOne.wall)} one mask task` : ''} |`,
  );
}
if (maskOne) {
  lines.push(row('mask, one task', maskOne));
  lines.push(row('runbook run, 1 step of true', m['runbook run, 1 step of true']!, maskOne, 'mask'));
  lines.push(
    row(
      `runbook run, ${steps} steps`,
      m[`runbook run, ${steps} steps of true`]!,
      m[`mask, ${steps} invocations`]!,
      `${steps}× mask`,
    ),
  );
} else {
  lines.push('', '(mask is not installed: only the Node baselines; scripts/bench-cli installs it when cargo exists)');
}
lines.push('', `(load average ${loadBefore} before, ${load()} after; ${availableParallelism()} cores)`);
process.stdout.write(`${lines.join('\n')}\n`);
