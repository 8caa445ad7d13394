import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, jsonOption, recordsOption, type CommonOptions } from './options.ts';
import { printJson } from '../ui/json.ts';
import { secretMasker } from '../secrets/mask.ts';
import { shellCommand } from '../ui/shell-quote.ts';
import { formatDuration } from '../format/duration.ts';
import { table } from '../ui/table.ts';

export function registerHistory(program: Command) {
  addCommon(
    program
      .command('history')
      .argument('[runbook]', 'only the runs of this runbook id')
      .description('list past runs, newest first: status, duration, operator, commit'),
    jsonOption(),
    recordsOption(),
  ).action(async (runbook: string | undefined, opts: CommonOptions) => {
    // Loaded on use: `runbook --help` loads no record schema.
    const [{ projectContext }, { listRecords, statusHere }, { isSandboxServer }, { STATUS_STYLE }, { diffSlots }] = await Promise.all([
      import('../project-context.ts'),
      import('../record/store.ts'),
      import('../record/sandbox.ts'),
      import('../run/progress.ts'),
      import('../record/snapshot-diff.ts'),
    ]);
    const dir = await projectContext(opts).records('read');
    const { records, problems } = listRecords(dir, runbook);
    // Records hold no secret, but a record written by hand or by an older runner might: masked as `run` masks.
    const { mask } = secretMasker([], process.env);
    const print = (text: string) => process.stdout.write(mask(text));
    for (const p of problems) process.stderr.write(mask(`${pc.yellow('warning')} ${p}\n`));
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
        // On the lab twin: a rehearsal, never evidence about the lab.
        rehearsal: r.rehearsal !== undefined,
        // The cluster just before the first step and just after the last, as recorded
        // (null: none taken; { takenAt, error }: the API did not answer), and what changed between them.
        snapshots: { before: r.snapshots?.before ?? null, after: r.snapshots?.after ?? null },
        snapshotDiff: diffSlots(r.snapshots?.before, r.snapshots?.after) ?? null,
        file,
      };
    });
    if (opts.json) return printJson(rows, mask);
    if (rows.length === 0) {
      const start = runbook ? ` Start one with \`${shellCommand(['runbook', 'run', runbook])}\`.` : '';
      print(`No runs${runbook ? ` of ${runbook}` : ''} recorded under ${dir}.${start}\n`);
      return;
    }
    const body = rows.map((r) => [
      r.runId,
      STATUS_STYLE[r.status](r.status) + (r.stoppedAt ? pc.dim(` at ${r.stoppedAt}`) : '') + (r.rehearsal ? pc.cyan(' (rehearsal)') : r.sandbox ? pc.cyan(' (sandbox)') : ''),
      r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      r.durationMs === null ? '-' : formatDuration(r.durationMs),
      `${r.steps.succeeded}/${r.steps.total}`,
      r.operator,
      r.commit ? r.commit.slice(0, 7) + (r.dirty ? '+dirty' : '') : '-',
    ]);
    print(`${table(['RUN', 'STATUS', 'STARTED', 'TOOK', 'OK', 'OPERATOR', 'COMMIT'], body)}\n`);
  });
}
