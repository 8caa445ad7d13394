import type { Procedure } from '../format/model.ts';
import { UsageError } from '../errors.ts';

/** A page with errors is never planned for running: every error is listed, positioned, and nothing executes. */
export function assertNoPageErrors(procedure: Procedure): void {
  const errors = procedure.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return;
  const list = errors.map((d) => `  ${d.file}:${d.line}:${d.column}  ${d.rule}  ${d.message}`).join('\n');
  throw new UsageError(
    `${procedure.file} has ${errors.length} error${errors.length > 1 ? 's' : ''}; fix them first (runbook check shows them all):\n${list}`,
  );
}

/** What `run` requires of a page: no errors, and at least one step (a page with none cannot "succeed"). */
export function assertRunnable(procedure: Procedure): void {
  assertNoPageErrors(procedure);
  if (procedure.steps.length === 0) {
    throw new UsageError(
      `${procedure.file} has no steps; nothing to run. A step is a fence with step=<id>, such as \`\`\`bash step=check-nodes`,
    );
  }
}
