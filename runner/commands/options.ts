import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_INVENTORY } from '../inventory/default.ts';
import type { ProjectOptions } from '../project-context.ts';

/**
 * An option that takes a value never takes an empty one: `--records ''` or `--from=` would
 * otherwise fall back to the default folder or step 1 without a word.
 */
export const valueOption = (flags: string, description: string) =>
  new Option(flags, description).argParser((value: string) => {
    if (value.trim() === '') throw new InvalidArgumentError('An empty value: give one, or leave the option out.');
    return value;
  });

/** Options shared by verbs, so every verb spells them the same way. */
export const inventoryOption = () =>
  valueOption('--inventory <file>', 'the lab inventory (nodes, roles, addresses, cluster)')
    .default(DEFAULT_INVENTORY)
    // The sandbox exports one that points at its own API server and 127.0.0.x nodes.
    .env('RUNBOOK_INVENTORY');
export const recordsOption = () =>
  valueOption('--records <dir>', 'where run records are read and written (default: src/content/runs)');
export const contextOption = (description = 'the kube context to use instead of the kubeconfig current-context') =>
  valueOption('--context <name>', description);
export const jsonOption = () => new Option('--json', 'print machine-readable JSON on stdout');
export const setOption = () =>
  new Option(
    '--set <NAME=value>',
    'set a param (once per name); the environment variable NAME is used otherwise, then the default',
  ).argParser((value: string, previous: string[] = []) => [...previous, value]);

export interface CommonOptions extends ProjectOptions {
  json?: boolean;
  set?: string[];
}

export function addCommon(cmd: Command, ...opts: Option[]): Command {
  for (const o of opts) cmd.addOption(o);
  return cmd;
}
