import { existsSync } from 'node:fs';
import { readProblem, readRegularFile, somethingAt } from './read-file.ts';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import type { Procedure } from './format/model.ts';
import { UsageError } from './errors.ts';

/**
 * The project's pages as files: where they are, which ones a command line names, their bytes.
 * No parser here (runner/project.ts parses, runner/page-cache.ts reuses parses): a verb that finds
 * every page already parsed loads none of unified, remark or the schemas.
 */
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
    else
      files.push(
        ...globSync(PAGE_GLOB, { cwd: abs })
          .map((f) => relative(root, join(abs, f)))
          .sort(),
      );
  }
  return files;
}

/** A page's bytes (the parser decodes them and warns where they are not UTF-8) and the name it is reported under. */
export function readPageFile(root: string, file: string): { bytes: Buffer; name: string } {
  const abs = resolve(root, file);
  try {
    return { bytes: readRegularFile(abs), name: relative(root, abs).startsWith('..') ? abs : relative(root, abs) };
  } catch (err) {
    throw new UsageError(`${file}: cannot read: ${readProblem(err)}`);
  }
}

/** What a ref names when it is a file: its path relative to the root, or undefined when the ref is an id. */
export function refAsFile(root: string, ref: string): string | undefined {
  if (!/\.mdx?$/.test(ref) && !ref.includes('/')) return undefined;
  if (!somethingAt(resolve(ref))) throw new UsageError(`${ref}: no such file`);
  return relative(root, resolve(ref)) || ref;
}

/** What pickProcedure reads of a page: a Procedure, or runner/page-cache.ts's summary of one. */
export type PageIds = Pick<Procedure, 'id' | 'kind'> & { steps: { length: number } };

/** The page an id names among all pages: a runbook id first, then any page's slug. */
export function pickProcedure<P extends PageIds>(pages: P[], ref: string): P {
  const all = pages.filter((p) => p.steps.length > 0 || p.kind === 'runbook');
  const match = all.find((p) => p.kind === 'runbook' && p.id === ref) ?? all.find((p) => p.id === ref);
  if (match) return match;
  const ids = all.filter((p) => p.kind === 'runbook').map((p) => p.id);
  const near = ids.filter((id) => id.includes(ref) || ref.includes(id));
  throw new UsageError(
    `no runbook "${ref}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}. ` +
      '`runbook list` shows them all; a path to an .mdx file works too.',
  );
}

/** Whether a page file (as Procedure.file names it: relative to the root, or absolute) lies outside src/content. */
export function isForeignFile(file: string): boolean {
  return !file.replaceAll('\\', '/').startsWith(`${CONTENT_DIR}/`);
}

/**
 * The one place that decides whether a page from outside the project's content folders may keep
 * its id. Its id names run records, so a file-name id equal to a project page's id would write into
 * that page's history: only an explicit runbook.id in its frontmatter may name it then.
 */
export function assertForeignId(procedure: Procedure, projectPages: readonly Procedure[]): void {
  // An id other than the file name can only come from runbook.id; one equal to it is treated as the file's own.
  if (!isForeignFile(procedure.file) || procedure.id !== basename(procedure.file, extname(procedure.file))) return;
  const owner = projectPages.find((p) => p.id === procedure.id && (p.kind === 'runbook' || p.steps.length > 0));
  if (!owner) return;
  throw new UsageError(
    `${procedure.file} is not in the project's ${CONTENT_DIR} folders, and its file name gives it the id "${procedure.id}" ` +
      `of the project page ${owner.file}: its runs would mix with that page's history. ` +
      `Add runbook.id: <another-id> to its frontmatter, or rename the file.`,
  );
}

/**
 * Where a foreign page's records may go: only a folder named with --records. Its runs never land in
 * src/content/runs, so `show` and `history` of the project's pages see the project's runs alone.
 */
export function assertForeignRecords(procedure: Procedure, records: string | undefined): void {
  if (!isForeignFile(procedure.file) || records) return;
  throw new UsageError(
    `${procedure.file} is not in the project's ${CONTENT_DIR} folders, so its runs are not recorded in the project's history: ` +
      `pass --records <folder> to say where they go (or move the page into ${CONTENT_DIR}). --dry-run needs neither.`,
  );
}
