// The sandbox is the lab's shape: kubectl lists the inventory's nodes Ready,
// with the K3s version and role labels, and the server reports K3s's version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../runner/inventory/schema.ts';
import { defaultInventory } from '../../scripts/sandbox-lib/paths.ts';
import { kubectlOk, sandbox } from './helpers.ts';

interface InvNode {
  name: string;
  roles: string[];
  address: string;
  labels?: Record<string, string>;
}
const inventory = parse(readFileSync(defaultInventory, 'utf8')) as {
  cluster: { name: string; context: string; k3sVersion: string };
  nodes: InvNode[];
};

interface NodeJson {
  metadata: { name: string; labels: Record<string, string> };
  status: {
    conditions: { type: string; status: string }[];
    nodeInfo: { kubeletVersion: string };
    addresses: { type: string; address: string }[];
  };
}

describe('kubectl against the sandbox', () => {
  it('lists every inventory node Ready, with the inventory K3s version and roles', () => {
    const nodes = (JSON.parse(kubectlOk(['get', 'nodes', '-o', 'json'])) as { items: NodeJson[] }).items;
    const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
    expect([...byName.keys()].sort()).toEqual(inventory.nodes.map((n) => n.name).sort());

    for (const inv of inventory.nodes) {
      const node = byName.get(inv.name)!;
      const ready = node.status.conditions.find((c) => c.type === 'Ready');
      expect(ready?.status, `${inv.name} Ready`).toBe('True');
      expect(node.status.nodeInfo.kubeletVersion).toBe(inventory.cluster.k3sVersion);
      for (const role of inv.roles) expect(node.metadata.labels[`node-role.kubernetes.io/${role}`]).toBe('true');
      if (inv.roles.includes('server')) {
        expect(node.metadata.labels['node-role.kubernetes.io/control-plane']).toBe('true');
        expect(node.metadata.labels['node-role.kubernetes.io/master']).toBe('true');
      } else {
        expect(node.metadata.labels['node-role.kubernetes.io/control-plane']).toBeUndefined();
      }
      for (const [k, v] of Object.entries(inv.labels ?? {})) expect(node.metadata.labels[k]).toBe(v);
      // Loopback stand-ins, never the lab's LAN addresses.
      const ip = node.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
      expect(ip).toMatch(/^127\./);
      expect(ip).not.toBe(inv.address);
    }
  });

  it('shows the versions and roles in the table a person reads', () => {
    const table = kubectlOk(['get', 'nodes']);
    for (const inv of inventory.nodes) {
      const row = table.split('\n').find((l) => l.startsWith(`${inv.name} `));
      expect(row, table).toBeDefined();
      expect(row).toMatch(/\sReady\s/);
      expect(row).toContain(inventory.cluster.k3sVersion);
      if (inv.roles.includes('server')) expect(row).toContain('control-plane');
    }
  });

  it('reports a K3s-style server version and uses the inventory context', () => {
    const v = JSON.parse(kubectlOk(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string; minor: string };
    };
    expect(v.serverVersion.gitVersion).toBe(inventory.cluster.k3sVersion);
    expect(v.serverVersion.minor).toBe(inventory.cluster.k3sVersion.split('.')[1]);
    expect(kubectlOk(['config', 'current-context']).trim()).toBe(inventory.cluster.context);
    const { kc } = sandbox();
    expect(kc.getCurrentCluster()?.name).toBe(inventory.cluster.name);
    expect(kc.getCurrentCluster()?.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('writes the inventory for RUNBOOK_INVENTORY: same lab, sandbox server, loopback addresses only', () => {
    const file = join(inject('sandboxStateDir'), 'inventory.yaml');
    const inv = inventorySchema.parse(parse(readFileSync(file, 'utf8')));
    expect(inv.cluster.server).toBe(sandbox().kc.getCurrentCluster()?.server);
    expect(inv.cluster.context).toBe(inventory.cluster.context);
    expect(inv.nodes.map((n) => n.name)).toEqual(inventory.nodes.map((n) => n.name));
    for (const n of inv.nodes) expect(n.address).toMatch(/^127\./);
    for (const d of inv.devices ?? []) expect(d.address).toMatch(/^127\./);
  });
});
