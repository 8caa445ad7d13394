import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Diagnostic, Procedure, Severity, Step } from '../format/model.ts';
import { parseProcedure, STEP_LANGUAGES } from '../format/parse.ts';
import type { Inventory } from '../inventory/schema.ts';
import { BashSyntaxChecker } from './bash-syntax.ts';
import { PAGE_RULES, STEP_RULES } from './rules/index.ts';
import { checkRecords } from './records.ts';

export interface CheckResult {
  files: number;
  records?: number;
  steps: number;
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
}

/**
 * Validates pages without executing anything: parse diagnostics, lint rules,
 * bash syntax (in a noexec shell) and cross-page rules such as unique runbook ids.
 */
export async function checkFiles(root: string, files: string[], inventory: Inventory, options: { recordsDir?: string } = {}): Promise<CheckResult> {
  const bash = new BashSyntaxChecker();
  const diagnostics: Diagnostic[] = [];
  const syntax: Array<Promise<void>> = [];
  const procedures: Procedure[] = [];
  try {
    // Read ahead so file I/O overlaps parsing; bash checks run in parallel in their own process.
    const sources = files.map((f) => readFile(resolve(root, f), 'utf8').then((s) => s, (err: NodeJS.ErrnoException) => err));
    for (let i = 0; i < files.length; i++) {
      const source = await sources[i]!;
      const file = files[i]!;
      if (source instanceof Error) {
        diagnostics.push({ file, line: 1, column: 1, severity: 'error', rule: 'read', message: `cannot read: ${source.code ?? source.message}` });
        continue;
      }
      const procedure = parseProcedure(source, file);
      procedures.push(procedure);
      diagnostics.push(...procedure.diagnostics, ...checkProcedure(procedure, inventory));
      for (const step of procedure.steps) {
        if (step.kind === 'shell' && STEP_LANGUAGES[step.lang]) syntax.push(checkSyntax(bash, procedure, step).then((d) => void (d && diagnostics.push(d))));
      }
    }
    bash.flush();
    await Promise.all(syntax);
  } finally {
    bash.close();
  }
  diagnostics.push(...duplicateIds(procedures));
  if (options.recordsDir) diagnostics.push(...checkRecords(root, options.recordsDir, procedures));
  diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return {
    files: files.length,
    steps: procedures.reduce((n, p) => n + p.steps.length, 0),
    diagnostics,
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

export function checkProcedure(procedure: Procedure, inventory: Inventory): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of PAGE_RULES) out.push(...rule(procedure, inventory));
  for (const step of procedure.steps) {
    const at = atStep(procedure, step);
    for (const rule of STEP_RULES) out.push(...rule(step, { procedure, inventory, at }));
  }
  return out;
}

function atStep(procedure: Procedure, step: Step) {
  return (codeLine: number, rule: string, message: string, severity: Severity = 'error'): Diagnostic => ({
    file: procedure.file,
    line: step.position.start.line + 1 + codeLine,
    column: step.position.start.column,
    severity,
    rule,
    message,
  });
}

async function checkSyntax(bash: BashSyntaxChecker, procedure: Procedure, step: Step): Promise<Diagnostic | undefined> {
  const r = await bash.check(step.code);
  if (r.ok && !r.warning) return undefined;
  return atStep(procedure, step)((r.line ?? 1) - 1, 'bash-syntax', `step "${step.id}": ${r.message}`, r.ok ? 'warning' : 'error');
}

function duplicateIds(procedures: Procedure[]): Diagnostic[] {
  const byId = new Map<string, Procedure>();
  const out: Diagnostic[] = [];
  for (const p of procedures) {
    if (p.kind !== 'runbook') continue;
    const first = byId.get(p.id);
    if (first) {
      out.push({ file: p.file, line: p.runbook?.lines.block ?? 1, column: 1, severity: 'error', rule: 'duplicate-runbook-id', message: `runbook id "${p.id}" is also used by ${first.file}: set a distinct runbook.id` });
    } else byId.set(p.id, p);
  }
  return out;
}

/** Exposed for tests: parse + lint one source string (no bash syntax). */
export function checkSource(source: string, file: string, inventory: Inventory): Diagnostic[] {
  const p = parseProcedure(source, file);
  return [...p.diagnostics, ...checkProcedure(p, inventory)];
}
