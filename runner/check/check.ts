import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { BashSyntaxChecker } from './bash-syntax.ts';
import { readAndLint, type PageLint, type SyntaxJob } from './lint.ts';
import type { WorkerData } from './worker.ts';
import { mark } from './timing.ts';

export { checkProcedure } from './lint.ts';

export interface CheckResult {
  files: number;
  steps: number;
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
}

/** Below this many pages, starting worker threads costs more than it saves. */
const WORKER_THRESHOLD = 300;

/**
 * Validates pages without executing anything: parse diagnostics, lint rules,
 * bash syntax (parsed by bash, never executed) and cross-page rules such as
 * unique runbook ids. Shell steps go to bash in chunks as soon as their page
 * is parsed, so bash runs on another core meanwhile; large trees are also
 * parsed by worker threads beside the main thread.
 */
export async function checkFiles(root: string, files: string[], inventory: Inventory, options: { recordsDir?: string } = {}): Promise<CheckResult> {
  const bash = new BashSyntaxChecker();
  // Results are kept by page index, so the outcome does not depend on which thread finished first.
  const lints: PageLint[] = new Array(files.length);
  const syntaxDiagnostics: Diagnostic[] = [];
  const syntax: Array<Promise<void>> = [];
  const accept = (index: number, lint: PageLint) => {
    lints[index] = lint;
    for (const job of lint.syntax) syntax.push(checkSyntax(bash, job).then((d) => void (d && syntaxDiagnostics.push(d))));
  };
  try {
    await lintAll(root, files, inventory, files.length >= WORKER_THRESHOLD ? workerCount() : 0, accept);
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

/** Worker threads besides the main one: RUNBOOK_CHECK_WORKERS, else one per spare core (at most 3). */
function workerCount(): number {
  const set = process.env.RUNBOOK_CHECK_WORKERS;
  return set !== undefined && /^\d+$/.test(set) ? Number(set) : Math.min(availableParallelism() - 1, 3);
}

/**
 * Lints every page: the main thread and `workers` worker threads take the next
 * page from one shared counter until none is left, so a worker that starts late
 * (it loads the parser first) simply takes fewer pages.
 */
async function lintAll(root: string, files: string[], inventory: Inventory, workers: number, accept: (index: number, lint: PageLint) => void) {
  const next = new Int32Array(new SharedArrayBuffer(4));
  const running = Array.from({ length: workers }, () => lintInWorker({ root, files, inventory, next }, accept));
  for (let done = 0; ; done++) {
    const index = Atomics.add(next, 0, 1);
    if (index >= files.length) break;
    accept(index, readAndLint(root, files[index]!, inventory));
    // Let worker results in now and then, so their steps reach bash while parsing goes on.
    if (workers > 0 && done % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(running);
}

function lintInWorker(data: WorkerData, accept: (index: number, lint: PageLint) => void): Promise<void> {
  return new Promise((done, fail) => {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: data });
    worker.on('message', (batch: Array<[number, PageLint]>) => batch.forEach(([index, lint]) => accept(index, lint)));
    worker.on('error', fail);
    worker.on('exit', (code) => (code === 0 ? done() : fail(new Error(`check worker exited with ${code}`))));
  });
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
      out.push({ file: p.file, line: p.runbookLine, column: 1, severity: 'error', rule: 'duplicate-runbook-id', message: `runbook id "${p.id}" is also used by ${first}: set a distinct runbook.id` });
    } else byId.set(p.id, p.file);
  }
  return out;
}
