// Measures the sandbox: warm start to all nodes Ready, peak RSS of each
// process (VmHWM) after some work, binary and Go cache sizes. Not a test:
// numbers for humans (the closing note of issue 5), printed as a table.
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBuilt } from './build.ts';
import { down, up } from './sandbox.ts';

const runs = Number(process.argv[2] ?? 3);
const pods = Number(process.argv[3] ?? 30);
if (!isBuilt()) console.error('binaries not built yet: the first run includes the build');

const startTimes: number[] = [];
let peaks: { name: string; kib: number }[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-bench-'));
  const t0 = performance.now();
  const state = await up({ stateDir: dir });
  startTimes.push((performance.now() - t0) / 1000);
  if (i === runs - 1) {
    // Some work, so the peak is not that of an idle control plane.
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'bench' },
        spec: {
          replicas: pods,
          selector: { matchLabels: { app: 'bench' } },
          template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
        },
      },
    });
    for (;;) {
      const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=bench' });
      if (list.items.filter((p) => p.status?.phase === 'Running').length === pods) break;
      await sleep(250);
    }
    peaks = state.processes.map((p) => ({ name: p.name, kib: vmHWM(p.pid) }));
  }
  await down(dir);
  rmSync(dir, { recursive: true, force: true });
}

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
console.log(`warm start to all nodes Ready (${runs} runs): ${startTimes.map((s) => `${s.toFixed(1)}s`).join(', ')}`);
console.log(`peak RSS (VmHWM) with ${pods} pods Running:`);
for (const p of peaks) console.log(`  ${p.name.padEnd(24)} ${mib(p.kib)}`);
console.log(`  ${'total'.padEnd(24)} ${mib(peaks.reduce((a, p) => a + p.kib, 0))}`);
const bin = (await import('./build.ts')).binDir();
for (const f of ['kube-sandbox', 'kwok'])
  console.log(`binary ${f}: ${(statSync(join(bin, f)).size / 2 ** 20).toFixed(0)} MiB`);
const goEnv = (k: string) => {
  try {
    return execFileSync('go', ['env', k], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
for (const [what, dir] of [
  ['Go module cache (GOMODCACHE, whole)', goEnv('GOMODCACHE')],
  ['Go build cache (GOCACHE, whole)', goEnv('GOCACHE')],
]) {
  if (dir) console.log(`${what}: ${execFileSync('du', ['-sh', dir!], { encoding: 'utf8' }).split('\t')[0]}`);
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
