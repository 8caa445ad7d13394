import type { V1Node } from '@kubernetes/client-node';
import { delimiter } from 'node:path';
import { UsageError } from '../errors.ts';
import { callApi, connectView } from '../cluster/api.ts';
import { inventoryRolesOf, ROLE_PREFIX } from '../cluster/drift.ts';
import { clusterUid } from '../cluster/identity.ts';
import { readKubeconfig, type KubeView } from '../cluster/kubeconfig.ts';
import type { InventoryNode } from '../inventory/schema.ts';
import { somethingAt } from '../read-file.ts';

/**
 * What the cluster behind a kube context says about itself, for the inventory `runbook init`
 * writes: its API server, identity, nodes (roles from node-role labels, InternalIP, kubelet
 * version, capacity). The only address contacted is the context's API server.
 */
export interface ClusterFacts {
  context: string;
  server: string;
  uid: string;
  /** The servers' kubelet version (K3s stamps its own release into it). */
  k3sVersion: string;
  /** Set when the nodes do not all run k3sVersion: said to the operator, the inventory records the servers'. */
  mixedVersions?: string;
  embeddedEtcd: boolean;
  nodes: InventoryNode[];
}

/** The kube context in use: `--context`, else the kubeconfig's current-context; undefined when there is none to read. */
export function kubeView(opts: { kubeconfig?: string; context?: string }, env = process.env): KubeView | undefined {
  const view = readKubeconfig(opts.kubeconfig ? { ...env, KUBECONFIG: opts.kubeconfig } : env, opts.context);
  if (!view.context && !opts.kubeconfig && !opts.context) return undefined;
  const where = `kubeconfig ${view.files.join(delimiter)}`;
  // A kubeconfig that is not there reads as an empty one: say so, rather than "no current-context".
  const missing = view.files.filter((f) => !somethingAt(f));
  if (missing.length === view.files.length && (opts.kubeconfig || opts.context)) {
    const flag = opts.kubeconfig ? '--kubeconfig' : 'KUBECONFIG';
    throw new UsageError(
      `${flag} ${missing.join(delimiter)}: no such file; pass the kubeconfig of your cluster, or --node name=address[:roles]`,
    );
  }
  if (!view.context) throw new UsageError(`${where} sets no current-context: pass --context <name>`);
  if (!view.contextExists)
    throw new UsageError(`${where} has no context "${view.context}": pass --context with one it has`);
  if (!view.server) throw new UsageError(`${where}: context "${view.context}" names no cluster server`);
  return view;
}

export async function readClusterFacts(view: KubeView): Promise<ClusterFacts> {
  const cluster = await connectView(view);
  const hint = (err: unknown) => {
    if (err instanceof UsageError) return err;
    return new UsageError(
      `cannot read the cluster behind context "${view.context}": ${(err as Error).message}. ` +
        'Check that it is up, or answer with --node name=address[:roles] instead.',
    );
  };
  const uid = await clusterUid(cluster).catch((err: unknown) => Promise.reject(hint(err)));
  const list = await callApi(cluster, () => cluster.core.listNode({}, cluster.within())).catch((err: unknown) =>
    Promise.reject(hint(err)),
  );
  if (list.items.length === 0) throw new UsageError(`the cluster at ${cluster.server} has no nodes registered yet`);
  const nodes = [...list.items].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const versions = nodes.map((n) => n.status?.nodeInfo?.kubeletVersion ?? '');
  const serverVersion = nodes.flatMap((n, i) => (isServer(n) ? [versions[i]!] : []))[0] ?? versions[0]!;
  const distinct = [...new Set(versions)];
  return {
    context: view.context!,
    server: view.server!,
    uid,
    k3sVersion: serverVersion,
    ...(distinct.length > 1
      ? { mixedVersions: nodes.map((n, i) => `${n.metadata?.name} ${versions[i] || '(none)'}`).join(', ') }
      : {}),
    embeddedEtcd: nodes.some((n) => n.metadata?.labels?.[`${ROLE_PREFIX}etcd`] !== undefined),
    nodes: nodes.map(nodeFacts),
  };
}

const isServer = (n: V1Node) => inventoryRolesOf(n.metadata?.labels ?? {}).includes('server');

/**
 * Labels the operator set, worth keeping in the inventory (where `runbook status` compares them):
 * not the ones Kubernetes and K3s put on every node, except the topology labels a person chooses.
 */
export function ownLabels(labels: Record<string, string>): Record<string, string> | undefined {
  const own = Object.entries(labels).filter(([key]) => {
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    if (prefix === 'topology.kubernetes.io') return true;
    return !/(^|\.)(kubernetes\.io|k8s\.io|k3s\.io)$/.test(prefix);
  });
  return own.length > 0 ? Object.fromEntries(own.sort(([a], [b]) => a.localeCompare(b))) : undefined;
}

function nodeFacts(node: V1Node): InventoryNode {
  const name = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  const address = (['InternalIP', 'ExternalIP', 'Hostname'] as const)
    .map((type) => addresses.find((a) => a.type === type)?.address)
    .find(Boolean);
  if (!address) throw new UsageError(`node ${name} reports no address (status.addresses is empty)`);
  const capacity = node.status?.capacity ?? {};
  const info = node.status?.nodeInfo;
  const hardware: Record<string, string> = {};
  if (capacity.cpu) hardware.cpu = `${capacity.cpu} CPU`;
  const memory = capacity.memory ? gib(capacity.memory) : undefined;
  if (memory) hardware.memory = memory;
  if (info?.osImage) hardware.os = info.osImage;
  if (info?.architecture) hardware.arch = info.architecture;
  const labels = ownLabels(node.metadata?.labels ?? {});
  return {
    name,
    roles: inventoryRolesOf(node.metadata?.labels ?? {}),
    address,
    ...(labels ? { labels } : {}),
    ...(Object.keys(hardware).length > 0 ? { hardware } : {}),
  };
}

const UNITS: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** A memory quantity (`16318412Ki`, `8Gi`, `8e9`) as people read it: `15.6 GiB`, `8 GiB`; undefined when unreadable. */
export function gib(quantity: string): string | undefined {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([KMGT]i?|k)?$/.exec(quantity.trim());
  const factor = m ? UNITS[m[2] ?? ''] : undefined;
  if (!m || factor === undefined) return undefined;
  const value = Math.round(((Number(m[1]) * factor) / 2 ** 30) * 10) / 10;
  return `${value} GiB`;
}
