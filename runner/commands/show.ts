import { accessSync, constants, lstatSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, inventoryOption, jsonOption, recordsOption, setOption, type CommonOptions } from './options.ts';
import { printJson } from '../ui/json.ts';
import type { Plan } from '../plan/plan.ts';
import { secretMasker } from '../secrets/mask.ts';
import { UsageError } from '../errors.ts';
import { DEFAULT_INVENTORY } from '../inventory/default.ts';

export function registerShow(program: Command) {
  addCommon(
    program
      .command('show')
      .argument('<runbook>', 'a runbook id (see `runbook list`) or a path to an MDX file')
      .description('print the plan: numbered step instances, targets, timeouts, flags, commands and params'),
    setOption(),
    jsonOption(),
    inventoryOption(),
    recordsOption(),
  ).action(async (ref: string, opts: CommonOptions) => {
    // Loaded on use: `runbook --help` loads no parser, schema or planner; and a warm `show` no schema
    // at all (zod): pages, the inventory and records come validated from runner/read-cache.ts.
    const [
      { findProjectRoot },
      { resolveProcedureCached },
      { planProcedure },
      { assertNoPageErrors },
      { parseSetArgs },
      { describePlan, planToJson },
      { loadInventoryCached },
      read,
      view,
    ] = await Promise.all([
      import('../project-files.ts'),
      import('../page-cache.ts'),
      import('../plan/plan.ts'),
      import('../plan/runnable.ts'),
      import('../plan/params.ts'),
      import('../ui/plan.ts'),
      import('../read-cache.ts'),
      import('../record/read.ts'),
      import('../record/view.ts'),
    ]);
    const root = findProjectRoot();
    const procedure = await resolveProcedureCached(root, ref);
    assertNoPageErrors(procedure);
    const { inventory } = await loadInventoryCached(inventoryFile(root, opts.inventory));
    const sets = parseSetArgs(opts.set ?? []);
    // The plan is built first (leniently), so even a message about a bad --set is masked as `run` masks it.
    const { plan, problems } = planProcedure(procedure, inventory, { sets: sets.values, lenient: true });
    const { mask } = secretMasker(plan?.params ?? [], process.env);
    if (sets.problems.length) throw new UsageError(mask(sets.problems.map((p) => p.message).join('\n')));
    const print = (text: string) => process.stdout.write(mask(text));
    const last = await lastRun(read, view, await readableRecords(read, root, opts.records), procedure.id);
    if (opts.json) {
      const json = {
        ...planToJson(plan as Plan, inventory),
        lastRun: last ?? null,
        problems: problems.map((p) => p.message),
      };
      return printJson(json, mask);
    }
    print(describePlan(plan as Plan, inventory));
    if (last) {
      const colour = last.status === 'succeeded' ? pc.green : last.status === 'running' ? pc.cyan : pc.red;
      print(
        `\nLast run: ${colour(last.status)} ${last.startedAt} by ${last.operator} (${last.runId}); ${last.runs} run${last.runs === 1 ? '' : 's'} recorded\n`,
      );
    }
    if (problems.length) {
      print(
        `\n${pc.yellow('Before this can run:')}\n${problems.map((p) => `  ${pc.yellow('!')} ${p.message}`).join('\n')}\n`,
      );
    }
  });
}

/** The inventory file as projectContext names it: the default one is the project's, a given one relative to the cwd. */
const inventoryFile = (root: string, given?: string) =>
  given === undefined || given === DEFAULT_INVENTORY ? `${root}/${DEFAULT_INVENTORY}` : given;

/**
 * The records folder as projectContext's records('read') answers, without loading the record store:
 * a folder that is missing, or a real folder this user can list, is usable as it is; anything else
 * (a symlink, a file, no permission) gets usableFolder's own checks and messages.
 */
async function readableRecords({ recordsDir }: typeof import('../record/read.ts'), root: string, given?: string) {
  const dir = recordsDir(root, given);
  try {
    if (lstatSync(dir).isDirectory()) {
      accessSync(dir, constants.R_OK | constants.X_OK);
      return dir;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return dir;
  }
  const { usableFolder } = await import('../project-context.ts');
  return usableFolder(dir, 'read', given ? '--records' : 'the records folder');
}

/** The newest run of a runbook, as a reader on this machine should see it. */
async function lastRun(
  { listRecordsCached }: typeof import('../record/read.ts'),
  { statusHere }: typeof import('../record/view.ts'),
  dir: string,
  id: string,
) {
  const { records } = await listRecordsCached(dir, id);
  const newest = records[0]?.record;
  if (!newest) return undefined;
  return {
    runId: newest.runId,
    status: statusHere(newest),
    startedAt: newest.startedAt,
    operator: newest.operator,
    runs: records.length,
  };
}
