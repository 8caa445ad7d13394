// `runbook history --json` carries each record's snapshots as recorded and, when
// both are snapshots, what changed between them (the real CLI, on a records
// folder of its own).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runbook } from '../helpers/cli.ts';
import { diffSnapshots } from '../../runner/record/snapshot-diff.ts';

const fixture = 'test/site/fixtures/runs/k3s-upgrade/20260920T084000Z-k3s-upgrade-1da7.json';
const dir = mkdtempSync(join(tmpdir(), 'history-snapshots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('history --json and snapshots', () => {
  it('rows carry before/after as recorded, the diff when both exist, null otherwise', () => {
    mkdirSync(join(dir, 'k3s-upgrade'));
    const record = JSON.parse(readFileSync(fixture, 'utf8'));
    cpSync(fixture, join(dir, 'k3s-upgrade', 'a.json'));
    // The same run whose after snapshot failed, and one without snapshots at all.
    const failed = {
      ...record,
      runId: `${record.runId}-b`,
      startedAt: '2026-09-21T08:40:00.000Z',
      snapshots: {
        before: record.snapshots.before,
        after: {
          takenAt: '2026-09-21T08:50:00.000Z',
          error: 'the API server https://192.168.2.20:6443 did not answer: connection refused',
        },
      },
    };
    const none = { ...record, runId: `${record.runId}-c`, startedAt: '2026-09-22T08:40:00.000Z', snapshots: undefined };
    writeFileSync(join(dir, 'k3s-upgrade', 'b.json'), JSON.stringify(failed));
    writeFileSync(join(dir, 'k3s-upgrade', 'c.json'), JSON.stringify(none));

    const r = runbook(['history', 'k3s-upgrade', '--json', '--records', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{
      runId: string;
      snapshots: { before: unknown; after: unknown };
      snapshotDiff: unknown;
    }>;
    const row = (id: string) => rows.find((x) => x.runId === id)!;

    const full = row(record.runId);
    expect(full.snapshots).toEqual(record.snapshots);
    expect(full.snapshotDiff).toEqual(diffSnapshots(record.snapshots.before, record.snapshots.after));
    expect(full.snapshotDiff).toMatchObject({ cordonsLeft: ['k3s-worker-01'], changed: true });

    expect(row(failed.runId).snapshots.after).toEqual(failed.snapshots.after);
    expect(row(failed.runId).snapshotDiff).toBeNull();
    expect(row(none.runId).snapshots).toEqual({ before: null, after: null });
    expect(row(none.runId).snapshotDiff).toBeNull();
  });
});
