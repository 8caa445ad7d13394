import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { yamlLib } from '../format/yaml-lib.ts';
import { inventorySchema, type Inventory } from './schema.ts';
import { UsageError, formatZodIssues } from '../errors.ts';
import { cachedInventory, readInventoryFile, storeInventory } from '../read-cache.ts';

import { DEFAULT_INVENTORY } from './default.ts';
export { DEFAULT_INVENTORY };

export interface LoadedInventory {
  file: string;
  inventory: Inventory;
}

/** Reads and validates an inventory; errors name the file, line and field. */
export function loadInventory(file = DEFAULT_INVENTORY, cwd = process.cwd()): LoadedInventory {
  const { path, bytes } = readInventoryFile(file, cwd);
  return { file: path, inventory: cachedInventory(path, bytes) ?? validInventory(path, bytes, file) };
}

/**
 * The inventory in `bytes` (the file at `path`, shown as `file` in errors), validated; kept for the
 * next run of the bundle only when valid (runner/read-cache.ts).
 */
export function validInventory(path: string, bytes: Buffer, file: string): Inventory {
  const inventory = parseInventory(bytes.toString('utf8'), file);
  storeInventory(path, bytes, inventory);
  return inventory;
}

export function parseInventory(text: string, file: string): Inventory {
  // js-yaml's core schema reads YAML 1.2 as `yaml` does; `yaml` itself (slower to
  // load) positions the messages, and is loaded only when there is one to give.
  let data: unknown;
  try {
    data = loadYaml(text, { schema: CORE_SCHEMA });
  } catch {
    data = undefined;
  }
  const result = data === undefined ? undefined : inventorySchema.safeParse(data);
  if (result?.success) return result.data;

  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0 || !result) {
    const e = doc.errors[0];
    const { line, col } = e ? lineCounter.linePos(e.pos[0]) : { line: 1, col: 1 };
    throw new UsageError(
      `${file}:${line}:${col}  invalid YAML: ${e ? e.message.split('\n')[0] : 'the file is empty or not YAML'}`,
    );
  }
  throw new UsageError(
    formatZodIssues(result.error.issues, file, (path) => {
      const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    }),
  );
}
