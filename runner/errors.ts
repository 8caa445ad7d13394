import type { z } from 'zod';

/** Bad input from the user: exit code 2, message printed without a stack. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

export const EXIT = { ok: 0, stepFailed: 1, usage: 2, interrupted: 130 } as const;

/** Formats zod issues as `file:line  path: message` lines; `lineOf` maps a path to a source line when known. */
export function formatZodIssues(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  lineOf?: (path: PropertyKey[]) => number | undefined,
): string {
  return issues
    .map((issue) => {
      const path = issue.path as PropertyKey[];
      const line = lineOf?.(path);
      const where = line ? `${file}:${line}` : file;
      const field = path.length ? `${path.map(String).join('.')}: ` : '';
      return `${where}  ${field}${issue.message}`;
    })
    .join('\n');
}
