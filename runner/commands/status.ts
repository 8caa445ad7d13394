import type { Command } from 'commander';
import { UsageError } from '../errors.ts';

// Being built in this change (issue 11); replaced by the real verb before it lands.
export function registerStatus(program: Command) {
  program.command('status').description('(being built)').action(() => {
    throw new UsageError('runbook status is not built yet');
  });
}
