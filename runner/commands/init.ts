import type { Command } from 'commander';
import { UsageError } from '../errors.ts';

// Scaffold: the verb is being built; its helper replaces this module.
export function registerInit(program: Command) {
  program
    .command('init')
    .description('(init: being built)')
    .action(() => {
      throw new UsageError('runbook init is not built yet');
    });
}
