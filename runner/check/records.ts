import { relative } from 'node:path';
import type { Diagnostic } from '../format/model.ts';
import { listRecords } from '../record/store.ts';

/**
 * Run records are evidence the site publishes: a record that no longer
 * validates would break the build, and one whose runbook is gone would show
 * history for a procedure nobody can read.
 */
export function checkRecords(root: string, dir: string, ids: ReadonlySet<string>): Diagnostic[] {
  const { records, problems } = listRecords(dir);
  const out: Diagnostic[] = problems.map((problem) => {
    // One line per finding: "<file>: not a valid run record:" followed by "<file>  field: issue" lines.
    const [head = '', ...issues] = problem.split('\n');
    const file = head.slice(0, head.indexOf(': '));
    const details = issues.map((l) => l.slice(l.indexOf('  ') + 2));
    const shown = details.slice(0, 3).join('; ') + (details.length > 3 ? `; and ${details.length - 3} more` : '');
    const message = `${head.slice(file.length + 2).replace(/:$/, '')}${shown ? `: ${shown}` : ''}`;
    return { file: relative(root, file), line: 1, column: 1, severity: 'error', rule: 'run-record', message };
  });
  for (const { file, record } of records) {
    if (!ids.has(record.runbook.id)) {
      out.push({
        file: relative(root, file),
        line: 1,
        column: 1,
        severity: 'warning',
        rule: 'orphan-record',
        message: `run of "${record.runbook.id}", but no page has that id any more: restore the page, or delete the record`,
      });
    }
  }
  return out;
}
