import type { Diagnostic } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { BashSyntaxChecker } from './bash-syntax.ts';
import { readAndLint, type PageLint, type SyntaxJob } from './lint.ts';
import { mark } from './timing.ts';

export { checkProcedure } from './lint.ts';

export interface CheckResult {
  files: number;
  steps: number;
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
}

/** Pages parsed between two looks at bash's output. */
const YIELD_EVERY = 8;

/**
 * Validates pages without executing anything: parse diagnostics, lint rules,
 * bash syntax (parsed by bash, never executed) and cross-page rules such as
 * unique runbook ids. Shell steps go to bash in chunks as soon as their page
 * is parsed, so bash works on another core while parsing goes on.
 *
 * One thread parses: worker threads were measured (scripts/bench-check) to
 * cost more CPU than they save, each loading and warming up the parser anew.
 */
export async function checkFiles(
  root: string,
  files: string[],
  inventory: Inventory,
  options: { recordsDir?: string } = {},
): Promise<CheckResult> {
  const bash = new BashSyntaxChecker();
  const lints: PageLint[] = [];
  const syntaxDiagnostics: Diagnostic[] = [];
  const syntax: Array<Promise<void>> = [];
  try {
    for (const file of files) {
      const lint = readAndLint(root, file, inventory);
      lints.push(lint);
      for (const job of lint.syntax)
        syntax.push(checkSyntax(bash, job).then((d) => void (d && syntaxDiagnostics.push(d))));
      // Now and then let bash's output in: a bash whose output pipe is full waits, and would finish only after the last page.
      if (lints.length % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    mark('parse and lint');
    bash.flush();
    await Promise.all(syntax);
    mark('bash syntax (rest)');
  } finally {
    bash.close();
  }
  const pages = lints.map((l) => l.page);
  const diagnostics = [...lints.flatMap((l) => l.diagnostics), ...syntaxDiagnostics, ...duplicateIds(pages)];
  if (options.recordsDir) {
    const ids = new Set(pages.filter((p) => p.steps > 0 || p.kind === 'runbook').map((p) => p.id));
    // Loaded only here: the record schema is not needed to check pages alone.
    const { checkRecords } = await import('./records.ts');
    diagnostics.push(...checkRecords(root, options.recordsDir, ids));
    mark('run records');
  }
  diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return {
    files: files.length,
    steps: pages.reduce((n, p) => n + p.steps, 0),
    diagnostics,
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

async function checkSyntax(bash: BashSyntaxChecker, job: SyntaxJob): Promise<Diagnostic | undefined> {
  const r = await bash.check(job.code);
  if (r.ok && !r.warning) return undefined;
  return {
    file: job.file,
    line: job.line + (r.line ?? 1) - 1,
    column: job.column,
    severity: r.ok ? 'warning' : 'error',
    rule: 'bash-syntax',
    message: `step "${job.stepId}": ${r.message}`,
  };
}

/** The first page (in the order given) keeps a runbook id; later ones are reported. */
function duplicateIds(pages: Array<PageLint['page']>): Diagnostic[] {
  const byId = new Map<string, string>();
  const out: Diagnostic[] = [];
  for (const p of pages) {
    if (p.kind !== 'runbook') continue;
    const first = byId.get(p.id);
    if (first) {
      out.push({
        file: p.file,
        line: p.runbookLine,
        column: 1,
        severity: 'error',
        rule: 'duplicate-runbook-id',
        message: `runbook id "${p.id}" is also used by ${first}: set a distinct runbook.id`,
      });
    } else byId.set(p.id, p.file);
  }
  return out;
}
