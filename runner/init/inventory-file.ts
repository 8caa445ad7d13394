import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { Document, isScalar, parseDocument, visit } from 'yaml';
import { UsageError } from '../errors.ts';
import { inventorySchema, type Inventory, type InventoryNode } from '../inventory/schema.ts';
import { formatZodIssues } from '../errors.ts';
import type { ClusterFacts } from './inventory-from-cluster.ts';
import { updateDocument } from './yaml-update.ts';

/** What the inventory is made from: the cluster's own facts, or the operator's answers. */
export type InventorySource =
  | { kind: 'cluster'; facts: ClusterFacts }
  | { kind: 'answers'; nodes: InventoryNode[]; server?: string; context?: string; k3sVersion: string };

export interface InventoryAnswers {
  source: InventorySource;
  clusterName?: string;
  k3sVersion?: string;
  sshUser?: string;
}

/** K3s's own version form, as the inventory schema wants it. */
export const K3S_VERSION = /^v\d+\.\d+\.\d+\+k3s\d+$/;

/**
 * `--node name=address[:role,role]`: an IPv6 address goes in brackets (`[fd00::1]:server`);
 * without roles the first node is the server and the others are agents.
 */
export function parseNodeFlag(flag: string, index: number): InventoryNode {
  const m = /^([^=]+)=(\[[^\]]+\]|[^:]+)(?::([a-z0-9,-]+))?$/.exec(flag.trim());
  if (!m) {
    throw new UsageError(
      `--node ${flag}: expected name=address[:roles], such as --node k3s-1=192.168.1.10:server (IPv6 in brackets)`,
    );
  }
  const roles = m[3] ? m[3].split(',').filter(Boolean) : [index === 0 ? 'server' : 'agent'];
  const address = m[2]!.replace(/^\[|\]$/g, '');
  // An IP address, or a host name; digits and dots alone that are no IPv4 address (999.1.1.1) are neither.
  const hostName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (!isIP(address) && (/^[\d.]+$/.test(address) || !hostName.test(address))) {
    throw new UsageError(`--node ${flag}: ${address} is not an IP address or a host name`);
  }
  return { name: m[1]!.trim(), roles, address };
}

/** A DNS label from a context name (`k3s@home` → `k3s-home`), for the cluster's name. */
export function dnsName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return name || 'homelab';
}

/**
 * The inventory init writes. When the file already describes this cluster (same API server), what
 * a cluster cannot tell is kept from it: ssh settings, datastore, domain, network, devices, each
 * node's own labels and hardware notes. Otherwise it is a new inventory with ssh defaults to review.
 */
export function buildInventory(answers: InventoryAnswers, existing: Inventory | undefined): Inventory {
  const { source } = answers;
  const nodes = source.kind === 'cluster' ? source.facts.nodes : source.nodes;
  const server =
    source.kind === 'cluster' ? source.facts.server : (source.server ?? `https://${serverAddress(nodes)}:6443`);
  const same = existing && existing.cluster.server.replace(/\/+$/, '') === server.replace(/\/+$/, '');
  const old = same ? existing : undefined;
  const name =
    answers.clusterName ??
    old?.cluster.name ??
    dnsName(source.kind === 'cluster' ? source.facts.context : (source.context ?? 'homelab'));
  const context = source.kind === 'cluster' ? source.facts.context : (source.context ?? old?.cluster.context ?? name);
  const k3sVersion = answers.k3sVersion ?? (source.kind === 'cluster' ? source.facts.k3sVersion : source.k3sVersion);
  const uid = source.kind === 'cluster' ? source.facts.uid : old?.cluster.uid;
  const datastore =
    source.kind === 'cluster' && source.facts.embeddedEtcd ? 'embedded-etcd' : (old?.cluster.datastore ?? undefined);
  const ssh = {
    user: sshUser(answers.sshUser) ?? old?.ssh?.user ?? (process.env.USER || 'root'),
    ...(old?.ssh ?? { port: 22, become: true }),
    ...(answers.sshUser ? { user: answers.sshUser } : {}),
  };
  return {
    cluster: {
      name,
      context,
      server,
      ...(uid ? { uid } : {}),
      k3sVersion,
      ...(datastore ? { datastore } : {}),
      ...(old?.cluster.domain ? { domain: old.cluster.domain } : {}),
      ...(old?.cluster.network ? { network: old.cluster.network } : {}),
    },
    ssh,
    nodes: nodes.map((n) =>
      mergeNode(
        n,
        old?.nodes.find((o) => o.name === n.name),
      ),
    ),
    ...(old?.devices ? { devices: old.devices } : {}),
  };
}

