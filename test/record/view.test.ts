import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import fc from 'fast-check';
import { RUN_STATUSES, STEP_STATUSES } from '../../runner/record/schema.ts';
import type { RunRecord, StepRecord, StepStatus } from '../../runner/record/schema.ts';
import {
  SEVERITY,
  daysSince,
  daysSinceRehearsed,
  daysSinceVerified,
  effectiveRunStatus,
  effectiveStepStatus,
  hereOnThisHost,
  statusHere,
  kindOf,
  labRuns,
  lastGoodLabRun,
  lastGoodRehearsal,
  latestStepResults,
  nodeTally,
  severityRank,
  staleSteps,
  stepTally,
  stoppedAt,
  viewRun,
  worstOf,
  worstStatus,
  type Here,
} from '../../runner/record/view.ts';

// Fixed records: nothing here reads the clock, the host or a real pid.
const NOW = new Date('2026-11-20T12:00:00Z');
const alive = (pids: number[]): Here => ({ host: 'ops', isAlive: (pid) => pids.includes(pid) });

function step(id: string, status: StepStatus, over: Partial<StepRecord> = {}): StepRecord {
  return {
    index: 1,
    id,
    stepId: id.split('@')[0]!,
    hash: `h-${id}`,
    flags: [],
    status,
    exitCode: null,
    attempts: 1,
    durationMs: 1,
    output: '',
    truncated: false,
    targets: [],
    ...over,
  };
}

function record(over: Partial<RunRecord> = {}): RunRecord {
  return {
    schemaVersion: 1,
    runId: 'r',
    runbook: { id: 'demo', title: 'Demo', file: 'demo.mdx', kind: 'runbook' },
    git: { commit: null, dirty: false },
    pageHash: 'p',
    stepHashes: {},
    params: [],
    operator: 'op',
    host: 'ops',
    pid: 42,
    cluster: { server: 'https://192.168.2.20:6443' },
    status: 'succeeded',
    startedAt: '2026-11-10T10:00:00Z',
    endedAt: '2026-11-10T10:05:00Z',
    resumes: [],
    steps: [],
    ...over,
  };
}

const TWIN = { twin: true as const, faults: [] };

describe('effective status', () => {
  it('a running record reads running only while its pid lives on this host', () => {
    const running = record({ status: 'running' });
    expect(effectiveRunStatus(running, alive([42]))).toBe('running');
    expect(effectiveRunStatus(running, alive([]))).toBe('interrupted');
    expect(effectiveRunStatus(running, { ...alive([42]), host: 'elsewhere' })).toBe('interrupted');
    expect(effectiveRunStatus(running, undefined)).toBe('interrupted');
    expect(effectiveRunStatus(record({ status: 'failed' }), alive([]))).toBe('failed');
  });

  it('this host counts a pid it may not signal (EPERM) as alive, as every reader now does', () => {
    // pid 1 exists on every Linux host; a non-root user gets EPERM for it.
    expect(hereOnThisHost().isAlive(1)).toBe(true);
    expect(hereOnThisHost().isAlive(2 ** 30)).toBe(false);
    expect(statusHere(record({ status: 'running', host: hostname(), pid: process.pid }))).toBe('running');
    expect(statusHere(record({ status: 'running', host: hostname(), pid: 2 ** 30 }))).toBe('interrupted');
  });

  it('a running step reads interrupted in an interrupted run, and only there', () => {
    expect(effectiveStepStatus('running', 'interrupted')).toBe('interrupted');
    expect(effectiveStepStatus('running', 'running')).toBe('running');
    expect(effectiveStepStatus('failed', 'interrupted')).toBe('failed');
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RUN_STATUSES), fc.boolean(), fc.boolean(), (status, sameHost, live) => {
        const here: Here = { host: sameHost ? 'ops' : 'other', isAlive: () => live };
        const once = effectiveRunStatus(record({ status }), here);
        expect(effectiveRunStatus(record({ status: once }), here)).toBe(once);
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...STEP_STATUSES), fc.constantFrom(...RUN_STATUSES), (s, run) => {
        const once = effectiveStepStatus(s, run);
        expect(effectiveStepStatus(once, run)).toBe(once);
      }),
    );
  });
});

describe('severity', () => {
  it('ranks failed worst, then timed-out, then interrupted; succeeded last', () => {
    expect(SEVERITY[0]).toBe('failed');
    expect(severityRank('failed')).toBeLessThan(severityRank('interrupted'));
    expect(severityRank('timed-out')).toBeLessThan(severityRank('interrupted'));
    expect(SEVERITY.at(-1)).toBe('succeeded');
    expect(worstStatus(['succeeded', 'interrupted', 'failed'])).toBe('failed');
    expect(worstStatus([])).toBe('pending');
  });

  it('is a total order over every step status', () => {
    expect([...SEVERITY].sort()).toEqual([...STEP_STATUSES].sort());
    fc.assert(
      fc.property(fc.constantFrom(...STEP_STATUSES), fc.constantFrom(...STEP_STATUSES), (a, b) => {
        const [ra, rb] = [severityRank(a), severityRank(b)];
        expect(ra).toBeGreaterThanOrEqual(0);
        expect(ra === rb).toBe(a === b); // antisymmetric and total: distinct statuses never tie
      }),
    );
  });

  it('the worst of a list is one of them and no member is worse; order does not matter', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...STEP_STATUSES), { minLength: 1 }), (statuses) => {
        const worst = worstStatus(statuses);
        expect(statuses).toContain(worst);
        for (const s of statuses) expect(severityRank(s)).toBeGreaterThanOrEqual(severityRank(worst));
        expect(worstStatus([...statuses].reverse())).toBe(worst);
        expect(worstOf(statuses.map((status) => ({ status })))?.status).toBe(worst);
      }),
    );
  });

  it('worstOf keeps the first of equals (the node named in the step error)', () => {
    const a = { status: 'failed' as const, target: 'a' };
    const b = { status: 'failed' as const, target: 'b' };
    expect(worstOf([{ status: 'succeeded' as const, target: 'x' }, a, b])).toBe(a);
    expect(worstOf([])).toBeUndefined();
  });
});

