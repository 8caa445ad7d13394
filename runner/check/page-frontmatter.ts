import type { Frontmatter } from '../format/frontmatter.ts';
import type { Diagnostic, Procedure } from '../format/model.ts';
import { parsePage } from '../format/parse.ts';
import { frontmatterChecks } from '../schemas/pages.ts';
import { fieldIssues } from '../errors.ts';

/**
 * The runner's view of a page: parsed, and its frontmatter checked against the schema of
 * its kind (ADR pages, `weekend:` and `incident:` blocks). The site parses with
 * parseProcedure alone: its content collections validate the same schemas.
 */
export function readPage(source: string | Uint8Array, file: string): Procedure {
  const { procedure, frontmatter } = parsePage(source, file);
  procedure.diagnostics.push(...checkPageFrontmatter(procedure, frontmatter));
  return procedure;
}

/** Every schema issue of the page's frontmatter, at the line of the field it is about. */
export function checkPageFrontmatter(procedure: Procedure, frontmatter: Frontmatter): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { path, schema, value } of frontmatterChecks(procedure.kind, frontmatter.data)) {
    const result = schema.safeParse(value);
    if (result.success) continue;
    for (const i of fieldIssues(result.error.issues, (p) => frontmatter.positions.lineOf(p), path)) {
      const message = `${i.field || 'frontmatter'}: ${i.message}`;
      out.push({ file: procedure.file, line: i.line ?? 1, column: 1, severity: 'error', rule: 'frontmatter', message });
    }
  }
  return out;
}
