import type { V1Node } from '@kubernetes/client-node';
import type { Inventory, InventoryNode } from '../inventory/schema.ts';

/**
 * Drift: where the live cluster differs from what the inventory says it is. Pure (no API
 * call): the inventory and the nodes the API listed in, the differences out, so the rules
 * are tested without a cluster and `runbook status` only prints them.
 *
 * What is compared, per node:
 * - presence: a node in the inventory and not in the cluster (missing), or the other way (extra);
 * - the kubelet version against the inventory's cluster.k3sVersion;
 * - roles, read from node-role.kubernetes.io/<role> labels the way K3s sets them (below);
 * - every label the inventory lists for the node (labels it does not list are the kubelet's business);
 * - the Ready condition.
 */

export const ROLE_PREFIX = 'node-role.kubernetes.io/';

/**
 * What K3s itself puts on a server node besides (or instead of) a `server` role label:
 * control-plane and master always, etcd with the embedded datastore. They read as the
 * inventory's `server` role, never as extra roles. A K3s agent has no role label at all,
 * so a node that is not a server reads as `agent`.
 */
const SERVER_MARKS = ['server', 'control-plane', 'master'];
const SERVER_IMPLIED = new Set(['control-plane', 'master', 'etcd']);

/** The parts of a Node object drift is about. */
export interface LiveNode {
  name: string;
  labels: Record<string, string>;
  kubeletVersion?: string;
  ready: boolean;
  /** The Ready condition's reason and message when it is not True (or "no Ready condition"). */
  notReadyBecause?: string;
  unschedulable: boolean;
}

export function liveNodeOf(node: V1Node): LiveNode {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const isReady = ready?.status === 'True';
  const because = !ready
    ? 'no Ready condition'
    : [`Ready=${ready.status}`, ready.reason, ready.message].filter(Boolean).join(': ');
  return {
    name: node.metadata?.name ?? '',
    labels: { ...(node.metadata?.labels ?? {}) },
    ...(node.status?.nodeInfo?.kubeletVersion ? { kubeletVersion: node.status.nodeInfo.kubeletVersion } : {}),
    ready: isReady,
    ...(isReady ? {} : { notReadyBecause: because }),
    unschedulable: node.spec?.unschedulable === true,
  };
}

export type DriftKind = 'missing' | 'extra' | 'version' | 'role' | 'label' | 'not-ready';

export interface Drift {
  node: string;
  kind: DriftKind;
  /** What the inventory says (null: it says nothing, e.g. an extra node or role). A label reads `key=value`. */
  expected: string | null;
  /** What the cluster says (null: nothing there, e.g. a missing node or label). */
  actual: string | null;
  message: string;
}

export interface NodeStatus {
  name: string;
  inInventory: boolean;
  inCluster: boolean;
  /** The inventory's roles for the node (empty for an extra node). */
  roles: string[];
  /** The roles the cluster shows, read as the inventory spells them (empty for a missing node). */
  liveRoles: string[];
  kubeletVersion: string | null;
  ready: boolean | null;
  unschedulable: boolean | null;
  drift: Drift[];
}

export interface DriftReport {
  k3sVersion: string;
  nodes: NodeStatus[];
  drift: Drift[];
}

/** The role labels of a node (`node-role.kubernetes.io/<role>`), as role names. */
export function roleLabelsOf(labels: Record<string, string>): string[] {
  return Object.keys(labels)
    .filter((k) => k.startsWith(ROLE_PREFIX) && k.length > ROLE_PREFIX.length)
    .map((k) => k.slice(ROLE_PREFIX.length))
    .sort();
}

/**
 * A node's roles in the inventory's words: a server's K3s marks (control-plane, master,
 * etcd) fold into `server`; a node without any server mark is an `agent` (K3s gives
 * agents no role label; the sandbox gives them `agent`). Any other role label stays as it is.
 */
export function inventoryRolesOf(labels: Record<string, string>): string[] {
  const labelled = roleLabelsOf(labels);
  const server = labelled.some((r) => SERVER_MARKS.includes(r));
  const others = labelled.filter((r) => !(server && SERVER_IMPLIED.has(r)) && r !== 'server' && r !== 'agent');
  return [...new Set([server ? 'server' : 'agent', ...others])].sort();
}

