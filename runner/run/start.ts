import pc from 'picocolors';
import type { Procedure } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { planProcedure, type Plan, type StepInstance } from '../plan/plan.ts';
import { parseSetArgs } from '../plan/params.ts';
import { loadProcedure, resolveProcedure } from '../project.ts';
import { context, type CommonOptions } from '../commands/options.ts';
import { DEFAULT_INVENTORY } from '../inventory/load.ts';
import { contextMismatch, pinContext, readKubeconfig, type KubeView } from '../cluster/kubeconfig.ts';
import { unsupportedTarget } from '../execute/executors.ts';
import { createMasker, secretValues, SECRET_NAME, type Masker } from '../secrets/mask.ts';
import { findRecord, newRunId, recordFile, recordsDir, statusHere } from '../record/store.ts';
import type { RunRecord, StepRecord } from '../record/schema.ts';
import { gitState } from '../git.ts';
import { EXIT, UsageError } from '../errors.ts';
import { describePlan, planToJson } from '../ui/plan.ts';
import { confirmationGate } from './confirm.ts';
import { newRecord, operatorName } from './record.ts';
import { selectInstances } from './select.ts';
import { executeSession, makeTempDir } from './session.ts';

export interface RunOptions extends CommonOptions {
  yes?: boolean;
  dryRun?: boolean;
  from?: string;
  only?: string;
  context?: string;
  force?: boolean;
}

/** `runbook run`: plan, check every precondition, then execute (or print, with --dry-run). */
export async function startRun(ref: string, opts: RunOptions): Promise<number> {
  const ctx = context(opts);
  const sets = parseSetArgs(opts.set ?? []);
  const procedure = resolveProcedure(ctx.root, ref);
  return withMaskedErrors(earlyMasker(procedure, sets.values), async () => {
    assertNoErrors(procedure);
    if (sets.problems.length) throw new UsageError(sets.problems.map((p) => p.message).join('\n'));
    const { file: inventoryFile, inventory } = ctx.loadInventory();
    if (opts.dryRun) return dryRun(procedure, inventory, sets.values, opts);

    const plan = strictPlan(procedure, inventory, sets.values);
    const indices = selectInstances(plan, opts);
    const selected = indices.map((i) => plan.instances[i - 1]!);
    assertReachable(selected);
    const kube = guardContext(procedure, inventory, inventoryFile, opts.context);
    confirmationGate(selected, { yes: opts.yes === true, interactive: process.stdin.isTTY === true });

    const { env, masker, tempDir } = stepEnvironment(plan, opts.context);
    const runId = newRunId(procedure.id);
    const dir = recordsDir(ctx.root, opts.records);
    const record = newRecord({ runId, plan, inventory, selected: new Set(indices), git: gitState(ctx.root), ...(kube ? { kube } : {}), masker, now: new Date() });
    return executeSession({
      root: ctx.root, plan, record, file: recordFile(dir, procedure.id, runId), indices, env, masker,
      yes: opts.yes === true, json: opts.json === true, resumeCommand: resumeCommand(runId, opts), ...(tempDir ? { tempDir } : {}),
    });
  });
}

/**
 * `runbook resume`: continues a failed or interrupted run at the step where it
 * stopped, with the params it started with (secrets read again from the
 * environment), in the same record.
 */
