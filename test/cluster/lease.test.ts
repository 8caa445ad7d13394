// The cluster-wide lock (runner/cluster/lease.ts, `runbook lock`) against a real
// kube-apiserver: contention between runner processes, expiry and takeover, the
// API server paused and restarted under a held lease, a lease lost to another
// writer, and the CLI. Every test uses its own cluster name (so its own Lease):
// the shared sandbox is used by other suites at the same time.
import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { connectCluster, type Cluster } from '../../runner/cluster/api.ts';
import {
  breakClusterLease,
  LEASE_NAMESPACE,
  leaseName,
  readClusterLease,
  takeClusterLease,
  type HeldLease,
  type LeaseHolder,
} from '../../runner/cluster/lease.ts';
import { UsageError } from '../../runner/errors.ts';
import { operatorName } from '../../runner/run/record.ts';
import { readState, up, down, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { startProcess, stopProcesses } from '../../scripts/sandbox-lib/processes.ts';
import { runbook } from '../helpers/cli.ts';
import { eventually, sandbox, uniqueName } from './helpers.ts';

const holder = (operator: string, runId = uniqueName('run')): LeaseHolder => ({
  operator,
  host: '',
  runbook: 'k3s-upgrade',
  runId,
  startedAt: new Date().toISOString(),
});

/** Fails with the message when the promise does not reject with a UsageError. */
async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(UsageError);
  return (err as UsageError).message;
}

// ------------------------------------------------------------ a runner process

interface Driver {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  next(key: string): Promise<Record<string, unknown>>;
}

function startDriver(
  kubeconfig: string,
  clusterName: string,
  operator: string,
  runId: string,
  ...rest: string[]
): Driver {
  const child = spawn(
    process.execPath,
    ['test/cluster/lease-driver.ts', kubeconfig, clusterName, operator, runId, ...rest],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let i: number; (i = buffer.indexOf('\n')) >= 0; ) {
      lines.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  child.on('exit', () => {
    for (const w of waiters.splice(0)) w();
  });
  const next = async (key: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = lines.find((l) => key in l);
      if (found) return found;
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        throw new Error(
          `the driver printed no "${key}" line (exit ${child.exitCode ?? child.signalCode}): ${JSON.stringify(lines)}`,
        );
      }
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { child, lines, next };
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));

// ------------------------------------------------------------ the shared sandbox

