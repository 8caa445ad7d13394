import { hostname, userInfo } from 'node:os';
import type { Inventory } from '../inventory/schema.ts';
import type { Plan, StepInstance } from '../plan/plan.ts';
import type { RunRecord, StepRecord } from '../record/schema.ts';
import { type GitState, gitState } from '../git.ts';
import { recordFile } from '../record/store.ts';
import type { RunSource } from './prepare.ts';
import type { KubeView } from '../cluster/kubeconfig.ts';
import { MASK } from '../secrets/mask.ts';
import { stepFlagsOf } from '../format/step-flags.ts';

export function operatorName(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${hostname()}`;
}

function recordFlags(instance: StepInstance): StepRecord['flags'] {
  return stepFlagsOf(instance.step.attrs).map((f) => f.name);
}

/** A fresh record: every step instance of the plan, `pending` when it will run, `skipped` when --from/--only left it out. */
export function newRecord(args: {
  runId: string;
  plan: Plan;
  inventory: Inventory;
  selected: ReadonlySet<number>;
  git: GitState;
  kube?: KubeView;
  now: Date;
}): RunRecord {
  const { plan } = args;
  const p = plan.procedure;
  return {
    schemaVersion: 1,
    runId: args.runId,
    runbook: { id: p.id, title: p.title, file: p.file, kind: p.kind },
    git: args.git,
    pageHash: p.hash,
    stepHashes: Object.fromEntries(p.steps.map((s) => [s.id, s.hash])),
    // Non-secret values verbatim: resume runs with them. A secret (declared, or named like one) is never written;
    // resume reads it from the environment again.
    params: plan.params.map((param) => ({
      name: param.name,
      value: param.secret ? MASK : param.value,
      source: param.source === 'missing' ? 'default' : param.source,
      secret: param.secret,
    })),
    operator: operatorName(),
    host: hostname(),
    pid: process.pid,
    cluster: {
      ...(p.runbook?.cluster ? { name: p.runbook.cluster } : {}),
      ...(args.kube?.context ? { context: args.kube.context } : {}),
      ...(args.kube?.server ? { server: args.kube.server } : {}),
    },
    status: 'running',
    startedAt: args.now.toISOString(),
    durationMs: 0,
    resumes: [],
    steps: plan.instances.map((i) => ({
      index: i.index,
      id: i.id,
      stepId: i.step.id,
      ...(i.step.attrs.title ? { title: i.step.attrs.title } : {}),
      ...(i.node ? { node: i.node } : {}),
      hash: i.step.hash,
      line: i.step.position.start.line,
      flags: recordFlags(i),
      // Check steps always run behind the read-only shims (execute/readonly.ts); the record says so.
      ...(i.step.attrs.check ? { readOnly: true } : {}),
      status: args.selected.has(i.index) ? 'pending' : 'skipped',
      exitCode: null,
      attempts: 0,
      durationMs: 0,
      output: '',
      truncated: false,
      targets: [],
    })),
  };
}

/** A run's `open`: a new record of `runId` for the plan's selected steps, at its file under `dir`. */
export function openNewRecord(root: string, dir: string, pageId: string, runId: string): RunSource['open'] {
  return ({ plan, indices, inventory, kube }) => ({
    record: newRecord({
      runId,
      plan,
      inventory,
      selected: new Set(indices),
      git: gitState(root),
      ...(kube ? { kube } : {}),
      now: new Date(),
    }),
    file: recordFile(dir, pageId, runId),
  });
}
