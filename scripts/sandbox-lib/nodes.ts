// Node objects for the inventory's machines. kwok simulates their kubelets
// (it manages nodes annotated kwok.x-k8s.io/node=fake) but does not create
// them, so we do, the way a K3s kubelet would register: labels from the
// roles, versions from the inventory's K3s release, and loopback addresses
// instead of the lab's LAN addresses.
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxInventory, SandboxNode } from './inventory.ts';

export const kwokAnnotation = 'kwok.x-k8s.io/node';

/** 127.0.1.1, 127.0.1.2, … : distinct per node, never the inventory's addresses. */
export function sandboxAddress(index: number): string {
  return `127.0.${1 + Math.floor(index / 254)}.${1 + (index % 254)}`;
}

export function roleLabels(roles: string[], datastore?: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const role of roles) labels[`node-role.kubernetes.io/${role}`] = 'true';
  if (roles.includes('server')) {
    // What K3s itself puts on a server node.
    labels['node-role.kubernetes.io/control-plane'] = 'true';
    labels['node-role.kubernetes.io/master'] = 'true';
    if (datastore === 'embedded-etcd') labels['node-role.kubernetes.io/etcd'] = 'true';
  }
  return labels;
}

export function nodeManifest(inv: SandboxInventory, node: SandboxNode, index: number): V1Node {
  const cpu = /(\d+)\s*v?CPU/i.exec(String(node.hardware.cpu ?? ''))?.[1] ?? '4';
  const memGi = /(\d+)\s*GiB?/i.exec(String(node.hardware.memory ?? ''))?.[1] ?? '8';
  const resources = { cpu, memory: `${memGi}Gi`, pods: '110', 'ephemeral-storage': '50Gi' };
  const podCidrBase = inv.podCidr.split('.').slice(0, 2).join('.');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      annotations: { [kwokAnnotation]: 'fake', 'k3s.io/node-args': '[]' },
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'k3s',
        ...roleLabels(node.roles, inv.datastore),
        ...node.labels,
      },
    },
    spec: { podCIDR: `${podCidrBase}.${index}.0/24`, podCIDRs: [`${podCidrBase}.${index}.0/24`] },
    status: {
      addresses: [
        { type: 'InternalIP', address: sandboxAddress(index) },
        { type: 'Hostname', address: node.name },
      ],
      capacity: resources,
      allocatable: resources,
      nodeInfo: {
        kubeletVersion: inv.k3sVersion,
        kubeProxyVersion: inv.k3sVersion,
        containerRuntimeVersion: 'kwok://simulated',
        kernelVersion: 'kwok',
        osImage: String(node.hardware.os ?? 'K3s sandbox node'),
        operatingSystem: 'linux',
        architecture: 'amd64',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
}

export async function createNodes(kc: KubeConfig, inv: SandboxInventory): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const [i, node] of inv.nodes.entries()) {
    await core.createNode({ body: nodeManifest(inv, node, i) });
  }
}

export function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Waits until every inventory node reports Ready, calling onProgress when the count changes. */
export async function waitNodesReady(
  kc: KubeConfig,
  inv: SandboxInventory,
  timeoutMs: number,
  onProgress: (ready: number, total: number) => void,
  abort: () => string | undefined,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const want = new Set(inv.nodes.map((n) => n.name));
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const list = await core.listNode();
    const ready = list.items.filter((n) => want.has(n.metadata?.name ?? '') && isReady(n)).length;
    if (ready !== last) onProgress((last = ready), want.size);
    if (ready === want.size) return;
    const why = abort();
    if (why) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`only ${ready}/${want.size} nodes Ready after ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

/** Pods can be created once the controller-manager has made the default ServiceAccount. */
export async function waitDefaultServiceAccount(
  kc: KubeConfig,
  timeoutMs: number,
  abort: () => string | undefined,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    const why = abort();
    if (why) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`no default ServiceAccount after ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}
