import { rmSync } from 'node:fs';
import pc from 'picocolors';
import type { Procedure } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { planProcedure, type Plan } from '../plan/plan.ts';
import { loadAllCached, loadProcedureCached, resolveProcedureCached } from '../page-cache.ts';
import { assertForeignId, assertForeignRecords, isForeignFile } from '../project-files.ts';
import { projectContext, type ProjectOptions } from '../project-context.ts';
import { DEFAULT_INVENTORY } from '../inventory/load.ts';
import { isSecretParam, MASK, secretMasker } from '../secrets/mask.ts';
import { findRecord, newRunId } from '../record/store.ts';
import { statusHere } from '../record/view.ts';
import type { RunRecord, StepRecord } from '../record/schema.ts';
import type { KubeView } from '../cluster/kubeconfig.ts';
import { findRunProcesses } from '../execute/process-group.ts';
import { oneLine } from '../ui/escape.ts';
import { EXIT, UsageError } from '../errors.ts';
import { describePlan, planToJson } from '../ui/plan.ts';
import { shellCommand } from '../ui/shell-quote.ts';
import { printJson } from '../ui/json.ts';
import { openNewRecord, operatorName } from './record.ts';
import { selectInstances } from './select.ts';
import { executeSession, type Session } from './session.ts';
import { assertSameUid } from './cluster-link.ts';
import { assertPassesCheck, prepareSession, setValues, sourceMasker, withMaskedErrors } from './prepare.ts';
import { assertRunnable } from '../plan/runnable.ts';

export interface RunOptions extends ProjectOptions {
  json?: boolean;
  set?: string[];
  yes?: boolean;
  dryRun?: boolean;
  from?: string;
  only?: string;
  context?: string;
  force?: boolean;
}

/** `runbook run`: plan, check every precondition, then execute (or print, with --dry-run). */
export async function startRun(ref: string, opts: RunOptions): Promise<number> {
  const ctx = projectContext(opts);
  const procedure = await resolveProcedureCached(ctx.root, ref);
  if (isForeignFile(procedure.file)) {
    assertForeignId(procedure, await loadAllCached(ctx.root));
    if (!opts.dryRun) assertForeignRecords(procedure, opts.records);
  }
  const masker = secretMasker([], process.env);
  return withMaskedErrors(masker, async () => {
    const sets = setValues(opts.set);
    return withMaskedErrors(sourceMasker(procedure, sets, process.env), async () => {
      if (opts.dryRun) return dryRun(procedure, ctx.loadInventory().inventory, sets, opts);
      const dir = await ctx.records('write');
      const runId = newRunId(procedure.id);
      const session = await prepareSession(
        ctx,
        {
          procedure,
          sets,
          paramEnv: process.env,
          select: (plan) => selectInstances(plan, opts),
          open: openNewRecord(ctx.root, dir, procedure.id, runId),
          resumeCommand: resumeCommand(runId, opts),
        },
        opts,
      );
      return runSession(session);
    });
  });
}

/**
 * `runbook resume`: continues a failed or interrupted run at the step where it
 * stopped, in the same record, with the values it started with: non-secret params
 * exactly as recorded, secrets read again from the environment.
 */
