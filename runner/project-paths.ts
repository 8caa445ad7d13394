import { accessSync, constants, lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_INVENTORY } from './inventory/default.ts';
import { findProjectRoot } from './project-files.ts';
import { describeError, UsageError } from './errors.ts';

/** The options every verb understands the same way. */
export interface ProjectOptions {
  inventory?: string;
  records?: string;
}

export interface ProjectPaths {
  root: string;
  /** The inventory file: the default one is the project's, a path given by the user is relative to the cwd. */
  inventoryFile: string;
  /**
   * The records folder, checked usable: readable when it exists, or (for `write`) created and writable.
   * Async so the record store (and its schema) loads only for verbs that touch records: `check` of a page stays fast.
   */
  records(mode: 'read' | 'write'): Promise<string>;
}

/**
 * Where a verb works, without loading any parser or schema: `show` and `list` read their inventory
 * and records through runner/read-cache.ts and must not pull zod in. projectContext adds the loader.
 */
export function projectPaths(opts: ProjectOptions): ProjectPaths {
  const root = findProjectRoot();
  const inventory = opts.inventory ?? DEFAULT_INVENTORY;
  return {
    root,
    inventoryFile: inventory === DEFAULT_INVENTORY ? `${root}/${DEFAULT_INVENTORY}` : inventory,
    records: async (mode) => {
      const { recordsDir } = await import('./record/read.ts');
      return usableFolder(recordsDir(root, opts.records), mode, opts.records ? '--records' : 'the records folder');
    },
  };
}

/**
 * A folder the runner can use, or a UsageError saying why not: a file or a dangling
 * symlink where the folder should be, no permission, a read-only file system. A
 * folder to write is created now, so a run never starts against one it cannot use.
 */
export function usableFolder(dir: string, mode: 'read' | 'write', label: string): string {
  const where = `${label} ${dir}`;
  const todo = mode === 'write' ? 'Pass --records <folder> with a folder you can write' : 'Pass --records <folder>';
  let link: Stats | undefined;
  try {
    link = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new UsageError(`${where}: ${describeError(err)}. ${todo}.`);
  }
  if (link?.isSymbolicLink()) {
    try {
      statSync(dir);
    } catch {
      throw new UsageError(`${where} is a symbolic link to something that does not exist (or a loop). ${todo}.`);
    }
  }
  if (link && !statSync(dir).isDirectory()) throw new UsageError(`${where} is a file, not a folder. ${todo}.`);
  if (!link && mode === 'read') return dir;
  const access = mode === 'write' ? constants.W_OK | constants.X_OK : constants.R_OK | constants.X_OK;
  try {
    if (!link) mkdirSync(dir, { recursive: true });
    accessSync(dir, access);
  } catch (err) {
    // A failed recursive mkdir may only say ENOENT; the nearest folder that exists says why (read-only, no permission).
    const cause = link ? err : (ancestorProblem(dir, access) ?? err);
    throw new UsageError(`${where}: ${describeError(cause)}. ${todo}.`);
  }
  return dir;
}

function ancestorProblem(dir: string, access: number): unknown {
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
    try {
      lstatSync(d);
    } catch {
      continue;
    }
    try {
      accessSync(d, access);
      return undefined;
    } catch (err) {
      return Object.assign(err as NodeJS.ErrnoException, { path: d });
    }
  }
  return undefined;
}
