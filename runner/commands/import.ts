import type { Command } from 'commander';
import { UsageError } from '../errors.ts';

// Scaffold: the verb is being built; its helper replaces this module.
export function registerImport(program: Command) {
  program
    .command('import')
    .description('(import: being built)')
    .action(() => {
      throw new UsageError('runbook import is not built yet');
    });
}