export async function resumeRun(runId: string, opts: RunOptions): Promise<number> {
  const ctx = projectContext(opts);
  const { file, record } = findRecord(await ctx.records('write'), runId);
  const status = statusHere(record);
  if (status === 'running') {
    throw new UsageError(
      `run ${runId} is still running (pid ${record.pid} on ${record.host}); wait for it or stop it first`,
    );
  }
  if (status === 'succeeded') {
    throw new UsageError(`run ${runId} succeeded: nothing to resume. Start a new run with \`${runCommand(record)}\`.`);
  }
  assertNoLeftovers(runId);
  const procedure = await loadProcedureCached(ctx.root, record.runbook.file);
  const { sets, paramEnv } = recordedParams(record, procedure);
  return withMaskedErrors(sourceMasker(procedure, sets, paramEnv), async () => {
    const session = await prepareSession(
      ctx,
      {
        procedure,
        sets,
        paramEnv,
        select: (plan) => remainingSteps(record, plan, opts.force === true),
        check: (kube, link) => {
          sameClusterAsBefore(record, kube);
          if (link) assertSameUid(record, link);
        },
        open: ({ plan, indices, kube }) => {
          const from = plan.instances[indices[0]! - 1]!.id;
          record.resumes.push({ at: new Date().toISOString(), from, pid: process.pid, operator: operatorName() });
          Object.assign(record, { status: 'running', pid: process.pid });
          delete record.endedAt;
          if (kube?.context) {
            record.cluster = {
              ...record.cluster,
              context: kube.context,
              ...(kube.server ? { server: kube.server } : {}),
            };
          }
          return { record, file };
        },
        resumeCommand: resumeCommand(runId, opts),
      },
      opts,
    );
    return runSession(session);
  });
}

/** A resume never starts a second copy beside a step of the earlier attempt that is still running. */
function assertNoLeftovers(runId: string): void {
  const alive = findRunProcesses(runId);
  if (alive.length === 0) return;
  const list = alive.map((p) => `pid ${p.pid} (${oneLine(p.command).slice(0, 80) || '?'})`).join(', ');
  const kill = shellCommand(['kill', ...alive.map((p) => String(p.pid))]);
  throw new UsageError(
    `run ${runId} still has processes of its earlier attempt: ${list}. Wait for them or stop them (\`${kill}\`), then resume again.`,
  );
}

/**
 * The values a resume runs with: every non-secret param as the record has it (and
 * nothing from the environment, so a variable exported since cannot change the run),
 * secrets from the environment again, since records never hold them.
 */
function recordedParams(
  record: RunRecord,
  procedure: Procedure,
): { sets: Record<string, string>; paramEnv: NodeJS.ProcessEnv } {
  const specs = procedure.runbook?.params ?? {};
  const secret = (name: string) =>
    record.params.some((p) => p.name === name && p.secret) ||
    (Object.hasOwn(specs, name) && isSecretParam(name, specs[name]!));
  const sets: Record<string, string> = {};
  for (const p of record.params) {
    if (secret(p.name)) {
      if (p.source !== 'default' && !process.env[p.name]) {
        throw new UsageError(
          `param ${p.name} is secret and records never keep secrets: export ${p.name}=… and resume again`,
        );
      }
      continue;
    }
    // Records written before masking was fixed may hold a masked copy of a plain value: running with it would be wrong.
    if (p.value.includes(MASK)) {
      throw new UsageError(
        `param ${p.name} was recorded masked (${p.value}), so its value is lost; start a new run: \`${runCommand(record)} --set ${p.name}=…\``,
      );
    }
    sets[p.name] = p.value;
  }
  const paramEnv = Object.fromEntries(
    Object.keys(specs)
      .filter(secret)
      .map((name) => [name, process.env[name]]),
  );
  return { sets, paramEnv };
}

const sameServer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** A resume continues against the cluster the run started on, even if the inventory and the kubeconfig both moved. */
function sameClusterAsBefore(record: RunRecord, kube: KubeView | undefined): void {
  const before = record.cluster.server;
  if (!before || !kube?.server || sameServer(before, kube.server)) return;
  throw new UsageError(
    `run ${record.runId} ran against ${before} (context ${record.cluster.context ?? '?'}), but the kube context now points at ` +
      `${kube.server}: resume it against the same cluster, or start a new run`,
  );
}

