import type { Command } from 'commander';
import {
  addCommon,
  contextOption,
  valueOption,
  inventoryOption,
  jsonOption,
  recordsOption,
  setOption,
} from './options.ts';
import type { RunOptions } from '../run/start.ts';

export function registerRun(program: Command) {
  addCommon(
    program
      .command('run')
      .argument('<runbook>', 'a runbook id (see `runbook list`) or a path to an MDX file')
      .description('execute a procedure step by step, recording the run (--dry-run: print the plan, execute nothing)'),
    setOption(),
    jsonOption(),
    inventoryOption(),
    recordsOption(),
  )
    .option('--yes', 'answer yes to every confirm step in advance (required without a terminal)')
    .option('--dry-run', 'print the plan with params, targets and commands resolved; execute nothing')
    .addOption(
      valueOption('--from <step>', 'start at this step (step id, step@node or plan number); earlier steps are skipped'),
    )
    .addOption(valueOption('--only <step>', 'run only this step (all its instances, or one step@node)'))
    .addOption(contextOption('the kube context to use instead of the kubeconfig current-context; steps use it too'))
    .addHelpText(
      'after',
      `
Before the first step the run refuses (exit 2, nothing executed) when: the page has errors or no steps, a
param is missing, invalid or reserved, a --set is given twice, a step runs on a node and no ssh client is
installed, the kube context is not the one the inventory names for the runbook's cluster, a confirm step
has no terminal to ask and --yes was not given, or another run of the same runbook holds the lock.
It prints the params it resolved and where each came from (--set, environment, default; secrets masked).
Local steps get KUBECONFIG=<a private copy of the accepted context>, so the cluster cannot change mid-run.
Steps on nodes go through the system ssh client (your ~/.ssh/config, agent and known_hosts apply; one
connection per node is reused for the whole run; RUNBOOK_SSH_CONFIG names another config file).
Each run writes src/content/runs/<runbook>/<runId>.json (or under --records) before the first step and
after every step. A page from outside src/content runs only with --records <folder> (its runs are never
project history), and is refused when its file name gives it a project runbook's id: set runbook.id. Ctrl-C stops the running step (SIGINT, then SIGTERM and SIGKILL) and prints the
\`runbook resume\` command. Exit: 0 succeeded, 1 a step failed, 2 refused or a runner failure, 129 terminal closed, 130 Ctrl-C, 143 SIGTERM.`,
    )
    .action(async (ref: string, opts: RunOptions) => {
      // Loaded on use: zx and the run machinery stay out of `list`/`show` start-up.
      const { startRun } = await import('../run/start.ts');
      process.exitCode = await startRun(ref, opts);
    });
}