export async function resumeRun(runId: string, opts: RunOptions): Promise<number> {
  const ctx = context(opts);
  const dir = recordsDir(ctx.root, opts.records);
  const { file, record } = findRecord(dir, runId);
  const status = statusHere(record);
  if (status === 'running') throw new UsageError(`run ${runId} is still running (pid ${record.pid} on ${record.host}); wait for it or stop it first`);
  if (status === 'succeeded') throw new UsageError(`run ${runId} succeeded: nothing to resume. Start a new run with \`runbook run ${record.runbook.id}\`.`);

  const procedure = loadProcedure(ctx.root, record.runbook.file);
  const sets = Object.fromEntries(record.params.filter((p) => !p.secret).map((p) => [p.name, p.value]));
  return withMaskedErrors(earlyMasker(procedure, sets), async () => {
    assertNoErrors(procedure);
    for (const p of record.params) {
      if (p.secret && p.source !== 'default' && !process.env[p.name]) {
        throw new UsageError(`param ${p.name} is secret and records never keep secrets: export ${p.name}=… and resume again`);
      }
    }
    const { file: inventoryFile, inventory } = ctx.loadInventory();
    const plan = strictPlan(procedure, inventory, sets);
    const indices = remainingSteps(record, plan, opts.force === true);
    const selected = indices.map((i) => plan.instances[i - 1]!);
    assertReachable(selected);
    const kube = guardContext(procedure, inventory, inventoryFile, opts.context);
    confirmationGate(selected, { yes: opts.yes === true, interactive: process.stdin.isTTY === true });

    const { env, masker, tempDir } = stepEnvironment(plan, opts.context);
    const resumedAt = new Date().toISOString();
    record.resumes.push({ at: resumedAt, from: plan.instances[indices[0]! - 1]!.id, pid: process.pid, operator: operatorName() });
    Object.assign(record, { status: 'running', pid: process.pid });
    delete record.endedAt;
    if (kube?.context) record.cluster = { ...record.cluster, context: kube.context, ...(kube.server ? { server: kube.server } : {}) };
    return executeSession({
      root: ctx.root, plan, record, file, indices, env, masker,
      yes: opts.yes === true, json: opts.json === true, resumeCommand: resumeCommand(runId, opts), ...(tempDir ? { tempDir } : {}),
    });
  });
}

/** The steps a resume runs: from the first one that did not finish well, skipping those --from/--only left out. */
function remainingSteps(record: RunRecord, plan: Plan, force: boolean): number[] {
  const ids = plan.instances.map((i) => i.id);
  const recorded = record.steps.map((s) => s.id);
  if (ids.join('\n') !== recorded.join('\n')) {
    throw new UsageError(
      `the plan of ${record.runbook.file} changed since run ${record.runId} started (steps added, removed or moved, or the inventory changed): it cannot be resumed; start a new run with \`runbook run ${record.runbook.id} --from <step>\``,
    );
  }
  const finished = (s: StepRecord) => s.status === 'succeeded' || s.status === 'skipped' || (s.status !== 'pending' && s.status !== 'running' && s.status !== 'interrupted' && s.flags.includes('continue-on-error'));
  const start = record.steps.findIndex((s) => !finished(s));
  if (start < 0) throw new UsageError(`run ${record.runId} has no step left to run`);
  const todo = record.steps.slice(start).filter((s) => s.status !== 'skipped');
  const changed = todo.filter((s) => s.hash !== plan.instances[s.index - 1]!.step.hash);
  if (changed.length && !force) {
    const list = changed.map((s) => `  ${s.index}. ${s.id} (now line ${plan.instances[s.index - 1]!.step.position.start.line})`).join('\n');
    throw new UsageError(`these steps changed since run ${record.runId} started:\n${list}\nReview ${record.runbook.file}, then pass --force to resume with the new text.`);
  }
  for (const s of changed) {
    s.hash = plan.instances[s.index - 1]!.step.hash;
    record.stepHashes[s.stepId] = s.hash;
  }
  return todo.map((s) => s.index);
}

function dryRun(procedure: Procedure, inventory: Inventory, sets: Record<string, string>, opts: RunOptions): number {
  const { plan, problems } = planProcedure(procedure, inventory, { sets, lenient: true });
  // Missing required params are expected in a dry run (CI has no values); anything else is a real problem.
  const missing = plan?.params.filter((p) => p.source === 'missing').map((p) => p.name) ?? [];
  const fatal = problems.filter((p) => !('name' in p && missing.includes(p.name)));
  if (!plan || fatal.length) throw new UsageError(`${procedure.file}: the plan cannot be built:\n${fatal.map((p) => `  ${p.message}`).join('\n')}`);
  const indices = selectInstances(plan, opts);
  const cluster = procedure.runbook?.cluster;
  const notes = [
    ...(indices.length < plan.instances.length ? [`a real run executes ${indices.length} of ${plan.instances.length} steps: ${indices.join(', ')}`] : []),
    ...missing.map((name) => `param ${name} is required: a real run needs --set ${name}=… (or the environment variable)`),
    ...(cluster ? [`kube context check skipped: a real run requires context "${inventory.cluster.context}" (${inventory.cluster.server})`] : []),
  ];
  // A param named like a secret (API_TOKEN) is shown masked even when not declared `secret`.
  const { masker } = stepEnvironment(plan);
  if (opts.json) {
    const json = { dryRun: true, ...planToJson(plan, inventory), selected: indices, notes };
    process.stdout.write(`${JSON.stringify(json, (_key, v: unknown) => (typeof v === 'string' ? masker.mask(v) : v), 2)}\n`);
    return EXIT.ok;
  }
  process.stdout.write(masker.mask(describePlan(plan, inventory)));
  process.stdout.write(`\n${pc.bold('Dry run: nothing was executed.')}\n${notes.map((n) => `  ${pc.dim('·')} ${n}`).join('\n')}${notes.length ? '\n' : ''}`);
  return EXIT.ok;
}

