import type { Inventory } from '../inventory/schema.ts';
import { UsageError } from '../errors.ts';
import { shellCommand } from '../ui/shell-quote.ts';
import { callApi, ClusterApiError, type Cluster } from './api.ts';

/**
 * Which cluster answers, asked of the cluster itself: the UID of its kube-system
 * namespace, created once when the cluster is born and never shared by another.
 * The context guard compares names and URLs in the kubeconfig only, and K3s writes
 * the same `default` names into every cluster's kubeconfig: a look-alike passes it,
 * but not this.
 */

export interface ConfirmedIdentity {
  uid: string;
  /** pinned: the inventory's cluster.uid matched; unpinned: the inventory has none yet. */
  identity: 'pinned' | 'unpinned';
}

/** The cluster's UID, as one API call reads it (ClusterUnreachable when nobody answers). */
export async function clusterUid(cluster: Cluster): Promise<string> {
  try {
    const ns = await callApi(cluster, () => cluster.core.readNamespace({ name: 'kube-system' }, cluster.within()));
    if (!ns.metadata?.uid)
      throw new UsageError(`the API server ${cluster.server} returned a kube-system namespace without a UID`);
    return ns.metadata.uid;
  } catch (err) {
    if (err instanceof ClusterApiError && err.code === 401) {
      throw new UsageError(
        `the API server ${cluster.server} rejected the kube context's credentials (401: ${err.apiMessage}): ` +
          'they are wrong or expired; renew them (for K3s: copy /etc/rancher/k3s/k3s.yaml from a server again)',
      );
    }
    if (err instanceof ClusterApiError && err.code === 403) {
      throw new UsageError(
        `the API server ${cluster.server} refused to show namespace kube-system (${err.code}: ${err.apiMessage}): ` +
          "the kube context's credentials must be allowed to get namespaces to confirm which cluster this is",
      );
    }
    throw err;
  }
}

/** Confirms the cluster is the inventory's: a UID mismatch is a refusal naming both. */
export async function confirmIdentity(
  cluster: Cluster,
  expected: Inventory['cluster'],
  inventoryFile: string,
): Promise<ConfirmedIdentity> {
  const uid = await clusterUid(cluster);
  if (!expected.uid) return { uid, identity: 'unpinned' };
  if (uid !== expected.uid) {
    throw new UsageError(
      `wrong cluster: ${inventoryFile} pins cluster ${expected.name} as kube-system UID ${expected.uid}, but ${cluster.server} ` +
        `answers with UID ${uid}: another cluster sits behind this kube context. Nothing was run. Switch the context ` +
        `(--context), or, if this cluster was rebuilt and is the lab's now, pin it again with \`${pinCommand()}\`.`,
    );
  }
  return { uid, identity: 'pinned' };
}

export const pinCommand = () => shellCommand(['runbook', 'inventory', 'pin']);

/** Printed when a run confirms an unpinned cluster: what it saw, and how to make the guard hold next time. */
export function unpinnedNote(uid: string, inventoryFile: string): string {
  return (
    `cluster identity not pinned: ${inventoryFile} has no cluster.uid; this cluster answers ${uid}. ` +
    `\`${pinCommand()}\` writes it, so a look-alike cluster is refused from then on.`
  );
}
