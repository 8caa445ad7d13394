import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { inventorySchema, type Inventory } from './schema.ts';
import { UsageError, formatZodIssues } from '../errors.ts';

export const DEFAULT_INVENTORY = 'src/content/lab/inventory.yaml';

export interface LoadedInventory {
  file: string;
  inventory: Inventory;
}

/** Reads and validates an inventory; errors name the file, line and field. */
export function loadInventory(file = DEFAULT_INVENTORY, cwd = process.cwd()): LoadedInventory {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read the inventory (${(err as NodeJS.ErrnoException).code ?? err}). Pass --inventory <file>.`);
  }
  return { file: path, inventory: parseInventory(text, file) };
}

export function parseInventory(text: string, file: string): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lineCounter.linePos(e.pos[0]);
    throw new UsageError(`${file}:${line}:${col}  invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const result = inventorySchema.safeParse(doc.toJS());
  if (!result.success) {
    throw new UsageError(
      formatZodIssues(result.error.issues, file, (path) => {
        const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
        return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
      }),
    );
  }
  return result.data;
}
