import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcedure } from '../../runner/format/parse.ts';
import {
  RELIABILITY_TARGETS,
  evidenceKind,
  measureRecovery,
  measureReliability,
  newestBackupPoint,
  recoveryOf,
  verdict,
  type RecoveryPointTarget,
  type RecoveryTarget,
  type RunEvidence,
} from '../../src/lib/reliability.ts';
import type { StepRecord } from '../../runner/record/schema.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A step record with only what the measures read. */
function step(
  stepId: string,
  status: StepRecord['status'],
  startedAt: string,
  endedAt: string,
  node?: string,
): StepRecord {
  return {
    index: 1,
    id: node ? `${stepId}@${node}` : stepId,
    stepId,
    node,
    hash: 'h',
    flags: [],
    status,
    exitCode: status === 'succeeded' ? 0 : 1,
    attempts: 1,
    durationMs: Date.parse(endedAt) - Date.parse(startedAt),
    startedAt,
    endedAt,
    output: '',
    truncated: false,
    targets: [],
  };
}

function run(
  runbook: string,
  startedAt: string,
  steps: StepRecord[],
  how: { rehearsal?: boolean; sandbox?: boolean } = {},
): RunEvidence {
  return {
    url: `/runs/${runbook}/${startedAt}/`,
    data: {
      runId: `${startedAt}-${runbook}`,
      runbook: { id: runbook, title: runbook, file: `${runbook}.mdx`, kind: 'runbook' },
      startedAt,
      steps,
    },
    status: steps.every((s) => s.status === 'succeeded') ? 'succeeded' : 'failed',
    sandbox: how.sandbox ?? false,
    rehearsal: how.rehearsal ?? false,
  };
}

const target = (id: string): RecoveryTarget => RELIABILITY_TARGETS.rto.find((t) => t.id === id)!;
const point = (id: string): RecoveryPointTarget => RELIABILITY_TARGETS.rpo.find((t) => t.id === id)!;

describe('evidenceKind', () => {
  it('keeps rehearsals, sandbox runs and lab runs apart', () => {
    expect(evidenceKind(run('x', '2026-11-01T00:00:00Z', []))).toBe('lab');
    expect(evidenceKind(run('x', '2026-11-01T00:00:00Z', [], { rehearsal: true }))).toBe('rehearsal');
    // A rehearsal on the twin also runs against a loopback server: it is a rehearsal, not a sandbox run.
    expect(evidenceKind(run('x', '2026-11-01T00:00:00Z', [], { rehearsal: true, sandbox: true }))).toBe('rehearsal');
    expect(evidenceKind(run('x', '2026-11-01T00:00:00Z', [], { sandbox: true }))).toBe('sandbox');
  });
});

describe('recoveryOf', () => {
  it('times cluster-restore from the run start to the verifying check', () => {
    const r = run('cluster-restore', '2026-11-10T08:00:00.000Z', [
      step('fetch-from-nas', 'succeeded', '2026-11-10T08:00:01.000Z', '2026-11-10T08:03:00.000Z'),
      step('ingress-after-restore', 'succeeded', '2026-11-10T08:41:00.000Z', '2026-11-10T08:42:30.000Z'),
      step('remove-token-copy', 'succeeded', '2026-11-10T08:42:31.000Z', '2026-11-10T08:42:40.000Z'),
    ]);
    expect(recoveryOf(r, target('control-plane'))).toMatchObject({ ms: 42.5 * MIN, at: '2026-11-10T08:42:30.000Z' });
  });

  it('starts the Velero drill clock at the restore step, as its page says', () => {
    const r = run('velero-restore-drill', '2026-11-05T09:00:00.000Z', [
      step('fresh-backup', 'succeeded', '2026-11-05T09:01:00.000Z', '2026-11-05T09:20:00.000Z'),
      step('restore-from-backup', 'succeeded', '2026-11-05T09:20:05.000Z', '2026-11-05T09:35:00.000Z'),
      step('same-data', 'succeeded', '2026-11-05T09:40:00.000Z', '2026-11-05T09:40:05.000Z'),
    ]);
    expect(recoveryOf(r, target('namespace'))!.ms).toBe(20 * MIN);
  });

  it('accepts either tab of postgres-restore as the verifying step', () => {
    const scratch = run('postgres-restore', '2026-11-05T10:00:00.000Z', [
      step('compare-scratch', 'succeeded', '2026-11-05T10:05:00.000Z', '2026-11-05T10:06:00.000Z'),
    ]);
    const inPlace = run('postgres-restore', '2026-11-06T10:00:00.000Z', [
      step('client-healthy', 'succeeded', '2026-11-06T10:11:00.000Z', '2026-11-06T10:12:00.000Z'),
    ]);
    expect(recoveryOf(scratch, target('database'))!.ms).toBe(6 * MIN);
    expect(recoveryOf(inPlace, target('database'))!.ms).toBe(12 * MIN);
  });

  it('measures nothing when the verifying step failed or was never reached, or for another runbook', () => {
    const failed = run('cluster-restore', '2026-11-10T08:00:00.000Z', [
      step('ingress-after-restore', 'failed', '2026-11-10T08:41:00.000Z', '2026-11-10T08:42:00.000Z'),
    ]);
    const stopped = run('cluster-restore', '2026-11-10T08:00:00.000Z', [
      step('fetch-from-nas', 'failed', '2026-11-10T08:00:01.000Z', '2026-11-10T08:01:00.000Z'),
    ]);
    const other = run('postgres-restore', '2026-11-10T08:00:00.000Z', [
      step('ingress-after-restore', 'succeeded', '2026-11-10T08:41:00.000Z', '2026-11-10T08:42:00.000Z'),
    ]);
    expect(recoveryOf(failed, target('control-plane'))).toBeUndefined();
    expect(recoveryOf(stopped, target('control-plane'))).toBeUndefined();
    expect(recoveryOf(other, target('control-plane'))).toBeUndefined();
  });

  it('ends at the last node of a step repeated per node', () => {
    const r = run('node-failure-recovery', '2026-11-12T07:00:00.000Z', [
      step(
        'cluster-healthy-again',
        'succeeded',
        '2026-11-12T07:10:00.000Z',
        '2026-11-12T07:11:00.000Z',
        'k3s-worker-01',
      ),
      step(
        'cluster-healthy-again',
        'succeeded',
        '2026-11-12T07:20:00.000Z',
        '2026-11-12T07:21:00.000Z',
        'k3s-worker-02',
      ),
    ]);
    expect(recoveryOf(r, RELIABILITY_TARGETS.mttr)!.ms).toBe(21 * MIN);
  });
});

