import { readPage } from './check/page-frontmatter.ts';
import type { Procedure } from './format/model.ts';
import { discoverPages, pickProcedure, readPageFile, refAsFile } from './project-files.ts';

export {
  CONTENT_DIR,
  PAGE_GLOB,
  assertForeignId,
  assertForeignRecords,
  discoverPages,
  expandPaths,
  findProjectRoot,
  isForeignFile,
} from './project-files.ts';

export function loadProcedure(root: string, file: string): Procedure {
  const { bytes, name } = readPageFile(root, file);
  return readPage(bytes, name);
}

export function loadAll(root: string): Procedure[] {
  return discoverPages(root).map((f) => loadProcedure(root, f));
}

/**
 * Resolves what the user named: a path to an MDX file, or the id of a page with
 * steps (a runbook id first, then any page's slug).
 */
export function resolveProcedure(root: string, ref: string): Procedure {
  const file = refAsFile(root, ref);
  return file !== undefined ? loadProcedure(root, file) : pickProcedure(loadAll(root), ref);
}
