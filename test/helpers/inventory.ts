import { readFileSync } from 'node:fs';
import { parseInventory } from '../../runner/inventory/load.ts';

export const TEST_INVENTORY_FILE = 'test/fixtures/inventory.yaml';
export const testInventory = () => parseInventory(readFileSync(TEST_INVENTORY_FILE, 'utf8'), TEST_INVENTORY_FILE);