describe('measureRecovery', () => {
  const lab1 = run('node-failure-recovery', '2026-10-01T07:00:00.000Z', [
    step('cluster-healthy-again', 'succeeded', '2026-10-01T07:19:00.000Z', '2026-10-01T07:20:00.000Z'),
  ]);
  const lab2 = run('node-failure-recovery', '2026-11-01T07:00:00.000Z', [
    step('cluster-healthy-again', 'succeeded', '2026-11-01T07:39:00.000Z', '2026-11-01T07:40:00.000Z'),
  ]);
  const rehearsed = run(
    'node-failure-recovery',
    '2026-12-01T07:00:00.000Z',
    [step('cluster-healthy-again', 'succeeded', '2026-12-01T07:04:00.000Z', '2026-12-01T07:05:00.000Z')],
    { rehearsal: true },
  );
  const sandbox = run(
    'node-failure-recovery',
    '2026-12-01T08:00:00.000Z',
    [step('cluster-healthy-again', 'succeeded', '2026-12-01T08:00:30.000Z', '2026-12-01T08:01:00.000Z')],
    { sandbox: true },
  );
  const runs = [lab1, rehearsed, lab2, sandbox];

  it('takes the MTTR as the mean of lab runs only, latest first', () => {
    const lab = measureRecovery(runs, RELIABILITY_TARGETS.mttr, 'lab');
    expect(lab.recoveries.map((r) => r.run)).toEqual([lab2, lab1]);
    expect(lab.latest!.ms).toBe(40 * MIN);
    expect(lab.meanMs).toBe(30 * MIN);
  });

  it('shows rehearsals apart and never mixes a sandbox run in', () => {
    const rehearsal = measureRecovery(runs, RELIABILITY_TARGETS.mttr, 'rehearsal');
    expect(rehearsal.recoveries.map((r) => r.run)).toEqual([rehearsed]);
    expect(rehearsal.meanMs).toBe(5 * MIN);
  });

  it('has no mean without a measured run', () => {
    expect(measureRecovery([], RELIABILITY_TARGETS.mttr, 'lab')).toEqual({
      recoveries: [],
      latest: undefined,
      meanMs: undefined,
    });
  });
});

