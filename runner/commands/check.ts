import type { Command } from 'commander';
import pc from 'picocolors';
import { relative } from 'node:path';
import { addCommon, inventoryOption, valueOption, jsonOption, recordsOption, type CommonOptions } from './options.ts';
import { printJson } from '../ui/json.ts';
import type { projectContext } from '../project-context.ts';
import type { CheckResult } from '../check/check.ts';
import type { DryRunSummary } from '../check/cluster-dry-run.ts';
import { mark, printTimings } from '../check/timing.ts';
import { EXIT, UsageError } from '../errors.ts';

interface CheckOptions extends CommonOptions {
  strict?: boolean;
  cluster?: boolean;
  context?: string;
}

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
    .option('--cluster', "also server-side dry-run every apply step's manifest against the inventory's cluster")
    .addOption(
      valueOption(
        '--context <name>',
        'with --cluster: the kube context to use instead of the kubeconfig current-context',
      ),
    )
    .addHelpText(
      'after',
      `
Also validates the run records (with no paths, or with --records).
Output: path:line:col  severity  rule  message. Exit 2 on errors (or warnings with --strict), else 0.

Without --cluster nothing talks to a cluster. With --cluster, after the same kube-context guard and
kube-system UID check as a run (--context picks another kube context), each object of each apply step
is sent as a server-side apply with dryRun=All: validated and admitted as a real apply, never stored.
Each object the API refuses is an error at its line, rule cluster-dry-run, with the API's own message;
then the exit is 1 (unless the pages have errors of their own: 2). An unreachable or wrong cluster: exit 2.`,
    )
    .action(async (paths: string[], opts: CheckOptions) => {
      mark('start-up (modules)');
      if (opts.context && !opts.cluster)
        throw new UsageError(
          '--context is used with --cluster only (plain check talks to no cluster); add --cluster or drop --context',
        );
      // Loaded on use: `runbook --help` loads no parser or schema.
      const [{ projectContext }, { discoverPages, expandPaths }] = await Promise.all([
        import('../project-context.ts'),
        import('../project-files.ts'),
      ]);
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
      const dryRun = opts.cluster ? await dryRunAgainstCluster(ctx, files, opts.context) : undefined;
      if (dryRun) mergeDiagnostics(result, dryRun);
      const refused = (dryRun?.refused ?? 0) > 0;
      process.exitCode = failed ? EXIT.usage : refused ? EXIT.stepFailed : EXIT.ok;
      const cluster = dryRun && {
        server: dryRun.server,
        steps: dryRun.steps,
        objects: dryRun.objects,
        refused: dryRun.refused,
        otherCluster: dryRun.otherCluster,
      };
      if (opts.json)
        printJson({
          ...result,
          strict: opts.strict === true,
          ok: !failed && !refused,
          ...(cluster ? { cluster } : {}),
        });
      else {
        printResult(result, failed || refused, (f) => relative(process.cwd(), `${ctx.root}/${f}`) || f);
        if (dryRun) printDryRun(dryRun);
      }
      mark('output');
      printTimings();
    });
}

/** The server-side dry run (check --cluster): loaded on use, so plain check never loads the API client. */
async function dryRunAgainstCluster(
  ctx: ReturnType<typeof projectContext>,
  files: string[],
  context: string | undefined,
): Promise<DryRunSummary> {
  const [{ openInventoryCluster }, { clusterDryRun }] = await Promise.all([
    import('../cluster/open.ts'),
    import('../check/cluster-dry-run.ts'),
  ]);
  const open = await openInventoryCluster(ctx, context ? { context } : {});
  mark('connect (cluster)');
  const summary = await clusterDryRun(ctx.root, files, open.cluster, open.inventory.cluster.name);
  mark('server-side dry run');
  return summary;
}

function mergeDiagnostics(result: CheckResult, dryRun: DryRunSummary): void {
  result.diagnostics.push(...dryRun.diagnostics);
  result.diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  result.errors += dryRun.diagnostics.length;
}

function printDryRun(s: DryRunSummary): void {
  const objects = `${s.objects} object${s.objects === 1 ? '' : 's'} in ${s.steps} apply step${s.steps === 1 ? '' : 's'}`;
  const line = `server-side dry run against ${s.server}: ${objects}, ${s.refused} refused`;
  process.stderr.write(`${s.refused ? pc.red(`✗ ${line}`) : pc.green(`✓ ${line}`)}\n`);
  if (s.otherCluster.length)
    process.stderr.write(pc.dim(`  not checked (they name another cluster): ${s.otherCluster.join(', ')}\n`));
}

function printResult(result: CheckResult, failed: boolean, cwdRel: (file: string) => string) {
  for (const d of result.diagnostics) {
    const sev = d.severity === 'error' ? pc.red('error') : pc.yellow('warning');
    process.stdout.write(`${cwdRel(d.file)}:${d.line}:${d.column}  ${sev}  ${pc.dim(d.rule)}  ${d.message}\n`);
  }
  const summary = `${result.files} page${result.files === 1 ? '' : 's'}, ${result.steps} step${result.steps === 1 ? '' : 's'}: ${result.errors} error${result.errors === 1 ? '' : 's'}, ${result.warnings} warning${result.warnings === 1 ? '' : 's'}`;
  const out = failed
    ? pc.red(`✗ ${summary}${!result.errors ? ' (warnings fail with --strict)' : ''}`)
    : pc.green(`✓ ${summary}`);
  process.stderr.write(`${out}\n`);
}
