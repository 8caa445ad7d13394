import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, context, inventoryOption, jsonOption, printJson, recordsOption, setOption, type CommonOptions } from './options.ts';
import { listRecords, recordsDir, statusHere } from '../record/store.ts';
import { resolveProcedure } from '../project.ts';
import { planProcedure, type Plan } from '../plan/plan.ts';
import { parseSetArgs } from '../plan/params.ts';
import { UsageError } from '../errors.ts';
import { describePlan, planToJson } from '../ui/plan.ts';

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
  ).action((ref: string, opts: CommonOptions) => {
    const ctx = context(opts);
    const procedure = resolveProcedure(ctx.root, ref);
    const errors = procedure.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      throw new UsageError(
        `${procedure.file} has ${errors.length} error${errors.length > 1 ? 's' : ''}; fix them first:\n${errors.map((d) => `  ${d.file}:${d.line}:${d.column}  ${d.rule}  ${d.message}`).join('\n')}`,
      );
    }
    const { inventory } = ctx.loadInventory();
    const sets = parseSetArgs(opts.set ?? []);
    if (sets.problems.length) throw new UsageError(sets.problems.map((p) => p.message).join('\n'));
    const { plan, problems } = planProcedure(procedure, inventory, { sets: sets.values, lenient: true });
    const last = lastRun(recordsDir(ctx.root, opts.records), procedure.id);
    if (opts.json) return printJson({ ...planToJson(plan as Plan, inventory), lastRun: last ?? null, problems: problems.map((p) => p.message) });
    process.stdout.write(describePlan(plan as Plan, inventory));
    if (last) {
      const colour = last.status === 'succeeded' ? pc.green : last.status === 'running' ? pc.cyan : pc.red;
      process.stdout.write(`\nLast run: ${colour(last.status)} ${last.startedAt} by ${last.operator} (${last.runId}); ${last.runs} run${last.runs === 1 ? '' : 's'} recorded\n`);
    }
    if (problems.length) {
      process.stdout.write(`\n${pc.yellow('Before this can run:')}\n${problems.map((p) => `  ${pc.yellow('!')} ${p.message}`).join('\n')}\n`);
    }
  });
}

/** The newest run of a runbook, as a reader on this machine should see it. */
function lastRun(dir: string, id: string) {
  const { records } = listRecords(dir, id);
  const newest = records[0]?.record;
  if (!newest) return undefined;
  return { runId: newest.runId, status: statusHere(newest), startedAt: newest.startedAt, operator: newest.operator, runs: records.length };
}
