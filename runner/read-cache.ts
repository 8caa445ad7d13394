import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Inventory } from './inventory/schema.ts';
import { readProblem, readRegularFile } from './read-file.ts';
import { UsageError } from './errors.ts';

/**
 * Values worked out from a file's bytes (a parsed page, a validated run record, the validated
 * inventory), kept between runs of the bundle, so that a warm `list` or `show` loads neither the
 * parser nor zod and validates nothing again.
 *
 * It can never serve a stale or unvalidated value. An entry holds the file's bytes beside the value,
 * and is used only when the file's bytes now are those bytes exactly (compared, not hashed), under the
 * same name. Only what a parser or schema returned is stored, never a failure: a record or an
 * inventory that fails its schema is checked again on every run, and reported as it always is. The
 * value depends on nothing else but the code that made it, and the entries live inside the bundle
 * that made them (node_modules/.cache/runbook-cli/<key>/<kind>/, see runner/bin/bundle.js): a bundle
 * is built from one set of sources and never changes, so other parser or schema code never reads
 * them. Running from source there is no bundle and no cache (RUNBOOK_PAGE_CACHE=0 turns it off in the
 * bundle too). A damaged or unreadable entry is a miss; a failed write only costs the next run a parse.
 */
export class ReadCache<T> {
  readonly #dir: string | undefined;
  readonly #entryName: (name: string) => string;

  /** `entryName` makes a file name of a name; two names sharing one only evict each other. */
  constructor(kind: string, entryName: (name: string) => string = hashedName) {
    const base = bundleDir();
    this.#dir = base && join(base, kind);
    this.#entryName = entryName;
  }

  /** The value stored for `name` when `bytes` are exactly the bytes it was made from. */
  get(name: string, bytes: Uint8Array): T | undefined {
    if (!this.#dir) return undefined;
    try {
      const entry = deserialize(readFileSync(join(this.#dir, this.#entryName(name)))) as Entry<T>;
      return entry.name === name && Buffer.compare(entry.bytes, bytes) === 0 ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores the value made from `bytes`: only ever what its parser or schema returned. */
  set(name: string, bytes: Uint8Array, value: T): void {
    if (!this.#dir) return;
    try {
      mkdirSync(this.#dir, { recursive: true });
      const file = join(this.#dir, this.#entryName(name));
      const temp = `${file}.${process.pid}.tmp`;
      // Serialised now: the caller may change its object afterwards, the entry keeps what was validated.
      writeFileSync(temp, serialize({ name, bytes, value } satisfies Entry<T>));
      renameSync(temp, file); // whole or not at all: a reader never sees half an entry
    } catch {
      // An unwritable cache is no cache.
    }
  }
}

interface Entry<T> {
  name: string;
  bytes: Uint8Array;
  value: T;
}

let bundle: string | null | undefined;
/** The bundle's directory when this code runs from one (it holds inputs.bin) and the cache is on. */
function bundleDir(): string | undefined {
  if (process.env.RUNBOOK_PAGE_CACHE === '0') return undefined;
  if (bundle === undefined) {
    try {
      const here = dirname(fileURLToPath(import.meta.url));
      bundle = existsSync(join(here, 'inputs.bin')) ? here : null;
    } catch {
      bundle = null; // not a file (a bundler of the site's own): no cache
    }
  }
  return bundle ?? undefined;
}

/**
 * A short file name for any name (absolute paths can be longer than a file name may be): FNV-1a
 * twice over, 64 bits. Only a name: the entry itself says which name it is for.
 */
function hashedName(name: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}.v8`;
}

// ── The inventory ────────────────────────────────────────────────────────────

const inventories = new ReadCache<Inventory>('inventory');

/** The inventory's bytes and absolute path; an unreadable file is a UsageError naming it. */
export function readInventoryFile(file: string, cwd: string): { path: string; bytes: Buffer } {
  const path = resolve(cwd, file);
  try {
    return { path, bytes: readRegularFile(path) };
  } catch (err) {
    throw new UsageError(`${file}: cannot read the inventory: ${readProblem(err)}. Pass --inventory <file>.`);
  }
}

/** A validated inventory of exactly these bytes, from an earlier run. */
export const cachedInventory = (path: string, bytes: Buffer) => inventories.get(path, bytes);
export const storeInventory = (path: string, bytes: Buffer, inventory: Inventory) =>
  inventories.set(path, bytes, inventory);

/**
 * runner/inventory/load.ts's loadInventory, loading js-yaml and the schema only when the inventory
 * is not one validated before: the same value, and the same errors (an invalid inventory is never stored).
 */
export async function loadInventoryCached(file: string, cwd = process.cwd()) {
  const { path, bytes } = readInventoryFile(file, cwd);
  const hit = cachedInventory(path, bytes);
  if (hit) return { file: path, inventory: hit };
  const { validInventory } = await import('./inventory/load.ts');
  return { file: path, inventory: validInventory(path, bytes, file) };
}
