import { rmSync } from 'node:fs';
import pc from 'picocolors';
import type { Procedure } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { planProcedure, type Plan, type StepInstance } from '../plan/plan.ts';
import { parseSetArgs, resolveParams } from '../plan/params.ts';
import type { ProjectContext } from '../project-context.ts';
import { contextMismatch, readKubeconfig, type KubeView } from '../cluster/kubeconfig.ts';
import { writePinnedKubeconfig } from '../cluster/pin.ts';
import { unsupportedTarget } from '../execute/executors.ts';
import { secretMasker, MASK, type Masker } from '../secrets/mask.ts';
import type { RunRecord } from '../record/schema.ts';
import { UsageError } from '../errors.ts';
import { assertRunnable } from '../plan/runnable.ts';
import { oneLine } from '../ui/escape.ts';
import { table } from '../ui/table.ts';
import { confirmationGate } from './confirm.ts';
import { makeTempDir, type Session } from './session.ts';
import { linkCluster, recordIdentity, type ClusterLink } from './cluster-link.ts';

/**
 * What a run and a resume share, in one order: plan → select → reachable →
 * context → confirm → environment → session. They differ only in where the
 * param values come from and in the record: a new one, or the earlier run's.
 */

export interface PrepareOptions {
  yes?: boolean;
  json?: boolean;
  context?: string;
  /** Pages that name no cluster (ADRs, weekends) are about the inventory's cluster too: guard and identity apply (verify). */
  assumeCluster?: boolean;
  /** Where messages before the first step go (the params, notes); default stdout (stderr with --json). */
  out?: NodeJS.WriteStream;
}

export interface RunSource {
  procedure: Procedure;
  /** Param values for this session: --set (run), or the values the run started with (resume). */
  sets: Record<string, string>;
  /** Where params without a value are looked up: the environment (run); only secret names (resume). */
  paramEnv: NodeJS.ProcessEnv;
  /** The plan indices to run now. */
  select(plan: Plan): number[];
  /** Refuses what only this kind of session must refuse, once the cluster is known (a resume: another cluster). */
  check?(kube: KubeView | undefined, link: ClusterLink | undefined): void;
  /** The record to write: new for a run, the earlier one reopened for a resume. */
  open(args: { plan: Plan; indices: number[]; inventory: Inventory; kube?: KubeView }): {
    record: RunRecord;
    file: string;
  };
  resumeCommand: string;
}

/** `--set` values, or a UsageError listing every malformed, reserved or repeated one. */
export function setValues(sets: readonly string[] | undefined): Record<string, string> {
  const parsed = parseSetArgs([...(sets ?? [])]);
  if (parsed.problems.length) throw new UsageError(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.values;
}

/** The masker a session uses from the start: every message before the plan exists is masked as the run's output is. */
export function sourceMasker(procedure: Procedure, sets: Record<string, string>, paramEnv: NodeJS.ProcessEnv): Masker {
  const { params } = resolveParams(procedure.runbook?.params ?? {}, sets, paramEnv, true);
  return secretMasker(params, process.env);
}

export async function withMaskedErrors<T>(masker: Masker, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error) err.message = masker.mask(err.message);
    throw err;
  }
}

export async function prepareSession(ctx: ProjectContext, source: RunSource, opts: PrepareOptions): Promise<Session> {
  const { procedure } = source;
  assertRunnable(procedure);
  const { file: inventoryFile, inventory } = ctx.loadInventory();
  // client-node takes ~0.3 s to load: start now, so it loads while the page is linted (the shell parser compiles off-thread).
  if (procedure.runbook?.cluster || opts.assumeCluster) prefetchClusterClient(opts.context);
  await assertPassesCheck(procedure, inventory);
  const plan = strictPlan(procedure, inventory, source.sets, source.paramEnv);
  const indices = source.select(plan);
  const selected = indices.map((i) => plan.instances[i - 1]!);
  assertReachable(selected);
  // Local steps that must run in the twin's operator namespace: a stale or foreign one refuses the run now.
  if (selected.some((i) => i.targets.some((t) => t.kind === 'local'))) {
    const { stepNamespace } = await import('../execute/step-namespace.ts');
    stepNamespace();
  }
  const kube = guardContext(procedure, inventory, inventoryFile, opts.context, opts.assumeCluster);
  const link = kube ? await linkCluster(procedure, inventory, inventoryFile, kube) : undefined;
  source.check?.(kube, link);
  confirmationGate(selected, { yes: opts.yes === true, interactive: process.stdin.isTTY === true });
  const masker = secretMasker(plan.params, process.env);

  const tempDir = kube?.entries ? makeTempDir() : undefined;
  try {
    const pinned = tempDir ? pinKubeconfig(plan, kube!, tempDir) : plan;
    const { record, file } = source.open({ plan: pinned, indices, inventory, ...(kube ? { kube } : {}) });
    if (link) {
      record.cluster.name ??= inventory.cluster.name; // a page that names no cluster ran against the inventory's (verify)
      recordIdentity(record, link);
    }
    const out = opts.out ?? (opts.json ? process.stderr : process.stdout);
    if (link?.note) out.write(`${pc.yellow('note')} ${masker.mask(link.note)}\n`);
    printParams(pinned, masker, out);
    return {
      root: ctx.root,
      plan: pinned,
      record,
      file,
      indices,
      env: paramEnv(pinned),
      masker,
      ...(opts.out ? { out: opts.out } : {}),
      yes: opts.yes === true,
      json: opts.json === true,
      resumeCommand: source.resumeCommand,
      ...(tempDir ? { tempDir } : {}),
      ...(link ? { cluster: { link, name: inventory.cluster.name, lease: needsLease(procedure, selected) } } : {}),
    };
  } catch (err) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
}

