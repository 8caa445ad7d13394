// What the lab's past runs left in the cluster, seeded at `up` (as the server's last scheduled
// etcd snapshot is, sim/k3s.ts scheduledSnapshot): the lab "ran" weekend 5 and ADR-0015, so
// postgres-backup's nightly dump is applied and last night's run succeeded.
//
// - The objects of postgres-backup's step `nightly-schedule` (its PVC, ServiceAccount, Role,
//   RoleBinding and the CronJob postgres-nightly-dump), read from the page itself and applied
//   with the runner's field manager `runbook`, as a run of that step applied them: the page's
//   own apply then answers `unchanged`.
// - The CronJob's status as the CronJob controller leaves it after a good night
//   (kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/): lastScheduleTime = the
//   schedule's last fire in its timeZone, lastSuccessfulTime = that Job's completion time.
// - That night's Job, named as the controller names it (<cronjob>-<scheduled unix minutes>,
//   owned by the CronJob, the jobTemplate's labels and the scheduled-timestamp annotation),
//   finished: SuccessCriteriaMet and Complete, succeeded 1.
//
// - The NAS's Snapshot Replication: every share of the NAS twin has a `#snapshot/<name>/` folder,
//   a copy of the share's directories, as DSM shows a snapshot over NFS once "Make snapshot
//   visible" is ticked (Synology Snapshot Replication: read-only, named GMT<offset>_<date>-<HH.MM>).
//   The twin's mount makes it read-only inside the node (sim/nfs.ts).
//
// Simulation, named: the Job carries spec.managedBy twin.k3s-lab/history, so the sandbox's
// job controller leaves it alone and starts no pod for it (a real one ran at 02:00). The
// CronJob itself is a real CronJob of the sandbox's controller-manager: its next fire is
// the next 02:00 Europe/Berlin; a rehearsal that spans it gets a real Job whose pod kwok
// runs and never finishes (no Failed condition within activeDeadlineSeconds, 1 h), so the
// checks of cluster-health and postgres-backup still pass on it.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { lastCronFire } from './sim/k3s.ts';
import { Api } from './workloads.ts';
import type { KubeObject } from './workloads-manifests.ts';

/** The page and step whose objects the lab applied (ADR-0015's nightly dump). */
export const NIGHTLY_DUMP = {
  page: fileURLToPath(new URL('../../../src/content/docs/runbooks/postgres-backup.mdx', import.meta.url)),
  step: 'nightly-schedule',
  cronJob: 'postgres-nightly-dump',
} as const;

/** The runner's field manager (runner/cluster/apply.ts FIELD_MANAGER): the objects look applied by a run. */
const RUNNER_MANAGER = 'runbook';
const MANAGED_BY = 'twin.k3s-lab/history';
/** How long the twin says last night's dump took. */
const DUMP_SECONDS = 42;

/** The YAML body of a page's ```yaml step=<id> block. */
export function stepManifests(pageText: string, step: string): KubeObject[] {
  const re = new RegExp(
    `^\`\`\`ya?ml[^\\n]*\\bstep=${step.replace(/[-]/g, '\\-')}\\b[^\\n]*\\n([\\s\\S]*?)^\`\`\``,
    'm',
  );
  const m = re.exec(pageText);
  if (!m) throw new Error(`the twin found no yaml step ${step} in ${NIGHTLY_DUMP.page}`);
  return parseAllDocuments(m[1]!)
    .map((d) => d.toJS() as KubeObject)
    .filter((o) => o?.kind);
}

/** Milliseconds the wall clock of `timeZone` is ahead of UTC at `at`. */
function zoneOffset(timeZone: string, at: Date): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/** The last time a cron schedule fired before `now`, read in `timeZone` (the CronJob's spec.timeZone). */
export function lastFireIn(cron: string, timeZone: string | undefined, now: Date): Date | undefined {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return lastCronFire(cron, now);
  const wallNow = new Date(now.getTime() + zoneOffset(timeZone, now));
  const wallFire = lastCronFire(cron, wallNow);
  if (!wallFire) return undefined;
  const guess = new Date(wallFire.getTime() - zoneOffset(timeZone, now));
  return new Date(wallFire.getTime() - zoneOffset(timeZone, guess));
}

/** RFC 3339 with the zone's offset, as the CronJob controller writes its scheduled-timestamp annotation. */
function inZone(at: Date, timeZone: string | undefined): string {
  const off = timeZone ? zoneOffset(timeZone, at) : 0;
  const wall = new Date(at.getTime() + off).toISOString().replace(/\.\d{3}Z$/, '');
  const mins = Math.round(Math.abs(off) / 60_000);
  return off === 0
    ? `${wall}Z`
    : `${wall}${off < 0 ? '-' : '+'}${String(Math.floor(mins / 60)).padStart(2, '0')}:${String(mins % 60).padStart(2, '0')}`;
}

type CronJobSpec = {
  schedule: string;
  timeZone?: string;
  jobTemplate: { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> };
};

