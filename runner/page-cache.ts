import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Procedure } from './format/model.ts';
import { discoverPages, pickProcedure, readPageFile, refAsFile } from './project-files.ts';

/**
 * Parsed pages kept between runs, so that `list` and `show` neither parse 50 pages again nor load the
 * parser (unified, remark-mdx, the schemas: most of their start-up).
 *
 * It can never serve a stale page. An entry holds the page's bytes beside its parse, and is used only
 * when the file's bytes now are those bytes exactly (compared, not hashed), under the same name. The
 * parse depends on nothing else but the parser's code, and the entries live inside the bundle that
 * parsed them (node_modules/.cache/runbook-cli/<key>/pages/, see runner/bin/bundle.js): a bundle is
 * built from one set of sources and never changes, so other parser code never reads them. Running from
 * source there is no bundle and no cache (RUNBOOK_PAGE_CACHE=0 turns it off in the bundle too).
 * A damaged or unreadable entry is a miss; a failed write only costs the next run a parse.
 */
function cacheDir(): string | undefined {
  if (process.env.RUNBOOK_PAGE_CACHE === '0') return undefined;
  const here = dirname(fileURLToPath(import.meta.url));
  return existsSync(join(here, 'inputs.bin')) ? join(here, 'pages') : undefined;
}

interface Entry {
  name: string;
  bytes: Uint8Array;
  procedure: Procedure;
}

type Parse = (bytes: Buffer, name: string) => Procedure;
let parser: Parse | undefined;
/** The parser, loaded on the first miss only. */
async function parse(bytes: Buffer, name: string): Promise<Procedure> {
  parser ??= (await import('./check/page-frontmatter.ts')).readPage;
  return parser(bytes, name);
}

/** Entry file of a page name: the name itself, made a file name (names are unique, so entries are too). */
const entryFile = (dir: string, name: string) => join(dir, `${encodeURIComponent(name)}.v8`);

function lookup(dir: string, name: string, bytes: Buffer): Procedure | undefined {
  try {
    const entry = deserialize(readFileSync(entryFile(dir, name))) as Entry;
    return entry.name === name && Buffer.compare(entry.bytes, bytes) === 0 ? entry.procedure : undefined;
  } catch {
    return undefined;
  }
}

function store(dir: string, name: string, bytes: Buffer, procedure: Procedure): void {
  try {
    mkdirSync(dir, { recursive: true });
    const file = entryFile(dir, name);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, serialize({ name, bytes, procedure } satisfies Entry));
    renameSync(temp, file); // whole or not at all: a reader never sees half an entry
  } catch {
    // An unwritable cache is no cache.
  }
}

/** runner/project.ts's loadProcedure, through the cache. */
export async function loadProcedureCached(root: string, file: string): Promise<Procedure> {
  const { bytes, name } = readPageFile(root, file);
  const dir = cacheDir();
  const hit = dir ? lookup(dir, name, bytes) : undefined;
  if (hit) return hit;
  const procedure = await parse(bytes, name);
  // Stored before anyone can change it: the caller gets this object, the cache a serialised copy.
  if (dir) store(dir, name, bytes, procedure);
  return procedure;
}

/** runner/project.ts's loadAll, through the cache. */
export async function loadAllCached(root: string): Promise<Procedure[]> {
  const out: Procedure[] = [];
  for (const file of discoverPages(root)) out.push(await loadProcedureCached(root, file));
  return out;
}

/** runner/project.ts's resolveProcedure, through the cache. */
export async function resolveProcedureCached(root: string, ref: string): Promise<Procedure> {
  const file = refAsFile(root, ref);
  return file !== undefined ? loadProcedureCached(root, file) : pickProcedure(await loadAllCached(root), ref);
}
