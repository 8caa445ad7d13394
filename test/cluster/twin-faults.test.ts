// The lab twin's faults (scripts/sandbox-lib/twin/faults.ts, `scripts/sandbox fault`)
// that act on the API itself, and the runner's reading of the twin (readTwin), on a
// sandbox of this file's own: the faults stop the API server and publish
// kube-system/lab-twin, which would turn the shared sandbox's runs into rehearsals.
import { CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, connectCluster, type Cluster } from '../../runner/cluster/api.ts';
import { readTwin } from '../../runner/run/cluster-link.ts';
import { down, readState, up, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { isOurs } from '../../scripts/sandbox-lib/processes.ts';
import { kwokStages, repoRoot } from '../../scripts/sandbox-lib/paths.ts';
import {
  FAULT_NAMESPACE,
  faultsFile,
  K3S_ANNOTATION,
  PRESSURE_ANNOTATION,
  publishTwin,
  readFaults,
  releaseFaults,
  twinDir,
} from '../../scripts/sandbox-lib/twin/faults.ts';
import { eventually } from './helpers.ts';

let stateDir = '';
let state: SandboxState;
let cluster: Cluster;
let kc: KubeConfig;

function sandboxCli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(repoRoot, 'scripts/sandbox'), [...args, '--state-dir', stateDir], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const fault = (...args: string[]) => sandboxCli('fault', ...args);
const ok = (r: ReturnType<typeof sandboxCli>) => {
  expect(r.stderr, r.stdout).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
};

const apiserver = () => readState(stateDir)!.processes.find((p) => p.name === 'kube-apiserver')!;
async function apiAnswers(): Promise<boolean> {
  try {
    await cluster.core.readNamespace({ name: 'kube-system' }, cluster.within(1_000));
    return true;
  } catch {
    return false;
  }
}
async function published(): Promise<{ twin?: string; faults: { kind: string; node?: string }[] } | undefined> {
  try {
    const cm = await cluster.core.readNamespacedConfigMap(
      { namespace: 'kube-system', name: 'lab-twin' },
      cluster.within(3_000),
    );
    return { twin: cm.data?.twin, faults: JSON.parse(cm.data?.faults ?? '[]') };
  } catch {
    return undefined;
  }
}
const node = () => state.nodes.at(-1)!;
/**
 * The simulator kinds need the twin up: a stand-in twin.json (no machines) says so; the twin's
 * machines themselves are the `twin` project's tests. `status` says such a twin is degraded.
 */
const fakeTwin = () => join(twinDir(stateDir), 'twin.json');
const withFakeTwin = () => writeFileSync(fakeTwin(), `${JSON.stringify({ processes: [], nodes: [] })}\n`);
const annotations = async (name: string) =>
  (await kc.makeApiClient(CoreV1Api).readNode({ name })).metadata?.annotations ?? {};
/** Until twin-sim lands our own stages, only the annotations can be checked. */
const stagesRead = (annotation: string) => readFileSync(kwokStages, 'utf8').includes(annotation);

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-faults-'));
  state = await up({ stateDir });
  cluster = await connectCluster(state.kubeconfig);
  kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
}, 300_000);
afterAll(async () => {
  if (!stateDir) return;
  releaseFaults(stateDir);
  rmSync(fakeTwin(), { force: true }); // what `down` reads of a real twin is not in it
  await down(stateDir);
}, 60_000);

describe('readTwin: is this cluster the lab twin, and with which faults', () => {
  it('no ConfigMap: not a twin (undefined)', async () => {
    expect(await readTwin(cluster)).toBeUndefined();
  });

  it('a sandbox without the twin publishes twin: "false": its runs are no rehearsals', async () => {
    await publishTwin(stateDir, []);
    expect(await published()).toEqual({ twin: 'false', faults: [] });
    expect(await readTwin(cluster)).toBeUndefined();
  });

  it('the twin (twin.json present) publishes twin: "true" with its faults; unparseable faults are left out', async () => {
    withFakeTwin();
    try {
      const faults = [
        { kind: 'slow-ready', node: node(), since: '2026-12-01T10:00:00.000Z', delaySeconds: 40 },
        { kind: 'nas-unreachable', since: '2026-12-01T10:01:00.000Z' },
        { node: 'no-kind' },
      ];
      await publishTwin(stateDir, faults as never);
      expect(JSON.parse(readFileSync(faultsFile(stateDir), 'utf8'))).toEqual(faults);
      expect(await readTwin(cluster)).toEqual({ faults: faults.slice(0, 2) });

      const core = kc.makeApiClient(CoreV1Api);
      await core.patchNamespacedConfigMap({
        namespace: 'kube-system',
        name: 'lab-twin',
        body: [{ op: 'replace', path: '/data/faults', value: 'not json' }],
      });
      expect(await readTwin(cluster)).toEqual({ faults: [] });
    } finally {
      await publishTwin(stateDir, []);
      rmSync(fakeTwin());
    }
  });

  it('an API server that does not answer: undefined within the deadline, no throw', async () => {
    process.kill(-apiserver().pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      expect(await readTwin(cluster, 1_000)).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(3_000);
    } finally {
      process.kill(-apiserver().pid, 'SIGCONT');
    }
    await eventually('the API to answer', apiAnswers, 30_000, 200);
  });
});