/** The steps a resume runs: from the first one that did not finish well, skipping those --from/--only left out. */
function remainingSteps(record: RunRecord, plan: Plan, force: boolean): number[] {
  const ids = plan.instances.map((i) => i.id);
  const recorded = record.steps.map((s) => s.id);
  if (ids.join('\n') !== recorded.join('\n')) {
    throw new UsageError(
      `the plan of ${record.runbook.file} changed since run ${record.runId} started (steps added, removed or moved, or the ` +
        `inventory changed): it cannot be resumed; start a new run with \`${runCommand(record)} --from <step>\``,
    );
  }
  const finished = (s: StepRecord) =>
    s.status === 'succeeded' ||
    s.status === 'skipped' ||
    (!['pending', 'running', 'interrupted'].includes(s.status) && s.flags.includes('continue-on-error'));
  const start = record.steps.findIndex((s) => !finished(s));
  if (start < 0) throw new UsageError(`run ${record.runId} has no step left to run`);
  const todo = record.steps.slice(start).filter((s) => s.status !== 'skipped');
  const changed = todo.filter((s) => s.hash !== plan.instances[s.index - 1]!.step.hash);
  if (changed.length && !force) {
    const line = (s: StepRecord) => plan.instances[s.index - 1]!.step.position.start.line;
    const list = changed.map((s) => `  ${s.index}. ${s.id} (now line ${line(s)})`).join('\n');
    throw new UsageError(
      `these steps changed since run ${record.runId} started:\n${list}\nReview ${record.runbook.file}, then pass --force to resume with the new text.`,
    );
  }
  for (const s of changed) {
    s.hash = plan.instances[s.index - 1]!.step.hash;
    record.stepHashes[s.stepId] = s.hash;
  }
  return todo.map((s) => s.index);
}

async function dryRun(
  procedure: Procedure,
  inventory: Inventory,
  sets: Record<string, string>,
  opts: RunOptions,
): Promise<number> {
  assertRunnable(procedure);
  await assertPassesCheck(procedure, inventory);
  const { plan, problems } = planProcedure(procedure, inventory, { sets, lenient: true });
  // Missing required params are expected in a dry run (CI has no values); anything else is a real problem.
  const missing = plan?.params.filter((p) => p.source === 'missing').map((p) => p.name) ?? [];
  const fatal = problems.filter((p) => !('name' in p && missing.includes(p.name)));
  if (!plan || fatal.length) {
    throw new UsageError(
      `${procedure.file}: the plan cannot be built:\n${fatal.map((p) => `  ${p.message}`).join('\n')}`,
    );
  }
  const indices = selectInstances(plan, opts);
  const cluster = procedure.runbook?.cluster;
  const notes = [
    ...(indices.length < plan.instances.length
      ? [`a real run executes ${indices.length} of ${plan.instances.length} steps: ${indices.join(', ')}`]
      : []),
    ...missing.map(
      (name) => `param ${name} is required: a real run needs --set ${name}=… (or the environment variable)`,
    ),
    ...(cluster
      ? [
          `kube context check skipped: a real run requires context "${inventory.cluster.context}" (${inventory.cluster.server})`,
        ]
      : []),
  ];
  const masker = secretMasker(plan.params, process.env);
  if (opts.json) {
    const json = { dryRun: true, ...planToJson(plan, inventory), selected: indices, notes };
    printJson(json, masker.mask);
    return EXIT.ok;
  }
  process.stdout.write(masker.mask(describePlan(plan, inventory)));
  const noteLines = notes.map((n) => `  ${pc.dim('·')} ${n}\n`).join('');
  process.stdout.write(`\n${pc.bold('Dry run: nothing was executed.')}\n${noteLines}`);
  return EXIT.ok;
}

/** Runs a prepared session; its temp folder (a copy of kube credentials) goes even when the session refuses to start. */
async function runSession(session: Session): Promise<number> {
  try {
    return await executeSession(session);
  } finally {
    if (session.tempDir) rmSync(session.tempDir, { recursive: true, force: true });
  }
}

const runCommand = (record: RunRecord) => shellCommand(['runbook', 'run', record.runbook.id]);

/** The command that continues this run, flags included, quoted for copying. */
export function resumeCommand(runId: string, opts: RunOptions): string {
  return shellCommand([
    'runbook',
    'resume',
    runId,
    ...(opts.records ? ['--records', opts.records] : []),
    ...(opts.inventory && opts.inventory !== DEFAULT_INVENTORY ? ['--inventory', opts.inventory] : []),
    ...(opts.context ? ['--context', opts.context] : []),
  ]);
}