describe('kind and tallies', () => {
  it('rehearsal before sandbox before lab', () => {
    expect(kindOf({ rehearsal: true, sandbox: true })).toBe('rehearsal');
    expect(kindOf({ rehearsal: false, sandbox: true })).toBe('sandbox');
    expect(kindOf({ rehearsal: false, sandbox: false })).toBe('lab');
    expect(viewRun(record(), undefined).kind).toBe('lab');
    expect(viewRun(record({ cluster: { server: 'https://127.0.0.1:6443' } }), undefined).kind).toBe('sandbox');
    const twin = record({ cluster: { server: 'https://127.0.0.1:6443' }, rehearsal: TWIN });
    expect(viewRun(twin, undefined)).toMatchObject({ kind: 'rehearsal', sandbox: true, rehearsal: true });
  });

  it('counts succeeded instances and says where a run stopped', () => {
    const steps = [step('a', 'succeeded'), step('b', 'skipped'), step('c', 'failed'), step('d', 'pending')];
    const r = record({ status: 'failed', steps });
    expect(stepTally(r)).toEqual({ total: 4, succeeded: 1 });
    expect(stoppedAt(r)).toBe('c');
    expect(stoppedAt({ ...r, status: 'succeeded' })).toBeUndefined();
  });

  it('counts nodes per ForEach instance or per fan-out target', () => {
    const target = (t: string, status: StepStatus) => ({
      target: t,
      status,
      exitCode: 0,
      attempts: 1,
      durationMs: 1,
      output: '',
      truncated: false,
    });
    const forEach = [step('a@n1', 'succeeded', { node: 'n1' }), step('a@n2', 'failed', { node: 'n2' })];
    expect(nodeTally(forEach)).toEqual({ total: 2, succeeded: 1 });
    const targets = [target('n1', 'succeeded'), target('n2', 'failed'), target('n3', 'succeeded')];
    expect(nodeTally([step('a', 'failed', { targets })])).toEqual({ total: 3, succeeded: 2 });
    expect(nodeTally([step('a', 'succeeded')])).toEqual({ total: 0, succeeded: 0 });
  });
});

describe('what the runs prove about a page', () => {
  const here = alive([]);
  // Newest first, as readers keep them.
  const runs = [
    viewRun(
      record({
        runId: 'rehearsed',
        rehearsal: TWIN,
        cluster: { server: 'https://127.0.0.1:1' },
        endedAt: '2026-11-19T12:00:00Z',
        stepHashes: { a: 'new' },
      }),
      here,
    ),
    viewRun(
      record({ runId: 'sandbox', cluster: { server: 'https://localhost:1' }, endedAt: '2026-11-18T12:00:00Z' }),
      here,
    ),
    viewRun(
      record({
        runId: 'cut',
        status: 'running',
        startedAt: '2026-11-17T00:00:00Z',
        endedAt: undefined,
        steps: [step('a', 'succeeded'), step('b', 'running')],
      }),
      here,
    ),
    viewRun(
      record({
        runId: 'good',
        endedAt: '2026-11-15T11:00:00Z',
        stepHashes: { a: 'h-a', b: 'old' },
        steps: [step('a', 'succeeded'), step('b', 'succeeded')],
      }),
      here,
    ),
  ];

  it('the last good lab run is neither a rehearsal, nor the sandbox, nor an interrupted run', () => {
    expect(labRuns(runs).map((r) => r.data.runId)).toEqual(['cut', 'good']);
    expect(lastGoodLabRun(runs)?.data.runId).toBe('good');
    expect(lastGoodRehearsal(runs)?.data.runId).toBe('rehearsed');
    expect(lastGoodLabRun([])).toBeUndefined();
  });

  it('days since verified and rehearsed count from the end of the run', () => {
    expect(daysSinceVerified(runs, NOW)).toBe(5);
    expect(daysSinceRehearsed(runs, NOW)).toBe(1);
    expect(daysSinceVerified(runs.slice(0, 2), NOW)).toBeUndefined();
    expect(daysSince('2026-11-21T00:00:00Z', NOW)).toBe(0); // a clock ahead never reads negative
  });

  it('stale steps: changed since the last good lab run, or new since', () => {
    const stale = staleSteps(
      [
        { id: 'a', hash: 'h-a' },
        { id: 'b', hash: 'h-b' },
        { id: 'c', hash: 'h-c' },
      ],
      runs,
    );
    expect([...stale]).toEqual([
      ['b', 'changed'],
      ['c', 'new'],
    ]);
    expect(staleSteps([{ id: 'a', hash: 'x' }], runs.slice(0, 2)).size).toBe(0);
  });

  it('latest step results: the newest lab run that reached the step; a cut-off step reads interrupted', () => {
    const latest = latestStepResults([{ id: 'a' }, { id: 'b' }, { id: 'z' }], runs);
    expect(latest.get('a')).toMatchObject({ status: 'succeeded', run: { data: { runId: 'cut' } } });
    expect(latest.get('b')).toMatchObject({ status: 'interrupted', run: { data: { runId: 'cut' } } });
    expect(latest.has('z')).toBe(false);
  });
});
