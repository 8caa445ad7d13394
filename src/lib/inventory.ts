import { loadInventory } from '../../runner/inventory/load.ts';
import { selectNodes } from '../../runner/inventory/select.ts';
import type { Inventory, InventoryNode } from '../../runner/inventory/schema.ts';

/**
 * The lab inventory as the site sees it: the same file and loader the runner
 * uses, read once per build (pages render hundreds of ForEach groups).
 */
let cached: Inventory | undefined;

export function inventory(): Inventory {
  cached ??= loadInventory().inventory;
  return cached;
}

/** Nodes a selector (`role:agent`, `a,b`) resolves to, or the selector's problem. */
export function nodesFor(selector: string): { nodes: InventoryNode[]; error?: undefined } | { nodes: []; error: string } {
  const result = selectNodes(inventory(), selector);
  return 'error' in result ? { nodes: [], error: result.error } : { nodes: result.nodes };
}
