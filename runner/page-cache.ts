import type { Procedure } from './format/model.ts';
import { ReadCache } from './read-cache.ts';
import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONTENT_DIR, discoverPages, pickProcedure, readPageFile, refAsFile } from './project-files.ts';

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
  return procedureOf(name, bytes);
}

async function procedureOf(name: string, bytes: Buffer): Promise<Procedure> {
  const hit = pages.get(name, bytes);
  if (hit) return hit;
  const procedure = await parse(bytes, name);
  pages.set(name, bytes, procedure);
  return procedure;
}

/** runner/project.ts's loadAll, through the cache. */
export async function loadAllCached(root: string): Promise<Procedure[]> {
  const out: Procedure[] = [];
  for (const file of discoverPagesCached(root)) out.push(await loadProcedureCached(root, file));
  return out;
}

/** What `list` prints of a page, and what `show <id>` picks it by: a few fields of its parse, kept beside it. */
export interface PageSummary extends Pick<Procedure, 'id' | 'title' | 'kind' | 'file'> {
  risk: NonNullable<Procedure['runbook']>['risk'] | null;
  steps: number;
  /** Its diagnostics of severity error. */
  errors: number;
}

// Smaller than the parse they summarise: reading 50 summaries is a third of reading 50 parses.
const summaries = new ReadCache<PageSummary>('summaries', (name) => `${encodeURIComponent(name)}.v8`);

/** Every page's summary, with the bytes it was made from (so that the page picked is the page summarised). */
async function summariesOf(root: string): Promise<{ summary: PageSummary; name: string; bytes: Buffer }[]> {
  const out = [];
  for (const file of discoverPagesCached(root)) {
    const { bytes, name } = readPageFile(root, file);
    let summary = summaries.get(name, bytes);
    if (!summary) {
      const p = await procedureOf(name, bytes);
      const errors = p.diagnostics.filter((d) => d.severity === 'error').length;
      summary = {
        id: p.id,
        title: p.title,
        kind: p.kind,
        file: p.file,
        risk: p.runbook?.risk ?? null,
        steps: p.steps.length,
        errors,
      };
      summaries.set(name, bytes, summary);
    }
    out.push({ summary, name, bytes });
  }
  return out;
}

/** Every page's summary (what `list` prints), through the caches. */
export async function pageSummariesCached(root: string): Promise<PageSummary[]> {
  return (await summariesOf(root)).map((s) => s.summary);
}

/** runner/project.ts's resolveProcedure, through the cache: an id is looked up among the summaries. */
export async function resolveProcedureCached(root: string, ref: string): Promise<Procedure> {
  const file = refAsFile(root, ref);
  if (file !== undefined) return loadProcedureCached(root, file);
  const all = await summariesOf(root);
  const picked = pickProcedure(
    all.map((s) => ({ ...s, id: s.summary.id, kind: s.summary.kind, steps: { length: s.summary.steps } })),
    ref,
  );
  return procedureOf(picked.name, picked.bytes);
}

// The glob's answer for a content tree whose names and types are exactly those it was worked out from.
const globs = new ReadCache<string[]>('globs');

/**
 * discoverPages, without running the glob (compiling its patterns and matching them was ~12 ms of a
 * warm `show`) while the tree under src/content has the same entries, of the same types, in the same
 * order. Its answer depends on nothing else: a tree with a symlink (whose target may change unseen) or
 * anything unreadable is globbed every time, as is everything from source.
 */
export function discoverPagesCached(root: string): string[] {
  const tree = contentTree(join(root, CONTENT_DIR));
  const hit = tree && globs.get(root, tree);
  if (hit) return hit;
  const pages = discoverPages(root);
  if (tree) globs.set(root, tree, pages);
  return pages;
}

/** Every folder's entries under `dir` as `folder/name type` lines, or undefined when there is a symlink or an unreadable folder. */
function contentTree(dir: string): Buffer | undefined {
  const lines: string[] = [];
  const walk = (rel: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return false;
    }
    for (const e of entries) {
      if (e.isSymbolicLink()) return false;
      const path = rel ? `${rel}/${e.name}` : e.name;
      lines.push(`${path} ${e.isDirectory() ? 'd' : e.isFile() ? 'f' : 'o'}`);
      // The glob ignores whatever is under a node_modules folder; its name is kept above.
      if (e.isDirectory() && e.name !== 'node_modules' && !walk(path)) return false;
    }
    return true;
  };
  return walk('') ? Buffer.from(lines.join('\n')) : undefined;
}
