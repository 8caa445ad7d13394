import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { BashSyntaxChecker } from './bash-syntax.ts';
import { lintSource, type PageLint, type SyntaxJob } from './lint.ts';
import { readFailure } from './read-failure.ts';
import { checkRecords } from './records.ts';

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
 * unique runbook ids. Large trees are linted in worker threads while the bash
 * syntax check runs in its own process, so all cores are busy.
 */
export async function checkFiles(root: string, files: string[], inventory: Inventory, options: { recordsDir?: string } = {}): Promise<CheckResult> {
  const bash = new BashSyntaxChecker();
  const diagnostics: Diagnostic[] = [];
  const syntax: Array<Promise<void>> = [];
  const pages: PageLint['page'][] = [];
  const accept = (lint: PageLint) => {
    pages.push(lint.page);
    diagnostics.push(...lint.diagnostics);
    for (const job of lint.syntax) syntax.push(checkSyntax(bash, job).then((d) => void (d && diagnostics.push(d))));
  };
  try {
    const workers = Number(process.env.RUNBOOK_CHECK_WORKERS ?? Math.min(availableParallelism(), 4));
    if (files.length >= WORKER_THRESHOLD && workers > 1) await lintInWorkers(root, files, inventory, workers, accept);
    else await lintHere(root, files, inventory, accept);
    bash.flush();
    await Promise.all(syntax);
  } finally {
    bash.close();
  }
  diagnostics.push(...duplicateIds(pages));
  if (options.recordsDir) {
    const ids = new Set(pages.filter((p) => p.steps > 0 || p.kind === 'runbook').map((p) => p.id));
    diagnostics.push(...checkRecords(root, options.recordsDir, ids));
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

async function lintHere(root: string, files: string[], inventory: Inventory, accept: (l: PageLint) => void) {
  // Read ahead so file I/O overlaps parsing.
  const sources = files.map((f) => readFile(resolve(root, f), 'utf8').then((s) => s, (err: NodeJS.ErrnoException) => err));
  for (let i = 0; i < files.length; i++) {
    const source = await sources[i]!;
    accept(source instanceof Error ? readFailure(files[i]!, source) : lintSource(source, files[i]!, inventory));
  }
}

function lintInWorkers(root: string, files: string[], inventory: Inventory, n: number, accept: (l: PageLint) => void): Promise<void> {
  const slices = Array.from({ length: n }, (_, i) => files.filter((_, j) => j % n === i));
  return Promise.all(
    slices.map(
      (slice) =>
        new Promise<void>((done, fail) => {
          const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { root, files: slice, inventory } });
          worker.on('message', (batch: PageLint[]) => batch.forEach(accept));
          worker.on('error', fail);
          worker.on('exit', (code) => (code === 0 ? done() : fail(new Error(`check worker exited with ${code}`))));
        }),
    ),
  ).then(() => undefined);
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

function duplicateIds(pages: PageLint['page'][]): Diagnostic[] {
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
