import type { Command } from 'commander';
import { UsageError } from '../errors.ts';

// Being built in this change (issue 11); replaced by the real verb before it lands.
export function registerVerify(program: Command) {
  program.command('verify').description('(being built)').action(() => {
    throw new UsageError('runbook verify is not built yet');
  });
}
