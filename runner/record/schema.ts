import { z } from 'zod';
import { snapshotSlotSchema } from './snapshot.ts';
import { STEP_FLAG_NAMES } from '../format/step-flags.ts';

/**
 * The run record: one JSON file per run under src/content/runs/<runbook-id>/.
 * Written by the runner (atomically, after every step) and read by the site's
 * `runs` collection, so this schema is the contract between the two.
 */

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'interrupted'] as const;
export const STEP_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'timed-out',
  'interrupted',
  'skipped',
] as const;

export const targetResultSchema = z.object({
  /** `local` or the node name. */
  target: z.string(),
  /** The ssh destination for node targets, e.g. `tom@192.168.2.20:22`. */
  address: z.string().optional(),
  status: z.enum(STEP_STATUSES),
  exitCode: z.number().int().nullable(),
  attempts: z.number().int().min(0),
  durationMs: z.number().min(0),
  /** The last bytes of combined stdout/stderr, secrets masked. */
  output: z.string(),
  truncated: z.boolean().default(false),
  error: z.string().optional(),
});

export const stepRecordSchema = z.object({
  index: z.number().int().min(1),
  /** Instance id: `<step>` or `<step>@<node>` inside a ForEach. */
  id: z.string(),
  stepId: z.string(),
  title: z.string().optional(),
  node: z.string().optional(),
  hash: z.string(),
  line: z.number().int().optional(),
  flags: z.array(z.enum(STEP_FLAG_NAMES)).default([]),
  status: z.enum(STEP_STATUSES),
  exitCode: z.number().int().nullable(),
  attempts: z.number().int().min(0),
  durationMs: z.number().min(0),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  output: z.string().default(''),
  truncated: z.boolean().default(false),
  error: z.string().optional(),
  targets: z.array(targetResultSchema).default([]),
  /** The step ran with kubectl/helm refusing mutating verbs (check steps). */
  readOnly: z.boolean().optional(),
  /** An `apply` step's objects, as server-side apply answered for each (field manager `runbook`). */
  applied: z
    .array(
      z.object({
        apiVersion: z.string(),
        kind: z.string(),
        namespace: z.string().optional(),
        name: z.string(),
        result: z.enum(['created', 'configured', 'unchanged', 'failed']),
        error: z.string().optional(),
      }),
    )
    .optional(),
  /** How many more objects the apply step had than `applied` keeps (200, failures first). */
  appliedOmitted: z.number().int().min(1).optional(),
});

/**
 * A fault of the lab twin that was active during a rehearsal, as the twin lists it in
 * ConfigMap kube-system/lab-twin (scripts/sandbox-lib/twin/faults.ts). Kind-specific
 * options (delaySeconds, version, how) are kept as the twin wrote them.
 */
export const rehearsalFaultSchema = z
  .object({
    kind: z.string(),
    node: z.string().optional(),
    since: z.string(),
    until: z.string().optional(),
  })
  .catchall(z.unknown());

export const runRecordSchema = z.object({
  schemaVersion: z.literal(1),
  runId: z.string(),
  runbook: z.object({
    id: z.string(),
    title: z.string(),
    /** Source path relative to the project root. */
    file: z.string(),
    kind: z.enum(['runbook', 'adr', 'weekend', 'page']).default('runbook'),
  }),
  git: z.object({ commit: z.string().nullable(), dirty: z.boolean() }),
  pageHash: z.string(),
  stepHashes: z.record(z.string(), z.string()),
  params: z.array(
    z.object({ name: z.string(), value: z.string(), source: z.enum(['set', 'env', 'default']), secret: z.boolean() }),
  ),
  operator: z.string(),
  host: z.string(),
  pid: z.number().int(),
  cluster: z.object({
    name: z.string().optional(),
    context: z.string().optional(),
    server: z.string().optional(),
    /** The kube-system namespace UID the API answered with: the cluster's identity (runner/cluster/identity.ts). */
    uid: z.string().optional(),
    /** pinned: it matched the inventory's cluster.uid; unpinned: the inventory has none yet; unreachable: the API did not answer (allowed for `api: optional` runbooks). */
    identity: z.enum(['pinned', 'unpinned', 'unreachable']).optional(),
    /** Why the identity could not be confirmed (identity `unreachable`). */
    error: z.string().optional(),
  }),
  /**
   * Set when the cluster was the lab twin (`scripts/sandbox up`: it publishes kube-system/lab-twin): the run was a
   * rehearsal, never evidence about the lab; `faults` are the twin's faults active while it ran.
   */
  rehearsal: z.object({ twin: z.literal(true), faults: z.array(rehearsalFaultSchema).default([]) }).optional(),
  /** The cluster-wide Lease this run held (medium and high risk runs), and whom it took an expired one from. */
  lease: z
    .object({
      namespace: z.string(),
      name: z.string(),
      takenOver: z.object({ holder: z.string(), renewedAt: z.string().optional() }).optional(),
      /** Set when another holder took the lease mid-run: the run stopped before its next step. */
      lost: z.string().optional(),
    })
    .optional(),
  /** The cluster just before the first step and just after the last (runner/record/snapshot.ts). */
  snapshots: z.object({ before: snapshotSlotSchema.optional(), after: snapshotSlotSchema.optional() }).optional(),
  status: z.enum(RUN_STATUSES),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  durationMs: z.number().min(0).optional(),
  /** Each resume appends here; the steps array keeps the latest result per instance. */
  resumes: z
    .array(z.object({ at: z.string(), from: z.string(), pid: z.number().int(), operator: z.string() }))
    .default([]),
  steps: z.array(stepRecordSchema),
});

export type RunRecord = z.infer<typeof runRecordSchema>;
export type StepRecord = z.infer<typeof stepRecordSchema>;
export type TargetResult = z.infer<typeof targetResultSchema>;
export type RehearsalFault = z.infer<typeof rehearsalFaultSchema>;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type StepStatus = (typeof STEP_STATUSES)[number];
