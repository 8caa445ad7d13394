import pc from 'picocolors';
import { formatDuration } from '../format/duration.ts';
import { oneLine } from '../ui/escape.ts';
import { table } from '../ui/table.ts';

/** What `runbook verify` says: a page's result, one line per page, the summary table and the verdict. */

export type PageOutcome = 'passed' | 'failed' | 'not-run' | 'error' | 'interrupted';

export interface FailedCheck {
  step: string;
  line: number | null;
  status: string;
  /** The node(s) whose SSH connection failed before the step started: the check could not run here. */
  unreachable: boolean;
  error: string | null;
  /** The last line of the step's output, for a glance; the record has the rest. */
  lastOutput: string | null;
}

export interface PageResult {
  id: string;
  title: string;
  kind: string;
  file: string;
  outcome: PageOutcome;
  checks: number;
  passed: number;
  failed: number;
  runId: string | null;
  record: string | null;
  durationMs: number;
  /** Why the page was not run (a refusal: a missing param, a page check error, a lock). */
  reason?: string;
  failures: FailedCheck[];
}

const OUTCOME_STYLE: Record<PageOutcome, (s: string) => string> = {
  passed: pc.green,
  failed: pc.red,
  'not-run': pc.yellow,
  error: pc.red,
  interrupted: pc.yellow,
};
const OUTCOME_MARK: Record<PageOutcome, string> = {
  passed: '✓',
  failed: '✗',
  'not-run': '-',
  error: '!',
  interrupted: '■',
};

/** One line per page as it finishes, and one more per failed check. */
export function pageLine(r: PageResult): string {
  const style = OUTCOME_STYLE[r.outcome];
  const took = pc.dim(formatDuration(r.durationMs));
  if (r.outcome === 'not-run' || r.outcome === 'error') {
    const why = reasonLine(r);
    return `${style(OUTCOME_MARK[r.outcome])} ${r.id}  ${style(r.outcome === 'error' ? 'error' : 'not run')}: ${why}\n`;
  }
  const counts = `${r.passed}/${r.checks} checks passed`;
  const head = `${style(OUTCOME_MARK[r.outcome])} ${r.id}  ${style(counts)}  ${took}  ${pc.dim(r.record ?? '')}\n`;
  const lines = r.failures.map((f) => {
    const where = f.line ? `:${f.line}` : '';
    const what = f.unreachable ? `${f.error} ${pc.dim('(not reachable from here)')}` : (f.error ?? f.status);
    const last = f.lastOutput && !f.unreachable ? pc.dim(` — ${f.lastOutput}`) : '';
    return `    ${pc.red('✗')} ${f.step}${pc.dim(where)}: ${what}${last}\n`;
  });
  return head + lines.join('');
}

/** A refusal in one line: its lines joined, without the page's file (the line names the page), cut when long. */
function reasonLine(r: PageResult): string {
  const text = (r.reason ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(`${r.file}: `, '');
  const line = oneLine(text);
  return line.length > 240 ? `${line.slice(0, 239)}…` : line;
}

export function summaryTable(results: readonly PageResult[]): string {
  const rows = results.map((r) => [
    r.id,
    r.kind,
    r.outcome === 'not-run' || r.outcome === 'error' ? '-' : String(r.passed),
    r.outcome === 'not-run' || r.outcome === 'error' ? '-' : r.failed ? pc.red(String(r.failed)) : '0',
    OUTCOME_STYLE[r.outcome](r.outcome === 'not-run' ? 'not run' : r.outcome),
    r.record ?? '-',
  ]);
  return table(['PAGE', 'KIND', 'PASSED', 'FAILED', 'RESULT', 'RECORD'], rows);
}

export interface Totals {
  pages: number;
  verified: number;
  passedPages: number;
  failedPages: number;
  notRun: number;
  checks: number;
  passed: number;
  failed: number;
  unreachable: number;
}

export function totalsOf(results: readonly PageResult[], pages: number): Totals {
  const ran = results.filter((r) => r.outcome === 'passed' || r.outcome === 'failed' || r.outcome === 'interrupted');
  return {
    pages,
    verified: ran.length,
    passedPages: results.filter((r) => r.outcome === 'passed').length,
    failedPages: results.filter((r) => r.outcome === 'failed').length,
    notRun: results.filter((r) => r.outcome === 'not-run' || r.outcome === 'error').length,
    checks: ran.reduce((n, r) => n + r.checks, 0),
    passed: ran.reduce((n, r) => n + r.passed, 0),
    failed: ran.reduce((n, r) => n + r.failed, 0),
    unreachable: ran.reduce((n, r) => n + r.failures.filter((f) => f.unreachable).length, 0),
  };
}

/** `incomplete`: the sweep exits 2 (a named page could not run, or a page was refused): it did not pass, whatever the checks said. */
export function totalsLine(t: Totals, stopped: boolean, incomplete = false): string {
  const checks = `${t.passed}/${t.checks} checks passed on ${t.verified} page${t.verified === 1 ? '' : 's'}`;
  const failed = t.failed
    ? pc.red(`, ${t.failed} failed${t.unreachable ? ` (${t.unreachable} could not reach their node)` : ''}`)
    : '';
  const notRun = t.notRun ? pc.yellow(`; ${t.notRun} page${t.notRun === 1 ? '' : 's'} not run`) : '';
  const leftOver = t.pages - t.verified - t.notRun;
  const left = stopped ? pc.yellow(`; stopped with ${leftOver} page${leftOver === 1 ? '' : 's'} left`) : '';
  const verdict = stopped
    ? pc.yellow('Verify interrupted')
    : t.failed
      ? pc.red('Verify failed')
      : incomplete
        ? pc.yellow('Verify incomplete')
        : pc.green('Verify passed');
  return `${verdict}: ${checks}${failed}${notRun}${left}.`;
}
