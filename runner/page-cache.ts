import type { Procedure } from './format/model.ts';
import { ReadCache } from './read-cache.ts';
import { discoverPages, pickProcedure, readPageFile, refAsFile } from './project-files.ts';

/**
 * Parsed pages kept between runs (runner/read-cache.ts says when an entry is used), so that `list`
 * and `show` neither parse 50 pages again nor load the parser (unified, remark-mdx, the schemas:
 * most of their start-up). A page's parse depends on its bytes and its name alone.
 */
// Entry file of a page name: the name itself, made a file name (names are unique, so entries are too).
const pages = new ReadCache<Procedure>('pages', (name) => `${encodeURIComponent(name)}.v8`);

type Parse = (bytes: Buffer, name: string) => Procedure;
let parser: Parse | undefined;
/** The parser, loaded on the first miss only. */
async function parse(bytes: Buffer, name: string): Promise<Procedure> {
  parser ??= (await import('./check/page-frontmatter.ts')).readPage;
  return parser(bytes, name);
}

/** runner/project.ts's loadProcedure, through the cache. */
export async function loadProcedureCached(root: string, file: string): Promise<Procedure> {
  const { bytes, name } = readPageFile(root, file);
  const hit = pages.get(name, bytes);
  if (hit) return hit;
  const procedure = await parse(bytes, name);
  pages.set(name, bytes, procedure);
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