function assertNoErrors(procedure: Procedure): void {
  const errors = procedure.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return;
  throw new UsageError(
    `${procedure.file} has ${errors.length} error${errors.length > 1 ? 's' : ''}; fix them first (runbook check shows them all):\n${errors.map((d) => `  ${d.file}:${d.line}:${d.column}  ${d.rule}  ${d.message}`).join('\n')}`,
  );
}

function strictPlan(procedure: Procedure, inventory: Inventory, sets: Record<string, string>): Plan {
  const { plan, problems } = planProcedure(procedure, inventory, { sets });
  if (!plan || problems.length) throw new UsageError(`${procedure.file}: cannot run:\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
  return plan;
}

/** Remote steps cannot half-run: refuse the whole plan before anything executes. */
function assertReachable(instances: readonly StepInstance[]): void {
  const blocked = instances.flatMap((i) => i.targets.map((t) => ({ i, why: unsupportedTarget(t) })).filter((x) => x.why));
  if (blocked.length === 0) return;
  const list = blocked.map(({ i, why }) => `  ${i.index}. ${i.id}: ${why}`).join('\n');
  throw new UsageError(`this plan has remote steps, and this runner executes local steps only for now:\n${list}\nNothing was run. (--only <step> runs a local step on its own.)`);
}

/** The context guard, for runbooks that name their cluster. */
function guardContext(procedure: Procedure, inventory: Inventory, inventoryFile: string, contextOverride?: string): KubeView | undefined {
  const cluster = procedure.runbook?.cluster;
  if (!cluster) return undefined;
  if (cluster !== inventory.cluster.name) {
    throw new UsageError(`${procedure.file} is for cluster "${cluster}", but ${inventoryFile} describes cluster "${inventory.cluster.name}"; pass --inventory with that cluster's inventory`);
  }
  let view: KubeView;
  try {
    view = readKubeconfig(process.env, contextOverride);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const problem = contextMismatch(inventory.cluster, view, inventoryFile);
  if (problem) throw new UsageError(`refusing to run ${procedure.id}: ${problem}`);
  return view;
}

/** Params as environment variables, the masker for everything the steps receive, and the pinned kube context. */
function stepEnvironment(plan: Plan, contextOverride?: string): { env: Record<string, string>; masker: Masker; tempDir?: string } {
  const env: Record<string, string> = Object.fromEntries(plan.params.map((p) => [p.name, p.value]));
  const masker = createMasker(secretValues(plan.params, { ...process.env, ...env }));
  if (!contextOverride) return { env, masker };
  const tempDir = makeTempDir();
  return { env: { ...env, ...pinContext(contextOverride, tempDir) }, masker, tempDir };
}

/** Hides secrets given on the command line or in the environment from error messages, before the plan exists. */
function earlyMasker(procedure: Procedure, sets: Record<string, string>): Masker {
  const declared = procedure.runbook?.params ?? {};
  const values = Object.entries(sets).filter(([name]) => declared[name]?.secret || SECRET_NAME.test(name)).map(([, v]) => v);
  for (const [name, spec] of Object.entries(declared)) if (spec.secret && process.env[name]) values.push(process.env[name]!);
  return createMasker([...values, ...secretValues([], process.env)]);
}

async function withMaskedErrors<T>(masker: Masker, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error) err.message = masker.mask(err.message);
    throw err;
  }
}

function resumeCommand(runId: string, opts: RunOptions): string {
  const flags = [
    ...(opts.records ? [`--records ${opts.records}`] : []),
    ...(opts.inventory && opts.inventory !== DEFAULT_INVENTORY ? [`--inventory ${opts.inventory}`] : []),
    ...(opts.context ? [`--context ${opts.context}`] : []),
  ];
  return ['runbook resume', runId, ...flags].join(' ');
}