export function compareInventory(inventory: Inventory, live: readonly LiveNode[]): DriftReport {
  const k3sVersion = inventory.cluster.k3sVersion;
  const byName = new Map(live.map((n) => [n.name, n]));
  const known = new Set(inventory.nodes.map((n) => n.name));
  const nodes: NodeStatus[] = inventory.nodes.map((want) => {
    const have = byName.get(want.name);
    if (!have) {
      const drift = [
        drift_(want.name, 'missing', want.name, null, `${want.name} is in the inventory but not in the cluster`),
      ];
      return {
        name: want.name,
        inInventory: true,
        inCluster: false,
        roles: [...want.roles].sort(),
        liveRoles: [],
        kubeletVersion: null,
        ready: null,
        unschedulable: null,
        drift,
      };
    }
    return nodeStatus(want, have, k3sVersion);
  });
  for (const have of live) {
    if (known.has(have.name)) continue;
    const drift = [
      drift_(have.name, 'extra', null, have.name, `${have.name} is in the cluster but not in the inventory`),
    ];
    nodes.push({
      name: have.name,
      inInventory: false,
      inCluster: true,
      roles: [],
      liveRoles: inventoryRolesOf(have.labels),
      kubeletVersion: have.kubeletVersion ?? null,
      ready: have.ready,
      unschedulable: have.unschedulable,
      drift,
    });
  }
  return { k3sVersion, nodes, drift: nodes.flatMap((n) => n.drift) };
}

function nodeStatus(want: InventoryNode, have: LiveNode, k3sVersion: string): NodeStatus {
  const name = want.name;
  const drift: Drift[] = [];
  const version = have.kubeletVersion ?? null;
  if (version !== k3sVersion) {
    drift.push(
      drift_(
        name,
        'version',
        k3sVersion,
        version,
        `${name} runs kubelet ${version ?? '(none reported)'}, the inventory says ${k3sVersion}`,
      ),
    );
  }
  const roles = [...new Set(want.roles)].sort();
  const liveRoles = inventoryRolesOf(have.labels);
  for (const role of roles.filter((r) => !liveRoles.includes(r))) {
    drift.push(
      drift_(
        name,
        'role',
        role,
        null,
        `${name} is not a ${role} in the cluster (${describeRoles(have.labels)}), the inventory says it is`,
      ),
    );
  }
  for (const role of liveRoles.filter((r) => !roles.includes(r))) {
    drift.push(
      drift_(
        name,
        'role',
        null,
        role,
        `${name} is ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role} in the cluster (${describeRoles(have.labels)}), the inventory does not say so`,
      ),
    );
  }
  for (const [key, value] of Object.entries(want.labels ?? {})) {
    const actual = Object.hasOwn(have.labels, key) ? have.labels[key]! : null;
    if (actual === value) continue;
    drift.push(
      drift_(
        name,
        'label',
        `${key}=${value}`,
        actual === null ? null : `${key}=${actual}`,
        actual === null
          ? `${name} has no label ${key} (the inventory says ${key}=${value})`
          : `${name} has label ${key}=${actual}, the inventory says ${key}=${value}`,
      ),
    );
  }
  if (!have.ready)
    drift.push(
      drift_(
        name,
        'not-ready',
        'Ready',
        have.notReadyBecause ?? 'not Ready',
        `${name} is not Ready (${have.notReadyBecause ?? 'not Ready'})`,
      ),
    );
  return {
    name,
    inInventory: true,
    inCluster: true,
    roles,
    liveRoles,
    kubeletVersion: version,
    ready: have.ready,
    unschedulable: have.unschedulable,
    drift,
  };
}

function describeRoles(labels: Record<string, string>): string {
  const labelled = roleLabelsOf(labels);
  return labelled.length ? `role labels: ${labelled.join(', ')}` : 'no role labels';
}

function drift_(node: string, kind: DriftKind, expected: string | null, actual: string | null, message: string): Drift {
  return { node, kind, expected, actual, message };
}
