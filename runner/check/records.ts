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
  // One line per record: what is wrong, and its first three schema issues.
  const out: Diagnostic[] = problems.map(({ file, message, issues }) => {
    const details = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message));
    const shown = details.slice(0, 3).join('; ') + (details.length > 3 ? `; and ${details.length - 3} more` : '');
    return {
      file: relative(root, file),
      line: 1,
      column: 1,
      severity: 'error',
      rule: 'run-record',
      message: `${message}${shown ? `: ${shown}` : ''}`,
    };
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
