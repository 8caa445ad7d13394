import type { Decide, DraftStep } from './draft.ts';

/** Set by the runner in every step, or by the environment the operator's shell passes on. */
const PROVIDED = new Set(['NODE', 'NODE_ADDRESS', 'HOME', 'PATH', 'USER', 'PWD', 'KUBECONFIG', 'SECONDS', 'RANDOM']);

/** Names a step assigns (`X=…`, `export X=…`, `read X`, `for X in`). */
function assigned(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(/(?:^|[;&|]\s*|\bexport\s+|\blocal\s+|\bdeclare\s+(?:-\w+\s+)?)([A-Za-z_]\w*)=/gm))
    names.add(m[1]!);
  for (const m of code.matchAll(/\b(?:read(?:\s+-\w+)*|for)\s+([A-Za-z_]\w*)/g)) names.add(m[1]!);
  return names;
}

/**
 * In the notes every command ran in one terminal, so a variable set in one block was there in
 * the next; each step is its own bash process (and a node step runs over ssh), so it is not.
 */
export function carriedVariables(steps: DraftStep[], params: Set<string>, decide: Decide): void {
  const setBy = new Map<string, DraftStep>();
  for (const s of steps) {
    const own = assigned(s.code);
    const reported = new Set<string>();
    for (const m of s.code.matchAll(/\$\{?([A-Za-z_]\w*)/g)) {
      const name = m[1]!;
      const from = setBy.get(name);
      // `X=$X cmd` hands on a value this step did not set.
      const selfCopy = new RegExp(`\\b${name}="?$`).test(s.code.slice(0, m.index));
      if (!from || (own.has(name) && !selfCopy) || params.has(name) || PROVIDED.has(name) || reported.has(name))
        continue;
      reported.add(name);
      const exported = new RegExp(`\\bexport\\s+${name}=`).test(from.code);
      if (exported && from.on === 'local' && s.on !== 'local')
        decide(
          s.line,
          `${name} is exported locally but used on the node: the export does not cross ssh; declare it as a param`,
          true,
        );
      else
        decide(
          s.line,
          `${name} is set in step ${from.id} but used in step ${s.id}: each step is its own bash process, so it is empty here; declare it as a param or merge the steps`,
          true,
        );
    }
    for (const name of own) setBy.set(name, s);
  }
}
