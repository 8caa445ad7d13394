// What the twin seeds as the lab's past (twin/history.ts): postgres-backup's nightly CronJob as
// the page applies it, the Job of its last scheduled run as the CronJob controller names and
// finishes it, and the NAS shares' #snapshot folders.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  finishedJob,
  lastFireIn,
  nasShares,
  NAS_SNAPSHOT,
  NIGHTLY_DUMP,
  seedNasSnapshots,
  stepManifests,
} from '../../scripts/sandbox-lib/twin/history.ts';

describe('the nightly dump CronJob', () => {
  it("comes from postgres-backup's step nightly-schedule: 02:00 Europe/Berlin, not suspended, the Job label", () => {
    const objs = stepManifests(readFileSync(NIGHTLY_DUMP.page, 'utf8'), NIGHTLY_DUMP.step);
    expect(objs.map((o) => o.kind)).toEqual([
      'PersistentVolumeClaim',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'CronJob',
    ]);
    const cron = objs.find((o) => o.kind === 'CronJob')!;
    const spec = cron.spec as {
      schedule: string;
      timeZone: string;
      suspend?: boolean;
      jobTemplate: { metadata: { labels: Record<string, string> } };
    };
    expect([cron.metadata.namespace, spec.schedule, spec.timeZone, spec.suspend]).toEqual([
      'data',
      '0 2 * * *',
      'Europe/Berlin',
      undefined,
    ]);
    expect(spec.jobTemplate.metadata.labels['app.kubernetes.io/name']).toBe('postgres-nightly-dump');
  });

  it('last fired at 02:00 Berlin time: 01:00 UTC in winter, 00:00 UTC in summer, the day before when it is earlier', () => {
    expect(lastFireIn('0 2 * * *', 'Europe/Berlin', new Date('2026-12-02T03:09:00Z'))!.toISOString()).toBe(
      '2026-12-02T01:00:00.000Z',
    );
    expect(lastFireIn('0 2 * * *', 'Europe/Berlin', new Date('2026-12-02T00:30:00Z'))!.toISOString()).toBe(
      '2026-12-01T01:00:00.000Z',
    );
    expect(lastFireIn('0 2 * * *', 'Europe/Berlin', new Date('2026-07-15T12:00:00Z'))!.toISOString()).toBe(
      '2026-07-15T00:00:00.000Z',
    );
    expect(lastFireIn('0 2 * * *', undefined, new Date('2026-07-15T12:00:00Z'))!.toISOString()).toBe(
      '2026-07-15T02:00:00.000Z',
    );
  });

  it('its last Job is named by the scheduled minute, owned by the CronJob, finished Complete, never run by the job controller', () => {
    const [cron] = stepManifests(readFileSync(NIGHTLY_DUMP.page, 'utf8'), NIGHTLY_DUMP.step).filter(
      (o) => o.kind === 'CronJob',
    );
    const at = new Date('2026-12-02T01:00:00Z');
    const { job, status, completed } = finishedJob({ ...cron!, metadata: { ...cron!.metadata, uid: 'u-1' } }, at);
    expect(job.metadata.name).toBe(`postgres-nightly-dump-${at.getTime() / 60_000}`);
    expect(job.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'postgres-nightly-dump' });
    expect(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(
      '2026-12-02T02:00:00+01:00',
    );
    expect(
      (job.metadata as unknown as { ownerReferences: Array<{ kind: string; uid: string; controller: boolean }> })
        .ownerReferences[0],
    ).toMatchObject({ kind: 'CronJob', uid: 'u-1', controller: true });
    expect((job.spec as { managedBy: string }).managedBy).toBe('twin.k3s-lab/history');
    const st = status.status as { conditions: Array<{ type: string }>; succeeded: number; completionTime: string };
    expect(st.conditions.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect([st.succeeded, st.completionTime]).toEqual([1, completed]);
  });
});

describe("the NAS twin's snapshots", () => {
  it('each share gets #snapshot/<name>/ with a copy of its directories, once', () => {
    const nas = mkdtempSync(join(tmpdir(), 'nas-'));
    try {
      mkdirSync(join(nas, 'volume1', 'k3s', 'apps-n8n-data', 'sub'), { recursive: true });
      writeFileSync(join(nas, 'volume1', 'k3s', 'apps-n8n-data', 'sub', 'config'), 'x');
      mkdirSync(join(nas, 'volume1', 'k3s-backups'), { recursive: true });
      expect(nasShares(nas)).toEqual(['/volume1/k3s', '/volume1/k3s-backups']);
      expect(seedNasSnapshots(nas, nasShares(nas))).toEqual(['/volume1/k3s', '/volume1/k3s-backups']);
      expect(
        readFileSync(join(nas, 'volume1', 'k3s', '#snapshot', NAS_SNAPSHOT, 'apps-n8n-data', 'sub', 'config'), 'utf8'),
      ).toBe('x');
      expect(readdirSync(join(nas, 'volume1', 'k3s-backups', '#snapshot', NAS_SNAPSHOT))).toEqual([]);
      expect(seedNasSnapshots(nas, nasShares(nas))).toEqual([]);
    } finally {
      rmSync(nas, { recursive: true, force: true });
    }
  });
});