/** The Job the CronJob controller made for the run at `at`, finished `DUMP_SECONDS` later (pure: for tests). */
export function finishedJob(
  cronJob: KubeObject & { metadata: { uid?: string } },
  at: Date,
): { job: KubeObject; status: KubeObject; completed: string } {
  const spec = cronJob.spec as CronJobSpec;
  const start = new Date(at.getTime() + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const completed = new Date(at.getTime() + DUMP_SECONDS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const meta = {
    name: `${cronJob.metadata.name}-${Math.floor(at.getTime() / 60_000)}`,
    namespace: cronJob.metadata.namespace ?? 'default',
  };
  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...meta,
      labels: { ...(spec.jobTemplate.metadata?.labels ?? {}) },
      annotations: {
        'batch.kubernetes.io/cronjob-scheduled-timestamp': inZone(at, spec.timeZone),
        'twin.k3s-lab/simulated':
          "lab twin: the Job of the CronJob's last scheduled run, finished (no pod ran; spec.managedBy keeps the job controller off it)",
      },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cronJob.metadata.name,
          uid: cronJob.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    } as KubeObject['metadata'],
    spec: { ...spec.jobTemplate.spec, managedBy: MANAGED_BY },
  };
  const cond = (type: string) => ({
    type,
    status: 'True',
    reason: 'CompletionsReached',
    message: 'Reached expected number of succeeded pods',
    lastProbeTime: completed,
    lastTransitionTime: completed,
  });
  const status: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    status: {
      startTime: start,
      completionTime: completed,
      succeeded: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
      conditions: [cond('SuccessCriteriaMet'), cond('Complete')],
    },
  };
  return { job, status, completed };
}

export interface SeededHistory {
  cronJob: string;
  lastScheduleTime: string;
  lastSuccessfulTime: string;
  job: string;
}

/** Applies the nightly dump as the lab has it (see the header); idempotent. */
export async function seedLabHistory(kubeconfig: string, now = new Date(), pageText?: string): Promise<SeededHistory> {
  const objects = stepManifests(pageText ?? readFileSync(NIGHTLY_DUMP.page, 'utf8'), NIGHTLY_DUMP.step);
  const cron = objects.find((o) => o.kind === 'CronJob' && o.metadata.name === NIGHTLY_DUMP.cronJob);
  if (!cron)
    throw new Error(
      `the twin found no CronJob ${NIGHTLY_DUMP.cronJob} in step ${NIGHTLY_DUMP.step} of ${NIGHTLY_DUMP.page}`,
    );
  const spec = cron.spec as CronJobSpec;
  const at = lastFireIn(spec.schedule, spec.timeZone, now);
  if (!at)
    throw new Error(
      `the twin cannot read the schedule "${spec.schedule}" of CronJob ${NIGHTLY_DUMP.cronJob} (it knows minute and hour fields)`,
    );
  const api = new Api(kubeconfig);
  try {
    const applied = await Promise.all(objects.map((o) => api.apply(o, undefined, RUNNER_MANAGER)));
    const cronJob = applied.find((o) => o.kind === 'CronJob')!;
    const { job, status, completed } = finishedJob(cronJob, at);
    await api.apply(job);
    await api.apply(status, 'status');
    const scheduled = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    await api.apply(
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: cronJob.metadata.name, namespace: cronJob.metadata.namespace! },
        status: { lastScheduleTime: scheduled, lastSuccessfulTime: completed },
      },
      'status',
    );
    return {
      cronJob: `${cronJob.metadata.namespace}/${cronJob.metadata.name}`,
      lastScheduleTime: scheduled,
      lastSuccessfulTime: completed,
      job: job.metadata.name,
    };
  } finally {
    api.close();
  }
}

/** The NAS snapshot the twin's shares have (the example of nfs-data-restore: the lab's snapshot of 1 March 2026, 03:00 CET). */
export const NAS_SNAPSHOT = 'GMT+01_2026-03-01-03.00';
/** The folder DSM shows a share's snapshots in. */
export const SNAPSHOT_FOLDER = '#snapshot';

/**
 * Gives every share of the NAS twin (a directory <nasDir>/<export>) its snapshot folder:
 * `#snapshot/<name>/` holding a copy of the share's directories as they are now. Returns the
 * shares it wrote; a share that already has the snapshot is left as it is.
 */
export function seedNasSnapshots(nasDir: string, exports: string[], name = NAS_SNAPSHOT): string[] {
  const done: string[] = [];
  for (const e of exports) {
    const share = join(nasDir, e.replace(/^\/+/, ''));
    const at = join(share, SNAPSHOT_FOLDER, name);
    if (!existsSync(share) || existsSync(at)) continue;
    mkdirSync(at, { recursive: true, mode: 0o755 });
    for (const d of readdirSync(share, { withFileTypes: true })) {
      if (d.name === SNAPSHOT_FOLDER || !d.isDirectory()) continue;
      cpSync(join(share, d.name), join(at, d.name), {
        recursive: true,
        preserveTimestamps: true,
        verbatimSymlinks: true,
      });
    }
    done.push(e);
  }
  return done;
}

/** The shares of the NAS twin: <volume>/<share> directories under nasDir, as its exports are laid out (sim/nfs.ts exportsOf). */
export function nasShares(nasDir: string): string[] {
  if (!existsSync(nasDir)) return [];
  return readdirSync(nasDir, { withFileTypes: true })
    .filter((v) => v.isDirectory())
    .flatMap((v) =>
      readdirSync(join(nasDir, v.name), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `/${v.name}/${d.name}`),
    );
}
