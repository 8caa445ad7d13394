import type { Inventory, InventoryNode } from './schema.ts';

/**
 * Resolves a node selector as used by `on=` and `<ForEach nodes=…>`:
 * `role:<role>`, a node name, or a comma-separated list of names.
 * Returns nodes in inventory order, or an error message naming what is missing.
 */
export function selectNodes(inv: Inventory, selector: string): { nodes: InventoryNode[] } | { error: string } {
  const sel = selector.trim();
  if (sel.startsWith('role:')) {
    const role = sel.slice(5);
    const nodes = inv.nodes.filter((n) => n.roles.includes(role));
    if (nodes.length === 0) {
      const roles = [...new Set(inv.nodes.flatMap((n) => n.roles))].join(', ');
      return { error: `no node has role "${role}" (roles in the inventory: ${roles})` };
    }
    return { nodes };
  }
  const names = sel
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const missing = names.filter((name) => !inv.nodes.some((n) => n.name === name));
  if (missing.length > 0) {
    return {
      error: `unknown node ${missing.map((m) => `"${m}"`).join(', ')} (nodes: ${inv.nodes.map((n) => n.name).join(', ')})`,
    };
  }
  // Inventory order, not the order written, so rolling work is predictable.
  return { nodes: inv.nodes.filter((n) => names.includes(n.name)) };
}

/** SSH settings for a node after applying the inventory-wide defaults. */
export function sshTarget(inv: Inventory, node: InventoryNode) {
  return {
    host: node.address,
    user: node.ssh?.user ?? inv.ssh?.user,
    port: node.ssh?.port ?? inv.ssh?.port ?? 22,
    become: node.ssh?.become ?? inv.ssh?.become ?? false,
  };
}
