import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, context, inventoryOption, jsonOption, printJson, recordsOption, type CommonOptions } from './options.ts';
import { listRecords, recordsDir, statusHere } from '../record/store.ts';
import { formatDuration } from '../format/duration.ts';
import { isSandboxServer } from '../record/sandbox.ts';
import { STATUS_STYLE } from '../run/progress.ts';
import { table } from '../ui/table.ts';

export function registerHistory(program: Command) {
  addCommon(
    program
      .command('history')
      .argument('[runbook]', 'only the runs of this runbook id')
      .description('list past runs, newest first: status, duration, operator, commit'),
    jsonOption(),
    recordsOption(),
    inventoryOption(),
  ).action((runbook: string | undefined, opts: CommonOptions) => {
    const { root } = context(opts);
    const dir = recordsDir(root, opts.records);
    const { records, problems } = listRecords(dir, runbook);
    for (const p of problems) process.stderr.write(`${pc.yellow('warning')} ${p}\n`);
    const rows = records.map(({ file, record: r }) => {
      const stopped = r.steps.find((s) => s.status !== 'succeeded' && s.status !== 'skipped' && s.status !== 'pending');
      return {
        runId: r.runId,
        runbook: r.runbook.id,
        // A `running` record whose runner is gone was interrupted.
        status: statusHere(r),
        startedAt: r.startedAt,
        endedAt: r.endedAt ?? null,
        durationMs: r.durationMs ?? null,
        operator: r.operator,
        commit: r.git.commit,
        dirty: r.git.dirty,
        steps: { total: r.steps.length, succeeded: r.steps.filter((s) => s.status === 'succeeded').length },
        stoppedAt: stopped && r.status !== 'succeeded' ? stopped.id : null,
        resumes: r.resumes.length,
        // Against the sandbox (loopback API server), not the lab.
        sandbox: isSandboxServer(r.cluster.server),
        file,
      };
    });
    if (opts.json) return printJson(rows);
    if (rows.length === 0) {
      process.stdout.write(`No runs${runbook ? ` of ${runbook}` : ''} recorded under ${dir}.\n`);
      return;
    }
    const body = rows.map((r) => [
      r.runId,
      STATUS_STYLE[r.status](r.status) + (r.stoppedAt ? pc.dim(` at ${r.stoppedAt}`) : '') + (r.sandbox ? pc.cyan(' (sandbox)') : ''),
      r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      r.durationMs === null ? '-' : formatDuration(r.durationMs),
      `${r.steps.succeeded}/${r.steps.total}`,
      r.operator,
      r.commit ? r.commit.slice(0, 7) + (r.dirty ? '+dirty' : '') : '-',
    ]);
    process.stdout.write(`${table(['RUN', 'STATUS', 'STARTED', 'TOOK', 'OK', 'OPERATOR', 'COMMIT'], body)}\n`);
  });
}
