import type { Inventory } from '../inventory/schema.ts';
import type { ProjectContext } from '../project-context.ts';
import { UsageError } from '../errors.ts';
import { connectView, type Cluster } from './api.ts';
import { confirmIdentity } from './identity.ts';
import { contextMismatch, readKubeconfig, type KubeView } from './kubeconfig.ts';

/**
 * The inventory's cluster, for verbs that talk to it outside a run (lock, status, verify,
 * check --cluster): the same context guard and identity check as a run, so a verb never
 * reads or changes a look-alike cluster.
 */

export interface OpenCluster {
  cluster: Cluster;
  inventory: Inventory;
  inventoryFile: string;
  kube: KubeView;
  uid: string;
  identity: 'pinned' | 'unpinned';
}

export async function openInventoryCluster(ctx: ProjectContext, opts: { context?: string }): Promise<OpenCluster> {
  const { file: inventoryFile, inventory } = ctx.loadInventory();
  const kube = guardedView(inventory, inventoryFile, opts.context);
  const cluster = await connectView(kube);
  const { uid, identity } = await confirmIdentity(cluster, inventory.cluster, inventoryFile).catch((err: unknown) => {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${(err as Error).message}. Check that the cluster is up and the kube context is right.`);
  });
  return { cluster, inventory, inventoryFile, kube, uid, identity };
}

/** The kubeconfig view, refused unless it is the context the inventory names for its cluster. */
export function guardedView(
  inventory: Inventory,
  inventoryFile: string,
  contextOverride?: string,
  what = 'refusing',
): KubeView {
  const view = readKubeconfig(process.env, contextOverride);
  const problem = contextMismatch(inventory.cluster, view, inventoryFile);
  if (problem) throw new UsageError(`${what}: ${problem}`);
  return view;
}
