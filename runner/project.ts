import { existsSync } from 'node:fs';
import { readProblem, readRegularFile, somethingAt } from './read-file.ts';
import { dirname, join, relative, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { readPage } from './check/page-frontmatter.ts';
import type { Procedure } from './format/model.ts';
import { UsageError } from './errors.ts';

export const CONTENT_DIR = 'src/content';
export const PAGE_GLOB = ['**/*.mdx', '**/*.md'];

/** The project root: the nearest directory above `from` with a src/content folder, else `from`. */
export function findProjectRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, CONTENT_DIR)) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(from);
    dir = parent;
  }
}

/** Every page under src/content (docs and ADRs), relative to the root, sorted. */
export function discoverPages(root: string): string[] {
  return globSync(PAGE_GLOB, { cwd: join(root, CONTENT_DIR), ignore: ['**/node_modules/**'] })
    .map((p) => join(CONTENT_DIR, p))
    .sort();
}

/** Expands paths (files or folders) given on the command line into page files. */
export function expandPaths(root: string, paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (!somethingAt(abs)) throw new UsageError(`${p}: no such file or folder`);
    if (/\.mdx?$/.test(abs)) files.push(relative(root, abs) || abs);
    else files.push(...globSync(PAGE_GLOB, { cwd: abs }).map((f) => relative(root, join(abs, f))).sort());
  }
  return files;
}

export function loadProcedure(root: string, file: string): Procedure {
  const abs = resolve(root, file);
  let bytes: Buffer;
  try {
    // Bytes, not text: the parser decodes them and warns where they are not UTF-8.
    bytes = readRegularFile(abs);
  } catch (err) {
    throw new UsageError(`${file}: cannot read: ${readProblem(err)}`);
  }
  return readPage(bytes, relative(root, abs).startsWith('..') ? abs : relative(root, abs));
}

export function loadAll(root: string): Procedure[] {
  return discoverPages(root).map((f) => loadProcedure(root, f));
}

/**
 * Resolves what the user named: a path to an MDX file, or the id of a page with
 * steps (a runbook id first, then any page's slug).
 */
export function resolveProcedure(root: string, ref: string): Procedure {
  if (/\.mdx?$/.test(ref) || ref.includes('/')) {
    if (!somethingAt(resolve(ref))) throw new UsageError(`${ref}: no such file`);
    return loadProcedure(root, relative(root, resolve(ref)) || ref);
  }
  const all = loadAll(root).filter((p) => p.steps.length > 0 || p.kind === 'runbook');
  const match = all.find((p) => p.kind === 'runbook' && p.id === ref) ?? all.find((p) => p.id === ref);
  if (match) return match;
  const ids = all.filter((p) => p.kind === 'runbook').map((p) => p.id);
  const near = ids.filter((id) => id.includes(ref) || ref.includes(id));
  throw new UsageError(
    `no runbook "${ref}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}. ` +
      '`runbook list` shows them all; a path to an .mdx file works too.',
  );
}
