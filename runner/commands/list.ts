import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, jsonOption, type CommonOptions } from './options.ts';
import { printJson } from '../ui/json.ts';
import { shellCommand } from '../ui/shell-quote.ts';
import { table } from '../ui/table.ts';

const RISK_COLOUR = { low: pc.green, medium: pc.yellow, high: pc.red } as const;

export function registerList(program: Command) {
  addCommon(
    program.command('list').description('list the runbooks in this project (and other pages with steps with --all)'),
    jsonOption(),
  )
    .option('--all', 'also list ADRs, weekend plans and other pages that carry steps')
    .action(async (opts: CommonOptions & { all?: boolean }) => {
      // Loaded on use (as in every verb): `runbook --help` loads no parser, schema or API client.
      const [{ findProjectRoot }, { pageSummariesCached }] = await Promise.all([
        import('../project-files.ts'),
        import('../page-cache.ts'),
      ]);
      const root = findProjectRoot();
      const rows = (await pageSummariesCached(root))
        .filter((p) => p.kind === 'runbook' || (opts.all && p.steps > 0))
        .map(({ id, title, kind, risk, steps, file, errors }) => ({ id, title, kind, risk, steps, file, errors }));
      if (opts.json) return printJson(rows);
      if (rows.length === 0) {
        process.stdout.write(
          'No runbooks found under src/content. A runbook is an MDX page with a `runbook:` block in its frontmatter.\n',
        );
        return;
      }
      const body = rows.map((r) => [
        pc.bold(r.id),
        r.risk ? RISK_COLOUR[r.risk](r.risk) : pc.dim(r.kind),
        String(r.steps),
        r.title +
          (r.errors
            ? pc.red(`  (${r.errors} error${r.errors > 1 ? 's' : ''}: ${shellCommand(['runbook', 'check', r.file])})`)
            : ''),
        pc.dim(r.file),
      ]);
      process.stdout.write(`${table(['ID', 'RISK', 'STEPS', 'TITLE', 'FILE'], body)}\n`);
    });
}
