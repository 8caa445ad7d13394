import type { Command } from 'commander';
import { UsageError } from '../errors.ts';

// Being built in this change (issue 11); replaced by the real verb before it lands.
export function registerLock(program: Command) {
  program.command('lock').description('(being built)').action(() => {
    throw new UsageError('runbook lock is not built yet');
  });
}
