import type { PageLint } from './lint.ts';

export function readFailure(file: string, err: NodeJS.ErrnoException): PageLint {
  return {
    page: { file, id: file, kind: 'page', steps: 0, runbookLine: 1 },
    diagnostics: [{ file, line: 1, column: 1, severity: 'error', rule: 'read', message: `cannot read: ${err.code ?? err.message}` }],
    syntax: [],
  };
}
