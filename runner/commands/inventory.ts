import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, contextOption, inventoryOption, jsonOption } from './options.ts';
import type { ProjectOptions } from '../project-context.ts';
import { printJson } from '../ui/json.ts';

interface PinOptions extends ProjectOptions {
  context?: string;
  force?: boolean;
  json?: boolean;
}

export function registerInventory(program: Command) {
  const inventory = program
    .command('inventory')
    .description('work with the lab inventory (src/content/lab/inventory.yaml)');
  addCommon(
    inventory
      .command('pin')
      .description("write the cluster's identity (its kube-system namespace UID) into the inventory as cluster.uid"),
    inventoryOption(),
    contextOption(),
    jsonOption(),
  )
    .option('--force', 'replace a cluster.uid that names another cluster (the lab was rebuilt)')
    .addHelpText(
      'after',
      `
Every run of a cluster's runbook asks the API for the kube-system namespace UID and refuses (exit 2) when it
is not the inventory's cluster.uid: a look-alike cluster behind the same context name is never operated on.
pin asks the cluster behind the accepted kube context (the same guard as a run) and writes its UID, keeping
the file's comments and layout. Exit: 0 pinned (or already pinned), 2 refused.`,
    )
    .action(async (opts: PinOptions) => {
      const [{ pinInventory }, { projectContext }] = await Promise.all([
        import('../inventory/pin.ts'),
        import('../project-context.ts'),
      ]);
      const result = await pinInventory(projectContext(opts), opts);
      if (opts.json) return printJson(result);
      const what = result.changed
        ? result.previous
          ? `re-pinned (was ${result.previous})`
          : 'pinned'
        : 'already pinned';
      process.stdout.write(
        `${pc.green(what)}: cluster ${result.cluster} is kube-system UID ${result.uid} in ${result.file}\n`,
      );
    });
}
