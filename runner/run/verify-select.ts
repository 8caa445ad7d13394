import type { Procedure } from '../format/model.ts';
import type { Plan } from '../plan/plan.ts';
import { loadAll, resolveProcedure } from '../project.ts';
import { UsageError } from '../errors.ts';

/** What a `runbook verify` sweep runs: which pages, and which of their steps (the checks). */

/** Pages named on the command line, or every page with at least one check step. */
export function selectPages(root: string, refs: readonly string[]): { pages: Procedure[]; named: boolean } {
  if (refs.length === 0) {
    const pages = loadAll(root).filter((p) => p.steps.some((s) => s.attrs.check));
    if (pages.length === 0)
      throw new UsageError(`no page under ${root}/src/content has a check step: nothing to verify`);
    return { pages, named: false };
  }
  const seen = new Set<string>();
  const pages: Procedure[] = [];
  for (const ref of refs) {
    const page = resolveProcedure(root, ref);
    if (!page.steps.some((s) => s.attrs.check)) {
      throw new UsageError(
        `${page.file} has no check step: nothing to verify there (\`runbook show ${page.id}\` lists its steps)`,
      );
    }
    if (seen.has(page.file)) continue;
    seen.add(page.file);
    pages.push(page);
  }
  return { pages, named: true };
}

/** The plan indices of a page's check steps; a check that needs confirmation has no place in an unattended sweep. */
export function checkIndices(plan: Plan): number[] {
  const checks = plan.instances.filter((i) => i.step.attrs.check);
  if (checks.length === 0) {
    throw new UsageError('no check step in its plan with these params (a tab or a param left them out)');
  }
  const asking = checks.filter((i) => i.step.attrs.confirm);
  if (asking.length) {
    const list = asking.map((i) => `${i.id} (line ${i.step.position.start.line})`).join(', ');
    throw new UsageError(
      `check step${asking.length > 1 ? 's' : ''} ${list} need${asking.length > 1 ? '' : 's'} confirmation; run the page itself`,
    );
  }
  return checks.map((i) => i.index);
}
