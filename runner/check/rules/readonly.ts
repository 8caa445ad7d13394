import type { Diagnostic } from '../../format/model.ts';
import { analyseShell } from '../../shell/analyse.ts';
import { namesFile } from '../../shell/patterns.ts';
import { readOnlyToolOf, refusedVerb } from '../../shell/readonly.ts';
import { matchesWrite, MUTATING } from '../../shell/writes.ts';
import type { StepRule } from '../types.ts';
import { findDestructive, hops } from './destructive.ts';

/** Redirections that open a file for writing; `>&word` does too unless the word is an fd. */
const WRITE_OPS = new Set(['>', '>>', '&>', '&>>', '>|', '<>', '>&']);

/**
 * A `check` step is read-only in fact: no redirection into a file, no command that writes, no
 * kubectl/helm/k3s/crictl/ctr verb or writing option outside the read-only lists
 * (shell/readonly.ts). Destructive commands are destructive-check's to report. At run time the
 * same lists are enforced by execute/readonly.ts.
 */
export const checkWritesRule: StepRule = (step, { at }) => {
  if (!step.attrs.check) return [];
  const message = (what: string) =>
    `step "${step.id}" is a read-only check but ${what}: ` +
    'checks must not change anything; move the write to a step without check';
  if (step.kind === 'apply') return [at(-1, 'check-writes', message('applies a manifest'))];
  if (step.kind !== 'shell') return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const report = (line: number, what: string) => {
    if (seen.has(`${line}:${what}`)) return;
    seen.add(`${line}:${what}`);
    out.push(at(line, 'check-writes', message(what)));
  };
  const destructive = new Set(findDestructive(step).map((f) => f.invocation));
  const analysis = analyseShell(step.code);
  // A step that mounts read-only to look at something may unmount it again.
  const mountsItself = analysis.invocations.some((i) => i.name === 'mount' && i.argv.length > 1);
  // An alias body is read twice: where it is defined (alone) and where it is used (with the words
  // after it). Once uses were read, the definition alone would judge a command cut short.
  const aliasUsed = analysis.invocations.some((i) => i.via.some((v) => v.startsWith('alias ')));
  for (const inv of analysis.invocations) {
    if (destructive.has(inv) || inv.name === undefined || (inv.name === 'umount' && mountsItself)) continue;
    if (aliasUsed && inv.via.includes('alias')) continue;
    const tool = readOnlyToolOf(inv.name);
    if (tool) {
      const refused = refusedVerb(tool, inv.argv.slice(1));
      if (refused && refused !== 'unknown') report(inv.line, `runs ${refused}${hops(inv)}`);
      continue;
    }
    const hit = MUTATING.find((p) => matchesWrite(p, inv));
    if (hit) report(inv.line, `runs ${inv.name} (${hit.what})${hops(inv)}`);
  }
  for (const r of analysis.redirects) {
    if (!WRITE_OPS.has(r.op) || !namesFile(r.target)) continue;
    if (r.op === '>&' && /^(\d+|-)$/.test(r.target?.value ?? '')) continue;
    report(r.line, `writes to ${r.target?.value ?? r.target?.text} (${r.op})`);
  }
  return out;
};
