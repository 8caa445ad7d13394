import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { checkFiles } from '../check/check.ts';
import { UsageError } from '../errors.ts';
import { loadInventory } from '../inventory/load.ts';
import { importMarkdown, type ImportResult } from './page.ts';
import { readImportSource } from './source.ts';
import { pageIdProblem, suggestPageId } from '../format/page-id.ts';
import { loadAllCached } from '../page-cache.ts';

export const DEFAULT_OUT = 'src/content/docs/runbooks/imported';

export interface ImportOptions {
  out?: string;
  id?: string;
  inventory?: string;
  dryRun?: boolean;
  /** Replace pages that already exist at the target. */
  force?: boolean;
}

export interface ImportedFile extends ImportResult {
  source: string;
  target: string;
  written: boolean;
  check: { errors: number; warnings: number; messages: string[] };
}

function inputs(path: string): string[] {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${path}: no such file or directory; pass a .md file or a folder of them`);
  }
  if (!st.isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(path, f));
  if (!files.length) throw new UsageError(`${path}: holds no .md file to import`);
  return files;
}

/** Imports each file, checks the page with check --strict's own code (in a temp copy), writes unless dry-run. */
export async function runImport(path: string, opts: ImportOptions, cwd = process.cwd()): Promise<ImportedFile[]> {
  const idProblem = opts.id === undefined ? undefined : pageIdProblem(opts.id);
  if (idProblem) throw new UsageError(`--id ${opts.id}: ${idProblem}; for example --id ${suggestPageId(opts.id!)}`);
  const { inventory } = loadInventory(opts.inventory, cwd);
  const files = inputs(resolve(cwd, path));
  if (opts.id && files.length > 1)
    throw new UsageError(`--id names one page but ${path} holds ${files.length} files; import them one by one`);
  // The ids the project's pages already have, wherever they live and however they got them (runbook.id or file name).
  const projectPages = await loadAllCached(cwd);
  const targetOf = (source: string) =>
    resolve(cwd, opts.out ?? DEFAULT_OUT, `${opts.id ?? suggestPageId(basename(source).replace(/\.md$/, ''))}.mdx`);
  // Refused before anything is written, so a folder import does not stop half way.
  const existing = files.map(targetOf).filter((t) => existsSync(t));
  if (existing.length && !opts.force && !opts.dryRun)
    throw new UsageError(
      `${existing.map((t) => relative(cwd, t)).join(', ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace, or --out another folder`,
    );
  // Every source read and refused or accepted before any page is written.
  const sources = new Map(files.map((f) => [f, readImportSource(f, cwd)]));
  const out: ImportedFile[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'runbook-import-'));
  try {
    for (const source of files) {
      const id = opts.id ?? suggestPageId(basename(source).replace(/\.md$/, ''));
      const { text, crlf } = sources.get(source)!;
      const result = importMarkdown(text, id, inventory);
      if (crlf) result.decisions.unshift({ line: 1, what: 'CRLF line endings became LF', needsDecision: false });
      const probe = join(scratch, `${id}.mdx`);
      writeFileSync(probe, result.page);
      const checked = await checkFiles(scratch, [probe], inventory);
      const target = targetOf(source);
      // check runs on the page alone, so a runbook id the site already has is looked for here.
      const owner = projectPages.find((p) => p.id === id && resolve(cwd, p.file) !== target);
      if (owner) {
        result.decisions.unshift({
          line: 1,
          what: `runbook id ${id} is taken by ${relative(cwd, resolve(cwd, owner.file))}: pass --id`,
          needsDecision: true,
        });
      }
      if (existsSync(target))
        result.decisions.unshift({
          line: 1,
          what: opts.force
            ? `${relative(cwd, target)} exists and ${opts.dryRun ? 'would be' : 'was'} replaced (--force)`
            : `${relative(cwd, target)} exists: importing would refuse it without --force`,
          needsDecision: !opts.force,
        });
      if (!opts.dryRun) {
        mkdirSync(resolve(target, '..'), { recursive: true });
        writeFileSync(target, result.page);
      }
      out.push({
        ...result,
        source: relative(cwd, source),
        target: relative(cwd, target),
        written: !opts.dryRun,
        check: {
          errors: checked.errors,
          warnings: checked.warnings,
          messages: checked.diagnostics.map((d) => `${d.line}:${d.column} ${d.severity} ${d.rule} ${d.message}`),
        },
      });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}

export function passes(f: ImportedFile): boolean {
  return f.check.errors === 0 && f.check.warnings === 0 && !f.decisions.some((d) => d.needsDecision);
}