describe('newestBackupPoint', () => {
  const now = new Date('2026-11-20T12:00:00.000Z');

  it('takes the newest of an on-demand dump and a check of the nightly schedule (minus its bound)', () => {
    const onDemand = run('postgres-backup', '2026-11-18T09:00:00.000Z', [
      step('dump-databases', 'succeeded', '2026-11-18T09:00:10.000Z', '2026-11-18T09:02:00.000Z'),
    ]);
    const health = run('cluster-health', '2026-11-20T08:00:00.000Z', [
      step('nightly-dump-recent', 'succeeded', '2026-11-20T08:00:05.000Z', '2026-11-20T08:00:06.000Z'),
    ]);
    const p = newestBackupPoint([onDemand, health], point('postgres'), 'lab', now)!;
    expect(p.run).toBe(health);
    expect(p.step).toBe('nightly-dump-recent');
    // The check proves a dump at most 26 h before it passed.
    expect(p.at).toBe('2026-11-19T06:00:06.000Z');
    expect(p.ageMs).toBe(now.getTime() - Date.parse('2026-11-19T06:00:06.000Z'));
  });

  it('ignores failed steps, other runbooks and rehearsals for the lab', () => {
    const failedCheck = run('cluster-health', '2026-11-20T08:00:00.000Z', [
      step('nightly-dump-recent', 'failed', '2026-11-20T08:00:05.000Z', '2026-11-20T08:00:06.000Z'),
    ]);
    const otherStep = run('cluster-health', '2026-11-20T09:00:00.000Z', [
      step('nodes-ready', 'succeeded', '2026-11-20T09:00:05.000Z', '2026-11-20T09:00:06.000Z'),
    ]);
    const rehearsed = run(
      'postgres-backup',
      '2026-11-20T10:00:00.000Z',
      [step('dump-databases', 'succeeded', '2026-11-20T10:00:05.000Z', '2026-11-20T10:01:00.000Z')],
      { rehearsal: true },
    );
    const runs = [failedCheck, otherStep, rehearsed];
    expect(newestBackupPoint(runs, point('postgres'), 'lab', now)).toBeUndefined();
    expect(newestBackupPoint(runs, point('postgres'), 'rehearsal', now)).toMatchObject({
      run: rehearsed,
      at: '2026-11-20T10:01:00.000Z',
      ageMs: 119 * MIN,
    });
  });

  it('counts an off-VM copy only from the steps that verify a copy on the NAS', () => {
    const backup = run('cluster-backup', '2026-11-15T07:00:00.000Z', [
      step('save-snapshot', 'succeeded', '2026-11-15T07:00:43.000Z', '2026-11-15T07:01:02.000Z'),
      step('verify-etcd-copy', 'succeeded', '2026-11-15T07:02:25.000Z', '2026-11-15T07:02:26.000Z'),
    ]);
    expect(newestBackupPoint([backup], point('etcd-off-vm'), 'lab', now)!.at).toBe('2026-11-15T07:02:26.000Z');
    expect(newestBackupPoint([backup], point('etcd-on-server'), 'lab', now)!.at).toBe('2026-11-15T07:01:02.000Z');
  });
});

describe('verdict and measureReliability', () => {
  it('reads a measure against its target', () => {
    expect(verdict(undefined, HOUR)).toBe('unmeasured');
    expect(verdict(HOUR, HOUR)).toBe('met');
    expect(verdict(HOUR + 1, HOUR)).toBe('missed');
  });

  it('gives every target a row, measured or not, with the schedules judged against their targets', () => {
    const all = measureReliability([], new Date('2026-11-20T12:00:00.000Z'));
    expect(all.rto.map((r) => r.target.runbook)).toEqual([
      'cluster-restore',
      'postgres-restore',
      'velero-restore-drill',
    ]);
    expect(all.rto.every((r) => r.by.lab.latest === undefined && r.by.rehearsal.latest === undefined)).toBe(true);
    expect(all.rpo.map((r) => [r.target.id, r.scheduleVerdict, r.by.lab])).toEqual([
      ['etcd-on-server', 'met', undefined],
      ['etcd-off-vm', 'met', undefined],
      ['postgres', 'met', undefined],
    ]);
    expect(all.mttr.by.lab.meanMs).toBeUndefined();
  });
});

describe('the targets name steps that exist', () => {
  const PAGES: Record<string, string> = {
    'cluster-restore': 'src/content/docs/runbooks/cluster-restore.mdx',
    'postgres-restore': 'src/content/docs/runbooks/postgres-restore.mdx',
    'velero-restore-drill': 'src/content/docs/runbooks/velero-restore-drill.mdx',
    'node-failure-recovery': 'src/content/docs/runbooks/node-failure-recovery.mdx',
    'cluster-backup': 'src/content/docs/runbooks/cluster-backup.mdx',
    'cluster-health': 'src/content/docs/runbooks/cluster-health.mdx',
    'postgres-backup': 'src/content/docs/runbooks/postgres-backup.mdx',
    '0015-backup-strategy': 'src/content/adrs/0015-backup-strategy.mdx',
  };
  const stepsOf = (runbook: string) => {
    const file = PAGES[runbook];
    if (!file) throw new Error(`no page listed for ${runbook}`);
    const procedure = parseProcedure(readFileSync(file, 'utf8'), file);
    expect(procedure.id).toBe(runbook);
    return new Set(procedure.steps.map((s) => s.id));
  };

  it.each([...RELIABILITY_TARGETS.rto, RELIABILITY_TARGETS.mttr])('$runbook has the steps that time $id', (t) => {
    const steps = stepsOf(t.runbook);
    for (const id of [...(t.from ?? []), ...t.verify]) expect(steps, `${t.runbook} step ${id}`).toContain(id);
  });

  it.each(RELIABILITY_TARGETS.rpo.flatMap((t) => t.evidence.map((e) => ({ ...e, target: t.id }))))(
    '$runbook has step $step (evidence for $target)',
    (e) => {
      expect(stepsOf(e.runbook)).toContain(e.step);
    },
  );
});
