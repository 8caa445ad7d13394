import type { Command } from 'commander';

interface ImportCliOptions {
  out?: string;
  id?: string;
  inventory?: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
}

export function registerImport(program: Command) {
  program
    .command('import')
    .description('turn plain Markdown runbooks into runbook pages that pass check --strict')
    .argument('<path>', 'a .md file or a folder of them')
    .option('--out <dir>', 'where pages go (default src/content/docs/runbooks/imported)')
    .option('--id <id>', 'runbook id of the page (default: the file name)')
    .option('--inventory <file>', 'inventory that maps ssh hosts to nodes (default src/content/lab/inventory.yaml)')
    .option('--dry-run', 'write nothing; print the summary and where the page would go')
    .option('--force', 'replace pages that already exist (without it, an existing page stops the import)')
    .option('--json', 'the summary as JSON on stdout')
    .addHelpText(
      'after',
      `
Shell fences (bash/sh/shell/zsh/console) become steps with ids from their heading; untagged fences,
config files, prose and troubleshooting/history sections stay illustration.
ssh host "cmd" and ssh sessions up to exit become on=<node> steps (hosts mapped through the inventory;
an unknown host is left as illustration and listed under "needs a decision"). <placeholders>,
YYYYMMDD and v1.xx.y become params, tokens/passwords secret params. # Expected: X becomes expect=,
and so does a stable line of an "Expected output" block after a step (the block is shown as text).
sleep N before a readiness check becomes kubectl wait or a polling loop with a deadline; blocks
repeated per node become one <ForEach>; "Option A / Option B" sections become <Tabs> chosen by an
enum param; runbook.cluster is the inventory's unless the notes use another kube context.
Runme cells: name -> step id, cwd -> cwd=, excludeFromRunAll -> illustration; interactive=true and
background=true are listed for a decision. A variable set in one step and used in a later one is
listed (each step is its own bash process). Destructive steps get confirm, read-only ones check.
Prose is escaped for MDX (each change listed). An existing page is replaced only with --force.
Exit: 0 written (or dry run) and the page passes check --strict with nothing left to decide;
1 written, but check --strict fails or decisions are left (listed); 2 bad input, or a page
that exists without --force (nothing is written then).`,
    )
    .action(async (path: string, opts: ImportCliOptions) => {
      const [{ runImport, passes }, { formatSummary, summaryJson }] = await Promise.all([
        import('../import/run-import.ts'),
        import('../import/summary.ts'),
      ]);
      const files = await runImport(path, opts);
      if (opts.json) process.stdout.write(`${JSON.stringify(files.map(summaryJson), null, 2)}\n`);
      else for (const f of files) process.stdout.write(formatSummary(f));
      if (!files.every(passes)) process.exitCode = 1;
    });
}
