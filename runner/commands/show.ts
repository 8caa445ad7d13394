import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, inventoryOption, jsonOption, recordsOption, setOption, type CommonOptions } from './options.ts';
import { printJson } from '../ui/json.ts';
import type { Plan } from '../plan/plan.ts';
import { secretMasker } from '../secrets/mask.ts';
import { UsageError } from '../errors.ts';

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
      { projectPaths },
      { resolveProcedureCached },
      { planProcedure },
      { assertNoPageErrors },
      { parseSetArgs },
      { describePlan, planToJson },
      { loadInventoryCached },
      read,
      view,
    ] = await Promise.all([
      import('../project-paths.ts'),
      import('../page-cache.ts'),
      import('../plan/plan.ts'),
      import('../plan/runnable.ts'),
      import('../plan/params.ts'),
      import('../ui/plan.ts'),
      import('../read-cache.ts'),
      import('../record/read.ts'),
      import('../record/view.ts'),
    ]);
    const paths = projectPaths(opts);
    const procedure = await resolveProcedureCached(paths.root, ref);
    assertNoPageErrors(procedure);
    const { inventory } = await loadInventoryCached(paths.inventoryFile);
    const sets = parseSetArgs(opts.set ?? []);
    // The plan is built first (leniently), so even a message about a bad --set is masked as `run` masks it.
    const { plan, problems } = planProcedure(procedure, inventory, { sets: sets.values, lenient: true });
    const { mask } = secretMasker(plan?.params ?? [], process.env);
    if (sets.problems.length) throw new UsageError(mask(sets.problems.map((p) => p.message).join('\n')));
    const print = (text: string) => process.stdout.write(mask(text));
    const last = await lastRun(read, view, await paths.records('read'), procedure.id);
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
