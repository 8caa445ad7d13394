import { Option, type Command } from 'commander';
import { loadInventory, DEFAULT_INVENTORY } from '../inventory/load.ts';
import { findProjectRoot } from '../project.ts';

/** Options shared by verbs, so every verb spells them the same way. */
export const inventoryOption = () =>
  new Option('--inventory <file>', 'the lab inventory (nodes, roles, addresses, cluster)')
    .default(DEFAULT_INVENTORY)
    // The sandbox exports one that points at its own API server and 127.0.0.x nodes.
    .env('RUNBOOK_INVENTORY');
export const recordsOption = () => new Option('--records <dir>', 'where run records are read and written (default: src/content/runs)');
export const jsonOption = () => new Option('--json', 'print machine-readable JSON on stdout');
export const setOption = () =>
  new Option('--set <NAME=value>', 'set a param (repeatable); the environment variable NAME is used otherwise, then the default').argParser(
    (value: string, previous: string[] = []) => [...previous, value],
  );

export interface CommonOptions {
  inventory: string;
  records?: string;
  json?: boolean;
  set?: string[];
}

export function context(opts: CommonOptions) {
  const root = findProjectRoot();
  // The default inventory is relative to the project root; a path given by the user is relative to the cwd.
  const invPath = opts.inventory === DEFAULT_INVENTORY ? `${root}/${DEFAULT_INVENTORY}` : opts.inventory;
  return { root, loadInventory: () => loadInventory(invPath) };
}

export function addCommon(cmd: Command, ...opts: Option[]): Command {
  for (const o of opts) cmd.addOption(o);
  return cmd;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
