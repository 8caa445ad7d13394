import type { Command } from 'commander';
import pc from 'picocolors';
import { relative } from 'node:path';
import { addCommon, inventoryOption, jsonOption, recordsOption, type CommonOptions } from './options.ts';
import { printJson } from '../ui/json.ts';
import { projectContext } from '../project-context.ts';
import { discoverPages, expandPaths } from '../project.ts';
import type { CheckResult } from '../check/check.ts';
import { mark, printTimings } from '../check/timing.ts';
import { EXIT } from '../errors.ts';

export function registerCheck(program: Command) {
  addCommon(
    program
      .command('check')
      .argument('[paths...]', 'pages or folders to check (default: every page under src/content)')
      .description('validate pages and lint their steps; executes nothing'),
    jsonOption(),
    inventoryOption(),
    recordsOption(),
  )
    .option('--strict', 'fail on warnings too (use in CI)')
    .addHelpText('after', '\nAlso validates the run records (with no paths, or with --records).\nOutput: path:line:col  severity  rule  message. Exit 2 on errors (or warnings with --strict), else 0.')
    .action(async (paths: string[], opts: CommonOptions & { strict?: boolean }) => {
      mark('start-up (modules)');
      const ctx = projectContext(opts);
      const { inventory } = ctx.loadInventory();
      mark('inventory');
      const files = paths.length ? expandPaths(ctx.root, paths) : discoverPages(ctx.root);
      mark('find pages');
      // Records are checked with the whole project (the pages they belong to must be known), or when named.
      const checkRecordsToo = paths.length === 0 || opts.records !== undefined;
      const records = checkRecordsToo ? { recordsDir: await ctx.records('read') } : {};
      // Loaded on use: the rules bring the wasm shell parser, which `runbook --help` must not pay for.
      const { checkFiles } = await import('../check/check.ts');
      const result = await checkFiles(ctx.root, files, inventory, records);
      const failed = result.errors > 0 || (opts.strict === true && result.warnings > 0);
      process.exitCode = failed ? EXIT.usage : EXIT.ok;
      if (opts.json) printJson({ ...result, strict: opts.strict === true, ok: !failed });
      else printResult(result, failed, (f) => relative(process.cwd(), `${ctx.root}/${f}`) || f);
      mark('output');
      printTimings();
    });
}

function printResult(result: CheckResult, failed: boolean, cwdRel: (file: string) => string) {
  for (const d of result.diagnostics) {
    const sev = d.severity === 'error' ? pc.red('error') : pc.yellow('warning');
    process.stdout.write(`${cwdRel(d.file)}:${d.line}:${d.column}  ${sev}  ${pc.dim(d.rule)}  ${d.message}\n`);
  }
  const summary = `${result.files} page${result.files === 1 ? '' : 's'}, ${result.steps} step${result.steps === 1 ? '' : 's'}: ${result.errors} error${result.errors === 1 ? '' : 's'}, ${result.warnings} warning${result.warnings === 1 ? '' : 's'}`;
  const out = failed ? pc.red(`✗ ${summary}${!result.errors ? ' (warnings fail with --strict)' : ''}`) : pc.green(`✓ ${summary}`);
  process.stderr.write(`${out}\n`);
}
