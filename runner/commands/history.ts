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
    const [{ projectContext }, store, view, { STATUS_STYLE }, { diffSlots }] = await Promise.all([
      import('../project-context.ts'),
      import('../record/store.ts'),
      import('../record/view.ts'),
      import('../run/progress.ts'),
      import('../record/snapshot-diff.ts'),
    ]);
    const dir = await projectContext(opts).records('read');
    const { records, problems } = store.listRecords(dir, runbook);
    // Records hold no secret, but a record written by hand or by an older runner might: masked as `run` masks.
    const { mask } = secretMasker([], process.env);
    const print = (text: string) => process.stdout.write(mask(text));
    for (const p of problems) process.stderr.write(mask(`${pc.yellow('warning')} ${store.describeRecordProblem(p)}\n`));
    const here = view.hereOnThisHost();
    const rows = records.map(({ file, record: r }) => {
      // What the record means now (record/view.ts): a `running` record whose runner is gone was interrupted.
      const run = view.viewRun(r, here);
      return {
        runId: r.runId,
        runbook: r.runbook.id,
        status: run.status,
        startedAt: r.startedAt,
        endedAt: r.endedAt ?? null,
        durationMs: r.durationMs ?? null,
        operator: r.operator,
        commit: r.git.commit,
        dirty: r.git.dirty,
        steps: view.stepTally(r),
        stoppedAt: view.stoppedAt(r) ?? null,
        resumes: r.resumes.length,
        // lab, rehearsal (the lab twin: never evidence about the lab) or sandbox (a loopback API server).
        kind: run.kind,
        sandbox: run.sandbox,
        rehearsal: run.rehearsal,
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
      STATUS_STYLE[r.status](r.status) +
        (r.stoppedAt ? pc.dim(` at ${r.stoppedAt}`) : '') +
        (r.kind === 'lab' ? '' : pc.cyan(` (${r.kind})`)),
      r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      r.durationMs === null ? '-' : formatDuration(r.durationMs),
      `${r.steps.succeeded}/${r.steps.total}`,
      r.operator,
      r.commit ? r.commit.slice(0, 7) + (r.dirty ? '+dirty' : '') : '-',
    ]);
    print(`${table(['RUN', 'STATUS', 'STARTED', 'TOOK', 'OK', 'OPERATOR', 'COMMIT'], body)}\n`);
  });
}
