import { readProblem, readRegularFile } from '../read-file.ts';
import { resolve } from 'node:path';
import type { Diagnostic, PageKind, Procedure, Severity, Step } from '../format/model.ts';
import { STEP_LANGUAGES } from '../format/parse.ts';
import { readPage } from './page-frontmatter.ts';
import type { Inventory } from '../inventory/schema.ts';
import type { RuleId } from '../format/rule-ids.ts';
import { PAGE_RULES, STEP_RULES } from './rules/index.ts';

/** A shell step waiting for the bash syntax check, positioned for its diagnostic. */
export interface SyntaxJob {
  file: string;
  stepId: string;
  /** 1-based file line of the first code line, and the fence's column. */
  line: number;
  column: number;
  code: string;
}

/** What checking one page yields. */
export interface PageLint {
  page: { file: string; id: string; kind: PageKind; steps: number; runbookLine: number };
  diagnostics: Diagnostic[];
  syntax: SyntaxJob[];
}

/** Reads and lints one page; a page that cannot be read is a diagnostic, not a crash. */
export function readAndLint(root: string, file: string, inventory: Inventory): PageLint {
  let source: Buffer;
  try {
    // Synchronous: parsing is the bottleneck, and async reads only add event-loop work to it.
    // Bytes, not text: the parser decodes them and warns where they are not UTF-8.
    source = readRegularFile(resolve(root, file));
  } catch (err) {
    const message = `cannot read: ${readProblem(err)}`;
    return {
      page: { file, id: file, kind: 'page', steps: 0, runbookLine: 1 },
      diagnostics: [{ file, line: 1, column: 1, severity: 'error', rule: 'read', message }],
      syntax: [],
    };
  }
  return lintSource(source, file, inventory);
}

/** Parses and lints one page: everything but the bash syntax check and cross-page rules. */
export function lintSource(source: string | Buffer, file: string, inventory: Inventory): PageLint {
  const procedure = readPage(source, file);
  const syntax = procedure.steps
    .filter((s) => s.kind === 'shell' && STEP_LANGUAGES[s.lang])
    .map((s) => {
      const { line, column } = s.position.start;
      return { file, stepId: s.id, line: line + 1, column, code: s.code };
    });
  // The frontmatter line of `runbook:` found by text, so the summary needs no YAML positions.
  const runbookLine = procedure.kind === 'runbook' ? runbookBlockLine(source) : 1;
  return {
    page: { file, id: procedure.id, kind: procedure.kind, steps: procedure.steps.length, runbookLine },
    diagnostics: [...procedure.diagnostics, ...checkProcedure(procedure, inventory)],
    syntax,
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
  return (codeLine: number, rule: RuleId, message: string, severity: Severity = 'error'): Diagnostic => ({
    file: procedure.file,
    line: step.position.start.line + 1 + codeLine,
    column: step.position.start.column,
    severity,
    rule,
    message,
  });
}

/** The line of `runbook:` at the start of a line (never line 1, which opens the frontmatter). */
function runbookBlockLine(source: string | Buffer): number {
  const at = source.indexOf('\nrunbook:');
  if (at < 0) return 1;
  let line = 2;
  for (let i = source.indexOf('\n'); i !== -1 && i < at; i = source.indexOf('\n', i + 1)) line++;
  return line;
}
