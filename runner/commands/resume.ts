import type { Command } from 'commander';
import { addCommon, valueOption, inventoryOption, jsonOption, recordsOption } from './options.ts';
import type { RunOptions } from '../run/start.ts';

export function registerResume(program: Command) {
  addCommon(
    program
      .command('resume')
      .argument('<runId>', 'the run to continue (see `runbook history`)')
      .description('continue a failed or interrupted run at the step where it stopped, in the same record'),
    jsonOption(),
    inventoryOption(),
    recordsOption(),
  )
    .option('--yes', 'answer yes to every remaining confirm step in advance')
    .option('--force', 'resume even though the remaining steps changed since the run started')
    .addOption(valueOption('--context <name>', 'the kube context to use instead of the kubeconfig current-context'))
    .addHelpText(
      'after',
      '\nParams are the ones the run started with, exactly as recorded (the environment cannot change them); secret params\n' +
        'are read from the environment again (records never hold them). The kube context must still point at the server\n' +
        'the run started on.',
    )
    .action(async (runId: string, opts: RunOptions) => {
      // Loaded on use: zx and the run machinery stay out of `list`/`show` start-up.
      const { resumeRun } = await import('../run/start.ts');
      process.exitCode = await resumeRun(runId, opts);
    });
}
