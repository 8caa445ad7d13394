// How a Lease reads (runner/cluster/lease.ts viewLease) and how `runbook lock`
// shows it (runner/commands/lock.ts), without a cluster: expiry by the reader's
// clock, a free lease with its last holder, a Lease some other tool wrote.
import { stripVTControlCharacters as plain } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { holderIdentity, holderWho, viewLease } from '../../runner/cluster/lease.ts';
import { describeLease, relative } from '../../runner/commands/lock.ts';

const T = Date.parse('2026-11-23T10:15:00Z');
const lease = (spec: V1Lease['spec'], annotations: Record<string, string> = {}): V1Lease => ({
  metadata: { name: 'runbook-homelab', namespace: 'kube-system', resourceVersion: '42', annotations },
  spec,
});
const ours = {
  'runbook.k3s-lab/operator': 'alice@lab1',
  'runbook.k3s-lab/host': 'lab1',
  'runbook.k3s-lab/runbook': 'k3s-upgrade',
  'runbook.k3s-lab/run-id': 'run-1',
  'runbook.k3s-lab/started-at': '2026-11-23T10:00:00Z',
};
const where = { cluster: 'homelab', namespace: 'kube-system', name: 'runbook-homelab' };

describe('viewLease', () => {
  it("a held lease expires renewTime + duration later, by the reader's clock", () => {
    const l = lease(
      {
        holderIdentity: 'alice@lab1/run-1',
        leaseDurationSeconds: 60,
        acquireTime: '2026-11-23T10:00:00.000000Z' as never,
        renewTime: '2026-11-23T10:14:30.000000Z' as never,
      },
      ours,
    );
    expect(viewLease(l, T)).toMatchObject({
      expired: false,
      expiresAt: '2026-11-23T10:15:30.000Z',
      durationSeconds: 60,
      resourceVersion: '42',
      holder: { identity: 'alice@lab1/run-1', who: 'alice@lab1', runbook: 'k3s-upgrade', runId: 'run-1' },
    });
    expect(viewLease(l, T + 31_000).expired).toBe(true);
  });

  it('a lease without a renewTime counts from its acquisition; without either it is expired', () => {
    expect(
      viewLease(
        lease({ holderIdentity: 'x', leaseDurationSeconds: 10, acquireTime: '2026-11-23T10:14:55Z' as never }),
        T,
      ).expired,
    ).toBe(false);
    expect(viewLease(lease({ holderIdentity: 'x' }), T).expired).toBe(true);
  });

  it('a free lease keeps its last holder and who released it', () => {
    const v = viewLease(
      lease(
        { leaseDurationSeconds: 60 },
        {
          ...ours,
          'runbook.k3s-lab/released-at': '2026-11-23T10:14:00Z',
          'runbook.k3s-lab/released-by': 'bob@ci (forced)',
        },
      ),
      T,
    );
    expect(v.holder).toBeUndefined();
    expect(v.expired).toBe(false);
    expect(v.released).toMatchObject({
      at: '2026-11-23T10:14:00Z',
      by: 'bob@ci (forced)',
      last: { who: 'alice@lab1', runId: 'run-1' },
    });
  });

  it('a Lease another tool wrote is named by its holderIdentity', () => {
    const v = viewLease(
      lease({ holderIdentity: 'some-controller-7f9', renewTime: new Date(T) as never, leaseDurationSeconds: 15 }),
      T,
    );
    expect(v.holder).toEqual({ identity: 'some-controller-7f9', who: 'some-controller-7f9' });
  });

  it('the identity is operator@host/runId, whether the operator names its host or not', () => {
    const h = { runbook: 'r', runId: 'run-9', startedAt: '' };
    expect(holderIdentity({ ...h, operator: 'alice@lab1', host: 'lab1' })).toBe('alice@lab1/run-9');
    expect(holderIdentity({ ...h, operator: 'alice', host: 'lab1' })).toBe('alice@lab1/run-9');
    expect(holderWho({ operator: 'alice', host: '' })).toBe('alice');
  });
});

describe('runbook lock output', () => {
  it('shows a held lease line by line, with relative times', () => {
    const v = viewLease(
      lease(
        { holderIdentity: 'alice@lab1/run-1', leaseDurationSeconds: 60, renewTime: '2026-11-23T10:14:48Z' as never },
        ours,
      ),
      T,
    );
    const out = plain(describeLease(where, v, T));
    expect(out).toContain('Cluster homelab · lease kube-system/runbook-homelab');
    expect(out).toMatch(/state\s+held/);
    expect(out).toMatch(/holder\s+alice@lab1\n/);
    expect(out).toMatch(/since\s+2026-11-23T10:00:00Z \(15 min ago\)/);
    expect(out).toMatch(/renewed\s+2026-11-23T10:14:48Z \(12 s ago\)/);
    expect(out).toMatch(/expires\s+2026-11-23T10:15:48.000Z \(in 48 s\) · duration 60 s/);
    expect(out).toContain('runbook lock --release --force');
  });

  it('shows an expired one as taken over by the next run, and a never-taken one as free', () => {
    const v = viewLease(
      lease(
        { holderIdentity: 'alice@lab1/run-1', leaseDurationSeconds: 60, renewTime: '2026-11-23T10:00:00Z' as never },
        ours,
      ),
      T,
    );
    expect(plain(describeLease(where, v, T))).toMatch(
      /state\s+expired: the next run takes it over[\s\S]*expired\s+2026-11-23T10:01:00.000Z \(14 min ago\)/,
    );
    expect(plain(describeLease(where, undefined, T))).toMatch(
      /state\s+free: no run holds the cluster\n.*no run has taken it yet/,
    );
  });

  it('says times as a person would', () => {
    expect(relative(T - 12_000, T)).toBe('12 s ago');
    expect(relative(T + 48_000, T)).toBe('in 48 s');
    expect(relative(T - 5 * 60_000, T)).toBe('5 min ago');
    expect(relative(T - 3 * 3_600_000, T)).toBe('3 h ago');
    expect(relative(T - 4 * 86_400_000, T)).toBe('4 days ago');
    expect(relative(Number.NaN, T)).toBe('unknown');
  });
});
