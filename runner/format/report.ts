import type { Diagnostic, Severity } from './model.ts';
import type { RuleId } from './rule-ids.ts';

/** How the parser's parts report a problem: at a 1-based line and column of the page. */
export type Report = (line: number, column: number, rule: RuleId, message: string, severity?: Severity) => void;

/** A Report that appends to `diagnostics` for `file`. */
export function reporter(file: string, diagnostics: Diagnostic[]): Report {
  return (line, column, rule, message, severity = 'error') =>
    diagnostics.push({ file, line, column, severity, rule, message });
}