describe('scripts/sandbox fault on a running sandbox', () => {
  it('refuses what it cannot do, naming it, with exit 2', () => {
    let r = fault('k3s-stopped');
    expect(r.code).not.toBe(0); // commander: missing argument
    r = fault('k3s-stopped', 'no-such-node');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `k3s-stopped: no node "no-such-node" in this sandbox (nodes: ${state.nodes.join(', ')})`,
    );
    r = fault('api-down', '--seconds', '-3');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--seconds must be a positive number');
    r = fault('unreachable', node());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "unreachable is acted out by the twin's node machines, and this sandbox runs without the twin; start it with the twin",
    );
    expect(readFaults(stateDir)).toEqual([]);
  });

  it('simulator faults go to faults.json and the ConfigMap, are shown by status and list, and clear', async () => {
    withFakeTwin();
    const out = ok(fault('slow-ready', node(), '--delay', '45', '--json'));
    expect(JSON.parse(out)).toMatchObject({ kind: 'slow-ready', node: node(), delaySeconds: 45 });
    ok(fault('install-fails', node(), '--version', 'v1.35.0+k3s1'));
    ok(fault('nas-unreachable'));
    const again = fault('nas-unreachable');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('nas-unreachable is already active');

    expect(readFaults(stateDir).map((f) => f.kind)).toEqual(['slow-ready', 'install-fails', 'nas-unreachable']);
    expect((await readTwin(cluster))?.faults).toEqual([
      expect.objectContaining({ kind: 'slow-ready', node: node(), delaySeconds: 45 }),
      expect.objectContaining({ kind: 'install-fails', node: node(), version: 'v1.35.0+k3s1' }),
      expect.objectContaining({ kind: 'nas-unreachable' }),
    ]);
    const st = sandboxCli('status');
    expect(st.stdout).toMatch(new RegExp(`faults:\\n  fault slow-ready ${node()} \\(--delay 45\\) since `));
    expect(st.stdout).toContain(`fault install-fails ${node()} (--version v1.35.0+k3s1)`);
    expect(ok(fault('list'))).toContain('nas-unreachable since');

    expect(ok(fault('clear', 'install-fails'))).toBe(`cleared install-fails ${node()}\n`);
    expect(ok(fault('clear'))).toBe(`cleared slow-ready ${node()}\ncleared nas-unreachable\n`);
    expect(ok(fault('clear'))).toBe('no such fault was active.\n');
    expect(await readTwin(cluster)).toEqual({ faults: [] });
    expect(sandboxCli('status').stdout).not.toContain('faults:');

    rmSync(fakeTwin());
    const r = fault('never-returns', node());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "never-returns is acted out by the twin's node machines, and this sandbox runs without the twin",
    );
  });

  it('api-down (pause) for N seconds: published first, requests hang, then it answers and the fault is gone', async () => {
    const t0 = Date.now();
    ok(fault('api-down', '--seconds', '4'));
    expect(await apiAnswers()).toBe(false);
    expect(readFaults(stateDir)).toEqual([
      expect.objectContaining({ kind: 'api-down', how: 'pause', until: expect.any(String) }),
    ]);
    expect(sandboxCli('status').stdout).toMatch(/fault api-down \(--how pause\) since .*, clears by itself in \d+ s/);
    await eventually('the API to answer again', apiAnswers, 30_000, 200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3_500);
    await eventually('the timer to clear the fault', async () => (await published())?.faults.length === 0, 30_000, 200);
    expect(readFaults(stateDir)).toEqual([]);
  });

  it('api-down --how stop: connections are refused; clear starts the same apiserver again, recorded for down', async () => {
    const before = apiserver();
    ok(fault('api-down', '--how', 'stop'));
    expect(isOurs(before)).toBe(false);
    const refused = await callApi(cluster, () =>
      cluster.core.readNamespace({ name: 'kube-system' }, cluster.within(2_000)),
    ).then(
      () => 'answered',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/ECONNREFUSED|connection refused/i);
    const st = sandboxCli('status');
    expect(st.code).toBe(1); // degraded: the apiserver is down
    expect(st.stdout).toContain('fault api-down (--how stop)');

    expect(ok(fault('clear', 'api-down'))).toBe('cleared api-down\n');
    const after = apiserver();
    expect(after.pid).not.toBe(before.pid);
    expect(isOurs(after)).toBe(true);
    expect(await apiAnswers()).toBe(true);
    expect(sandboxCli('status').code).toBe(0);
    expect((await published())?.faults).toEqual([]);
  });

  it('pdb-block: evicting the pod on the node is refused with 429 until the fault is cleared', async () => {
    const n = node();
    ok(fault('pdb-block', n));
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: FAULT_NAMESPACE });
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0]!;
    expect(pod.spec?.nodeName).toBe(n);
    const evict = () =>
      core
        .createNamespacedPodEviction({
          name: pod.metadata!.name!,
          namespace: FAULT_NAMESPACE,
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name: pod.metadata!.name!, namespace: FAULT_NAMESPACE },
          },
        })
        .then(
          () => 200,
          (e: { code?: number; body?: string }) => ({ code: e.code, body: String(e.body) }),
        );
    const refused = await evict();
    expect(refused).toMatchObject({ code: 429 });
    expect((refused as { body: string }).body).toContain('disruption budget');

    // kubectl drain gives up on it (the runbooks' drain steps use a timeout).
    const drain = spawnSync(
      state.kubectl,
      ['drain', n, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=5s'],
      { encoding: 'utf8', env: { ...process.env, KUBECONFIG: state.kubeconfig } },
    );
    expect(drain.status).not.toBe(0);
    expect(drain.stderr).toMatch(/disruption budget|global timeout/);
    spawnSync(state.kubectl, ['uncordon', n], { env: { ...process.env, KUBECONFIG: state.kubeconfig } });

    ok(fault('clear', 'pdb-block', n));
    const policy = kc.makeApiClient(PolicyV1Api);
    expect((await policy.listNamespacedPodDisruptionBudget({ namespace: FAULT_NAMESPACE })).items).toHaveLength(0);
    await eventually(
      'the fault namespace to go',
      async () =>
        core.readNamespace({ name: FAULT_NAMESPACE }).then(
          () => false,
          (e: { code?: number }) => e.code === 404,
        ),
      60_000,
      500,
    );
  });

  it('k3s-stopped annotates the node stopped (NotReady through our kwok stage) and back to running on clear', async () => {
    const n = node();
    ok(fault('k3s-stopped', n));
    expect((await annotations(n))[K3S_ANNOTATION]).toBe('stopped');
    const ready = async () =>
      (await kc.makeApiClient(CoreV1Api).readNode({ name: n })).status?.conditions?.find((c) => c.type === 'Ready')
        ?.status;
    if (stagesRead(K3S_ANNOTATION))
      await eventually('the node to be NotReady', async () => (await ready()) !== 'True', 30_000, 250);
    ok(fault('clear', 'k3s-stopped'));
    expect((await annotations(n))[K3S_ANNOTATION]).toBe('running');
    if (stagesRead(K3S_ANNOTATION))
      await eventually('the node to be Ready', async () => (await ready()) === 'True', 30_000, 250);
  });

  it('disk and memory pressure share one annotation, listing both when both are on', async () => {
    const n = node();
    const condition = async (type: string) =>
      (await kc.makeApiClient(CoreV1Api).readNode({ name: n })).status?.conditions?.find((c) => c.type === type)
        ?.status;
    ok(fault('memory-pressure', n));
    expect((await annotations(n))[PRESSURE_ANNOTATION]).toBe('memory');
    ok(fault('disk-pressure', n));
    expect((await annotations(n))[PRESSURE_ANNOTATION]).toBe('disk,memory');
    if (stagesRead(PRESSURE_ANNOTATION)) {
      await eventually('DiskPressure True', async () => (await condition('DiskPressure')) === 'True', 30_000, 250);
      await eventually('MemoryPressure True', async () => (await condition('MemoryPressure')) === 'True', 30_000, 250);
    }
    ok(fault('clear', 'memory-pressure'));
    expect((await annotations(n))[PRESSURE_ANNOTATION]).toBe('disk');
    ok(fault('clear', 'all'));
    expect((await annotations(n))[PRESSURE_ANNOTATION]).toBeUndefined();
    if (stagesRead(PRESSURE_ANNOTATION)) {
      await eventually('DiskPressure False', async () => (await condition('DiskPressure')) !== 'True', 30_000, 250);
    }
  });

  it('down right after a pause: releaseFaults resumes the API so down need not wait for SIGKILL', async () => {
    ok(fault('api-down', '--seconds', '600'));
    const timer = JSON.parse(readFileSync(join(twinDir(stateDir), 'fault-undo.json'), 'utf8'))['api-down'].timer;
    expect(isOurs(timer)).toBe(true);
    releaseFaults(stateDir);
    await eventually('the API to answer', apiAnswers, 10_000, 100);
    await sleep(200);
    expect(isOurs(timer)).toBe(false);
    // What the timer would have done, by hand (the API is already back, so this only republishes).
    ok(fault('clear', 'api-down'));
  });

  it('down clears every fault: no timer, no paused API server, nothing left', async () => {
    ok(fault('disk-pressure', node(), '--seconds', '600'));
    ok(fault('api-down'));
    const timer = JSON.parse(readFileSync(join(twinDir(stateDir), 'fault-undo.json'), 'utf8'))[
      `disk-pressure@${node()}`
    ].timer;
    const api = apiserver();
    expect(isOurs(timer)).toBe(true);
    const t0 = Date.now();
    await down(stateDir);
    const dir = stateDir;
    stateDir = ''; // done: afterAll has nothing left to stop
    await eventually('the timer to end', async () => !isOurs(timer), 5_000, 100);
    expect(isOurs(api)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    // down SIGCONTs a paused apiserver first (releaseFaults) or SIGKILLs it after its 10 s grace.
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