function serverAddress(nodes: InventoryNode[]): string {
  const server = nodes.find((n) => n.roles.includes('server')) ?? nodes[0];
  if (!server) throw new UsageError('no nodes: pass --node name=address[:roles] once per node');
  return server.address.includes(':') ? `[${server.address}]` : server.address;
}

function mergeNode(node: InventoryNode, old: InventoryNode | undefined): InventoryNode {
  if (!old) return node;
  const labels = node.labels || old.labels ? { ...old.labels, ...node.labels } : undefined;
  const hardware = node.hardware || old.hardware ? { ...old.hardware, ...node.hardware } : undefined;
  return {
    name: node.name,
    roles: node.roles,
    address: node.address,
    ...(old.ssh ? { ssh: old.ssh } : {}),
    ...(labels ? { labels } : {}),
    ...(hardware ? { hardware } : {}),
  };
}

export interface InventoryWrite {
  /** The file's new text, or undefined when what it holds already is the inventory asked for. */
  text?: string;
  inventory: Inventory;
}

/**
 * The inventory as file text. The value is validated first (a version such as v1.34.3 without
 * +k3s is said with the flag that fixes it). Comments survive wherever the old file is updated.
 */
export function inventoryText(
  inventory: Inventory,
  oldText: string | undefined,
  oldValue: Inventory | undefined,
  file: string,
  from: string,
): InventoryWrite {
  const result = inventorySchema.safeParse(inventory);
  if (!result.success) {
    const issues = formatZodIssues(result.error.issues, file);
    const hint = /k3sVersion/.test(issues) ? ' Pass --k3s-version vX.Y.Z+k3sN.' : '';
    throw new UsageError(`the inventory init would write is not valid:\n${issues}\n${hint}`.trimEnd());
  }
  if (oldValue && isDeepStrictEqual(normalise(oldValue), normalise(inventory))) return { inventory };
  const sameLab = oldText !== undefined && oldValue?.cluster.server === inventory.cluster.server;
  const doc = sameLab ? parseDocument(oldText) : new Document(inventory);
  if (sameLab) updateDocument(doc, inventory);
  flowShortLists(doc);
  if (!sameLab)
    doc.commentBefore =
      ` The lab's inventory, written by \`runbook init\` from ${from}.\n` +
      ' Review ssh (user, port, become): a cluster cannot tell how you log in to its nodes.\n' +
      ' Add cluster.network, cluster.domain and devices for the network pages, if you like.';
  return { text: doc.toString({ lineWidth: 120 }), inventory };
}

/** `roles: [server]` and `ssh: { … }` on one line, as the shipped inventory writes them. */
function flowShortLists(doc: Document): void {
  visit(doc, {
    Seq: (_key, node) => {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
  });
}

/** Values as the schema reads them (optional keys absent, not undefined), for comparing. */
const normalise = (inv: Inventory): unknown => JSON.parse(JSON.stringify(inv));

/** `--ssh-user`, checked: a login name ssh and sudo would take (`a b` or `-oProxyCommand=…` would not be one). */
function sshUser(user: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/i.test(user)) {
    throw new UsageError(
      `--ssh-user ${user}: not a user name (letters, digits, '.', '_' and '-', not starting with '-')`,
    );
  }
  return user;
}