describe('the cluster lease on the shared sandbox', () => {
  const { kubeconfig, kc } = sandbox();
  const raw = kc.makeApiClient(CoordinationV1Api);
  let cluster: Cluster;
  const drivers: ChildProcess[] = [];
  const names: string[] = [];
  const name = (prefix: string) => {
    const n = uniqueName(prefix);
    names.push(n);
    return n;
  };

  beforeAll(async () => {
    cluster = await connectCluster(kubeconfig);
  });
  afterAll(async () => {
    for (const d of drivers) d.kill('SIGKILL');
    for (const n of names)
      await raw.deleteNamespacedLease({ name: leaseName(n), namespace: LEASE_NAMESPACE }).catch(() => {});
  });

  it('a second runner process refuses, naming the holder; after the release it takes the lease', async () => {
    const c = name('contend');
    const a = startDriver(kubeconfig, c, 'alice@lab1', 'run-alice-1');
    drivers.push(a.child);
    expect(await a.next('taken')).toEqual({ taken: true, takenOver: null });

    const b = startDriver(kubeconfig, c, 'bob@ci', 'run-bob-1');
    drivers.push(b.child);
    const { refused } = (await b.next('refused')) as { refused: string };
    await exited(b.child);
    expect(b.child.exitCode).toBe(2);
    expect(refused).toContain(`the cluster ${c} is held by alice@lab1`);
    expect(refused).toContain('runbook k3s-upgrade');
    expect(refused).toContain('run run-alice-1');
    expect(refused).toMatch(/since \d{4}-\d\d-\d\dT.*last renewed .*expires .*unless renewed/);
    expect(refused).toContain('`runbook lock` shows the lease; `runbook lock --release --force` breaks it');

    a.child.stdin!.end('release\n');
    await a.next('released');
    await exited(a.child);
    expect(a.child.exitCode).toBe(0);
    expect((await readClusterLease(cluster, c))?.holder).toBeUndefined();

    const b2 = startDriver(kubeconfig, c, 'bob@ci', 'run-bob-2');
    drivers.push(b2.child);
    // A released lease is free, not expired: taking it is no takeover.
    expect(await b2.next('taken')).toEqual({ taken: true, takenOver: null });
    expect((await readClusterLease(cluster, c))?.holder).toMatchObject({
      who: 'bob@ci',
      runId: 'run-bob-2',
      runbook: 'k3s-upgrade',
    });
    b2.child.stdin!.end();
    await exited(b2.child);
  });

  it('of runs racing for a free lease, and then for an expired one, exactly one wins', async () => {
    const c = name('race');
    const contenders = Array.from({ length: 5 }, (_, i) => holder(`op${i}@host${i}`));
    const first = await Promise.allSettled(
      contenders.map((h) => takeClusterLease(cluster, c, h, { durationSeconds: 1, renewEveryMs: 3_600_000 })),
    );
    const won = first.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const winner = (await readClusterLease(cluster, c))!.holder!;
    for (const r of first.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(UsageError);
      expect(String((r as PromiseRejectedResult).reason.message)).toContain(`by ${winner.who}`);
    }
    // Never renewed (a killed run): after 1 s it is expired, and again exactly one takes it over.
    await eventually('the lease to expire', async () => (await readClusterLease(cluster, c))?.expired, 5_000, 100);
    const second = await Promise.allSettled(
      contenders.map((h) => takeClusterLease(cluster, c, { ...h, runId: `${h.runId}-b` })),
    );
    const won2 = second.filter((r): r is PromiseFulfilledResult<HeldLease> => r.status === 'fulfilled');
    expect(won2).toHaveLength(1);
    expect(won2[0]!.value.takenOver?.holder).toContain(winner.who);
    await won2[0]!.value.release();
    await (won as PromiseFulfilledResult<HeldLease>[])[0]!.value.release(); // not ours any more: leaves it alone
    expect((await readClusterLease(cluster, c))?.holder).toBeUndefined();
  });

  it('an expired lease of a killed runner is taken over, and the takeover names the old holder', async () => {
    const c = name('expiry');
    const a = startDriver(kubeconfig, c, 'alice@lab1', 'run-alice-2', '2', '500');
    drivers.push(a.child);
    await a.next('taken');
    // While alice renews, her 2 s lease stays fresh past its first duration.
    await sleep(2_500);
    const fresh = await readClusterLease(cluster, c);
    expect(fresh).toMatchObject({
      expired: false,
      durationSeconds: 2,
      holder: { who: 'alice@lab1', runId: 'run-alice-2' },
    });
    expect(await refusal(takeClusterLease(cluster, c, holder('bob@ci')))).toContain('held by alice@lab1');

    a.child.kill('SIGKILL'); // the run dies: nobody renews and nobody releases
    await exited(a.child);
    const expired = await eventually(
      'the lease to expire',
      async () => {
        const s = await readClusterLease(cluster, c);
        return s?.expired ? s : undefined;
      },
      10_000,
      100,
    );
    expect(Date.parse(expired.expiresAt!)).toBeLessThan(Date.now());

    const t0 = Date.now();
    const lease = await takeClusterLease(cluster, c, holder('bob@ci', 'run-bob-3'));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(lease.takenOver).toEqual({
      holder: 'alice@lab1 (runbook k3s-upgrade, run run-alice-2)',
      renewedAt: expired.renewedAt,
    });
    const now = await readClusterLease(cluster, c);
    expect(now).toMatchObject({ expired: false, durationSeconds: 60, holder: { who: 'bob@ci', runId: 'run-bob-3' } });
    expect(now!.transitions).toBe(1);
    await lease.release();
    expect(await readClusterLease(cluster, c)).toMatchObject({ released: { by: 'bob@ci', last: { who: 'bob@ci' } } });
  });

  it('a lease taken by another writer mid-run is lost, and lost() names that holder', async () => {
    const c = name('lost');
    const notes: string[] = [];
    const lease = await takeClusterLease(cluster, c, holder('alice@lab1'), {
      renewEveryMs: 200,
      onNote: (n) => notes.push(n),
    });
    await sleep(500);
    expect(lease.lost()).toBeUndefined();

    // Someone else's tool writes itself in as the holder (what a second runner with a skewed clock would do).
    const read = await raw.readNamespacedLease({ name: leaseName(c), namespace: LEASE_NAMESPACE });
    const theirs: V1Lease = {
      ...read,
      metadata: {
        ...read.metadata,
        annotations: {
          'runbook.k3s-lab/operator': 'mallory@elsewhere',
          'runbook.k3s-lab/runbook': 'node-maintenance',
          'runbook.k3s-lab/run-id': 'run-m',
          'runbook.k3s-lab/started-at': new Date().toISOString(),
        },
      },
      spec: { ...read.spec, holderIdentity: 'mallory@elsewhere/run-m' },
    };
    await raw.replaceNamespacedLease({ name: leaseName(c), namespace: LEASE_NAMESPACE, body: theirs });
    const reason = await eventually('lost() to report it', async () => lease.lost(), 5_000, 50);
    expect(reason).toContain(`is now held by mallory@elsewhere (runbook node-maintenance, run run-m)`);
    expect(reason).toContain(`another run has the cluster ${c}`);
    expect(notes).toEqual([]); // not an outage

    await lease.release(); // must not free mallory's lease
    expect((await readClusterLease(cluster, c))?.holder?.identity).toBe('mallory@elsewhere/run-m');
  });

  it('a lease broken with --force is lost too, naming who broke it', async () => {
    const c = name('broken');
    const lease = await takeClusterLease(cluster, c, holder('alice@lab1'), { renewEveryMs: 200 });
    const { broken } = await breakClusterLease(cluster, c, { by: 'root@admin (forced)' });
    expect(broken?.who).toBe('alice@lab1');
    const reason = await eventually('lost() to report it', async () => lease.lost(), 5_000, 50);
    expect(reason).toMatch(/was released by root@admin \(forced\) at \d{4}-.*no longer holds the cluster/);
    await lease.release();
  });

  it('renewal keeps a live lease fresh; release() frees it; the same run may take it again (a resume)', async () => {
    const c = name('renew');
    const h = holder('alice@lab1');
    const lease = await takeClusterLease(cluster, c, h, { durationSeconds: 2, renewEveryMs: 300 });
    const first = (await readClusterLease(cluster, c))!;
    await sleep(3_000);
    const later = (await readClusterLease(cluster, c))!;
    expect(later.expired).toBe(false);
    expect(Date.parse(later.renewedAt!)).toBeGreaterThan(Date.parse(first.renewedAt!));
    expect(later.acquiredAt).toBe(first.acquiredAt);
    const again = await takeClusterLease(cluster, c, h); // same identity: its own lease, no refusal, no takeover
    expect(again.takenOver).toBeUndefined();
    await Promise.all([again.release(), again.release()]); // once, however often it is called
    await lease.release(); // the same identity's other handle: the lease is free now, nothing to do
    expect((await readClusterLease(cluster, c))?.holder).toBeUndefined();
  });

  it('costs little: take + release, 10 rounds', async () => {
    const c = name('bench');
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const lease = await takeClusterLease(cluster, c, holder('alice@lab1'));
      await lease.release();
      times.push(performance.now() - t0);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = (sorted[4]! + sorted[5]!) / 2;
    console.log(
      `lease take+release on the sandbox, 10 rounds (ms): ${times.map((t) => t.toFixed(1)).join(' ')}; ` +
        `median ${median.toFixed(1)}, max ${sorted[9]!.toFixed(1)} (first round creates the Lease)`,
    );
    expect(median).toBeLessThan(100);
  });

  describe('runbook lock (the CLI)', () => {
    let dir = '';
    let inventory = '';
    let c = '';
    const lock = (...args: string[]) =>
      runbook(['lock', '--inventory', inventory, ...args], { env: { KUBECONFIG: kubeconfig } });

    beforeAll(() => {
      c = name('cli');
      dir = mkdtempSync(join(tmpdir(), 'lease-cli-'));
      // The sandbox's own inventory, under another cluster name: its own Lease.
      const doc = parseDocument(readFileSync(join(inject('sandboxStateDir'), 'inventory.yaml'), 'utf8'));
      doc.setIn(['cluster', 'name'], c);
      inventory = join(dir, 'inventory.yaml');
      writeFileSync(inventory, doc.toString());
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('shows a lease no run has taken yet as free', () => {
      const r = lock();
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Cluster ${c} · lease kube-system/runbook-${c}`);
      expect(r.stdout).toContain('free: no run holds the cluster');
      const j = lock('--json');
      expect(JSON.parse(j.stdout)).toEqual({
        cluster: c,
        namespace: 'kube-system',
        name: `runbook-${c}`,
        state: 'free',
        holder: null,
      });
    });

    it('shows the holder; --release gives up your own lease, and the run holding it loses it', async () => {
      const me = operatorName();
      const lease = await takeClusterLease(cluster, c, holder(me, 'run-mine'), { renewEveryMs: 200 });
      const r = lock();
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/state\s+held/);
      expect(r.stdout).toMatch(new RegExp(`holder\\s+${me.replace(/[.]/g, '\\.')}`));
      expect(r.stdout).toMatch(/runbook\s+k3s-upgrade/);
      expect(r.stdout).toMatch(/run\s+run-mine/);
      expect(r.stdout).toMatch(/since\s+\d{4}-.*\(\d+ s ago\)/);
      expect(r.stdout).toMatch(/expires\s+\d{4}-.*\(in \d+ s\) · duration 60 s/);
      const j = JSON.parse(lock('--json').stdout);
      expect(j).toMatchObject({
        state: 'held',
        holder: { who: me, runId: 'run-mine', runbook: 'k3s-upgrade' },
        durationSeconds: 60,
      });

      const rel = lock('--release');
      expect(rel.code).toBe(0);
      expect(rel.stdout).toContain(
        `Released the cluster lease kube-system/runbook-${c} of ${c}, held by ${me} (runbook k3s-upgrade, run run-mine): if that run is still going, it stops before its next step.`,
      );
      expect(await eventually('the run to lose it', async () => lease.lost(), 5_000, 50)).toContain(
        `released by ${me}`,
      );
      await lease.release();

      const again = lock('--release');
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('is free: nothing to release');
      const shown = lock();
      expect(shown.stdout).toMatch(
        new RegExp(`last\\s+${me.replace(/[.]/g, '\\.')}, runbook k3s-upgrade, run run-mine`),
      );
      expect(shown.stdout).toMatch(/released\s+\d{4}-.* ago\) by /);
    });

    it("--release refuses someone else's lease naming them; --release --force breaks it and says whose", async () => {
      const lease = await takeClusterLease(cluster, c, holder('bob@ci', 'run-bob'), { renewEveryMs: 200 });
      const refused = lock('--release');
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(
        `the cluster lease kube-system/runbook-${c} is held by bob@ci (runbook k3s-upgrade, run run-bob), not by you (${operatorName()})`,
      );
      expect(refused.stderr).toContain('runbook lock --release --force');
      expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(lease.lost()).toBeUndefined();

      const forced = lock('--release', '--force');
      expect(forced.code).toBe(0);
      expect(forced.stdout).toContain(
        `Broke the cluster lease kube-system/runbook-${c} of ${c}, held by bob@ci (runbook k3s-upgrade, run run-bob): if that run is still going, it stops before its next step.`,
      );
      expect(await eventually('the run to lose it', async () => lease.lost(), 5_000, 50)).toContain(
        `released by ${operatorName()} (forced)`,
      );
      await lease.release();
      expect(JSON.parse(lock('--json').stdout)).toMatchObject({
        state: 'free',
        released: { by: `${operatorName()} (forced)`, last: { who: 'bob@ci' } },
      });
    });

    it('shows an expired lease as expired; --force alone is refused', async () => {
      const lease = await takeClusterLease(cluster, c, holder('carol@lab2', 'run-carol'), {
        durationSeconds: 1,
        renewEveryMs: 3_600_000,
      });
      await sleep(1_200);
      const r = lock();
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/state\s+expired: the next run takes it over/);
      expect(r.stdout).toMatch(/expired\s+\d{4}-.* ago\)/);
      expect(JSON.parse(lock('--json').stdout).state).toBe('expired');
      const f = lock('--force');
      expect(f.code).toBe(2);
      expect(f.stderr).toContain('--force only goes with --release');
      await lease.release();
    });
  });
});

// ------------------------------------------------------------ the API server goes away

describe('the cluster lease while the API server goes away (own sandbox)', () => {
  let stateDir = '';
  let state: SandboxState;
  let cluster: Cluster;
  const apiserver = () => readState(stateDir)!.processes.find((p) => p.name === 'kube-apiserver')!;
  const signalApiserver = (sig: NodeJS.Signals) => {
    try {
      process.kill(-apiserver().pid, sig);
    } catch {
      /* gone */
    }
  };

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-lease-'));
    state = await up({ stateDir });
    cluster = await connectCluster(state.kubeconfig);
  }, 300_000);
  afterAll(async () => {
    signalApiserver('SIGCONT'); // a stopped apiserver would ignore SIGTERM until SIGKILL
    if (stateDir) await down(stateDir);
  }, 60_000);

  const apiAnswers = async () => {
    try {
      await cluster.core.readNamespace({ name: 'kube-system' }, cluster.within(1_000));
      return true;
    } catch {
      return false;
    }
  };

  it('a paused API server (SIGSTOP for longer than the lease lasts): the holder keeps the lease when it is back', async () => {
    const c = uniqueName('paused');
    const notes: string[] = [];
    const lease = await takeClusterLease(cluster, c, holder('alice@lab1'), {
      durationSeconds: 3,
      renewEveryMs: 500,
      onNote: (n) => notes.push(n),
    });
    signalApiserver('SIGSTOP');
    const pausedAt = Date.now();
    try {
      await sleep(5_000); // longer than the 3 s lease: it is expired when the API comes back
      expect(lease.lost()).toBeUndefined(); // an outage is not a loss
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(
        new RegExp(
          `cannot renew the cluster lease kube-system/runbook-${c} \\(.*no answer before the deadline.*\\); the run keeps it and retries every 0.5 s`,
        ),
      );
    } finally {
      signalApiserver('SIGCONT');
    }
    const back = await eventually(
      'the lease to be renewed',
      async () => {
        const s = await readClusterLease(cluster, c).catch(() => undefined);
        return s && Date.parse(s.renewedAt!) > pausedAt + 5_000 ? s : undefined;
      },
      30_000,
      200,
    );
    expect(back).toMatchObject({ expired: false, holder: { who: 'alice@lab1' } });
    expect(lease.lost()).toBeUndefined();
    expect(notes).toHaveLength(2);
    expect(notes[1]).toContain('the API server answers again; the cluster lease');
    // And a second run still refuses.
    expect(await refusal(takeClusterLease(cluster, c, holder('bob@ci')))).toContain('held by alice@lab1');
    await lease.release();
  });

  it('a stopped and restarted API server: the holder renews when it answers again; release() is bounded while it is down', async () => {
    const c = uniqueName('restart');
    const notes: string[] = [];
    const lease = await takeClusterLease(cluster, c, holder('alice@lab1'), {
      durationSeconds: 3,
      renewEveryMs: 500,
      onNote: (n) => notes.push(n),
    });
    const rec = apiserver();
    const [bin, ...args] = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    await stopProcesses([rec]); // SIGTERM to its group, as `k3s` restarting would
    const stoppedAt = Date.now();
    expect(await apiAnswers()).toBe(false);
    await sleep(4_000);
    expect(lease.lost()).toBeUndefined();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/connection refused|connection was reset/);

    // The same apiserver, same port and flags, recorded in the state dir so `down` stops it.
    const again = startProcess(rec.name, bin!, args, rec.log, rec.marker);
    const saved = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as SandboxState;
    saved.processes = saved.processes.map((p) =>
      p.name === rec.name ? { name: again.name, pid: again.pid, log: again.log, marker: again.marker } : p,
    );
    writeFileSync(join(stateDir, 'state.json'), JSON.stringify(saved, null, 2));
    await eventually('the API server to answer', apiAnswers, 60_000, 200);
    const back = await eventually(
      'the lease to be renewed',
      async () => {
        const s = await readClusterLease(cluster, c).catch(() => undefined);
        return s && Date.parse(s.renewedAt!) > stoppedAt + 4_000 ? s : undefined;
      },
      30_000,
      200,
    );
    expect(back).toMatchObject({ expired: false, holder: { who: 'alice@lab1' } });
    expect(lease.lost()).toBeUndefined();
    expect(notes[1]).toContain('answers again');

    // release() with the API gone again returns within its budget and does not throw.
    signalApiserver('SIGSTOP');
    try {
      const t0 = Date.now();
      await lease.release();
      expect(Date.now() - t0).toBeLessThan(4_000);
    } finally {
      signalApiserver('SIGCONT');
    }
  });
});
