import type { ImportedFile } from './run-import.ts';

/** The before/after summary, plain text: what came in, what became steps, what is left to decide. */
export function formatSummary(f: ImportedFile): string {
  const nodeSteps = f.steps.filter((s) => s.on !== 'local').length;
  const lines = [
    `${f.source} -> ${f.target}${f.written ? '' : ' (dry run: not written)'}`,
    `  fences ${f.fences}, steps ${f.steps.length}, params ${f.params.length}, node steps ${nodeSteps}, illustration ${f.illustrations}`,
    `  check --strict: ${f.check.errors} error(s), ${f.check.warnings} warning(s)`,
    ...f.check.messages.map((m) => `    ${m}`),
  ];
  const open = f.decisions.filter((d) => d.needsDecision);
  if (open.length) lines.push('  needs a decision:', ...open.map((d) => `    line ${d.line}: ${d.what}`));
  lines.push(
    '  decisions taken:',
    ...f.decisions.filter((d) => !d.needsDecision).map((d) => `    line ${d.line}: ${d.what}`),
  );
  return `${lines.join('\n')}\n`;
}

export function summaryJson(f: ImportedFile) {
  const { page, ...rest } = f;
  void page;
  return { ...rest, nodeSteps: f.steps.filter((s) => s.on !== 'local').length };
}