/** Loads the client library early, but only when something listens at the server (an API that is down never needs it). */
function prefetchClusterClient(contextOverride: string | undefined): void {
  let server: string | undefined;
  try {
    server = readKubeconfig(process.env, contextOverride).server;
  } catch {
    return; // the guard says what is wrong with the kubeconfig, in its turn
  }
  if (!server) return;
  import('../cluster/api.ts')
    .then(async (m) => ((await m.probeServer(server)) ? undefined : m.loadClientLibrary()))
    .catch(() => {}); // a failure shows again where it is awaited
}

/**
 * `run` executes only what `check` accepts: a destructive command without `confirm`, a check step
 * that writes, a node the inventory lacks are refusals here too, not just lint. So a page that
 * skipped CI (a local edit, a file from elsewhere) cannot run `rm -f -r` unasked. The rules load
 * the shell parser, so this is imported on use.
 */
export async function assertPassesCheck(procedure: Procedure, inventory: Inventory): Promise<void> {
  const { checkProcedure } = await import('../check/lint.ts');
  const errors = checkProcedure(procedure, inventory).filter((d) => d.severity === 'error');
  if (errors.length === 0) return;
  const list = errors.map((d) => `  ${d.file}:${d.line}:${d.column}  ${d.rule}  ${d.message}`).join('\n');
  throw new UsageError(
    `refusing to run ${procedure.file}: runbook check finds ${errors.length} error${errors.length > 1 ? 's' : ''}; nothing was run:\n${list}`,
  );
}

export function strictPlan(
  procedure: Procedure,
  inventory: Inventory,
  sets: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Plan {
  const { plan, problems } = planProcedure(procedure, inventory, { sets, env });
  if (!plan || problems.length) {
    throw new UsageError(`${procedure.file}: cannot run:\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
  }
  if (plan.instances.length === 0) {
    const left = plan.skipped.map((s) => `${s.step.id} (${s.reason})`).join(', ');
    throw new UsageError(
      `${procedure.file}: the plan has no steps with these params${left ? `; left out: ${left}` : ''}; nothing to run`,
    );
  }
  return plan;
}

/** Steps on nodes cannot half-run: when one cannot be reached, the whole plan is refused before anything executes. */
function assertReachable(instances: readonly StepInstance[]): void {
  const blocked = instances.flatMap((i) =>
    i.targets.map((t) => ({ i, why: unsupportedTarget(t) })).filter((x) => x.why),
  );
  if (blocked.length === 0) return;
  const list = blocked.map(({ i, why }) => `  ${i.index}. ${i.id}: ${why}`).join('\n');
  throw new UsageError(
    `these steps cannot reach their node:\n${list}\nNothing was run. (--only <step> runs a local step on its own.)`,
  );
}

/**
 * The cluster-wide lock is for runs that may change the cluster: every medium- or high-risk run,
 * and any run with a step that is not a read-only check. A low-risk sweep of checks never waits for it.
 */
function needsLease(procedure: Procedure, selected: readonly StepInstance[]): boolean {
  const risk = procedure.runbook?.risk ?? 'low';
  return risk !== 'low' || selected.some((i) => !i.step.attrs.check);
}

/** The context guard, for runbooks that name their cluster (and, with assumeCluster, for every page). */
function guardContext(
  procedure: Procedure,
  inventory: Inventory,
  inventoryFile: string,
  contextOverride?: string,
  assumeCluster = false,
): KubeView | undefined {
  const cluster = procedure.runbook?.cluster ?? (assumeCluster ? inventory.cluster.name : undefined);
  if (!cluster) return undefined;
  if (cluster !== inventory.cluster.name) {
    throw new UsageError(
      `${procedure.file} is for cluster "${cluster}", but ${inventoryFile} describes cluster "${inventory.cluster.name}"; ` +
        "pass --inventory with that cluster's inventory",
    );
  }
  const view = readKubeconfig(process.env, contextOverride);
  const problem = contextMismatch(inventory.cluster, view, inventoryFile);
  if (problem) throw new UsageError(`refusing to run ${procedure.id}: ${problem}`);
  return view;
}

/**
 * The accepted context, pinned for every local step: KUBECONFIG names the run's
 * private copy alone. Steps on nodes keep their own (the node's) kubeconfig: a
 * path on this machine means nothing there.
 */
function pinKubeconfig(plan: Plan, kube: KubeView, tempDir: string): Plan {
  const KUBECONFIG = writePinnedKubeconfig(kube, tempDir);
  const instances = plan.instances.map((i) =>
    i.targets.every((t) => t.kind === 'local') ? { ...i, env: { ...i.env, KUBECONFIG } } : i,
  );
  return { ...plan, instances };
}

/** Params as environment variables for every step. */
const paramEnv = (plan: Plan): Record<string, string> => Object.fromEntries(plan.params.map((p) => [p.name, p.value]));

const SOURCE = { set: '--set', env: 'environment', default: 'default', missing: 'missing' } as const;

/** Before the first step: every param with its value and where it came from, so a stale exported variable is seen. */
function printParams(plan: Plan, masker: Masker, out: NodeJS.WritableStream): void {
  if (plan.params.length === 0) return;
  const rows = plan.params.map((p) => [
    p.name,
    p.secret ? MASK : oneLine(masker.mask(p.value)),
    SOURCE[p.source] + (p.secret ? ' (secret)' : ''),
  ]);
  out.write(`${pc.bold('Params')}\n${table(['NAME', 'VALUE', 'FROM'], rows, '  ')}\n`);
}
