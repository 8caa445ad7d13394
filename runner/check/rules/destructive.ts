import type { Step } from '../../format/model.ts';
import { analyseShell, type Invocation } from '../../shell/analyse.ts';
import { DESTRUCTIVE } from '../../shell/destructive.ts';
import { isGlob } from '../../shell/glob.ts';
import { matchesPattern, type CommandPattern } from '../../shell/patterns.ts';
import { mayMatch } from '../../shell/prefilter.ts';
import type { StepRule } from '../types.ts';

export { DESTRUCTIVE };

export interface DestructiveFinding {
  what: string;
  /** 0-based line in the step's code. */
  line: number;
  /** ` through ssh k3s-master`, or empty for a command run where the step runs. */
  where: string;
  invocation: Invocation;
}

/**
 * Every destructive command a shell step runs, one finding per command and line. The parser
 * must be loaded (rules/index.ts does it once). A step the parser cannot fully read is matched
 * on the commands it recovers plus a coarse word split of the text (shell/fallback.ts): it is
 * never passed as harmless for being unreadable, and its syntax error is bash-syntax's to report.
 */
export function findDestructive(step: Step): DestructiveFinding[] {
  if (step.kind !== 'shell') return [];
  let findings = cache.get(step.code);
  if (!findings) {
    if (cache.size > 10_000) cache.clear();
    findings = mayMatch(step.code, DESTRUCTIVE) ? match(step.code) : [];
    cache.set(step.code, findings);
  }
  return findings;
}

/** Findings by step text: the same command text recurs across pages and is matched once. */
const cache = new Map<string, DestructiveFinding[]>();

/** Patterns by command name, so an invocation meets only the patterns for its command. */
const BY_NAME = new Map<string, CommandPattern[]>();
const BY_PREFIX: Array<[string, CommandPattern]> = [];
for (const p of DESTRUCTIVE) {
  for (const c of p.commands) {
    if (c.endsWith('*')) BY_PREFIX.push([c.slice(0, -1), p]);
    else BY_NAME.set(c, [...(BY_NAME.get(c) ?? []), p]);
  }
}

function candidates(name: string | undefined): CommandPattern[] {
  if (name === undefined) return [];
  // A glob command word (`/bin/r?`) may run any command: matchesPattern reads it as each one it matches.
  if (isGlob(name)) return [...DESTRUCTIVE];
  const out = BY_NAME.get(name) ?? [];
  const prefixed = BY_PREFIX.filter(([prefix, p]) => name.startsWith(prefix) && !out.includes(p)).map(([, p]) => p);
  return prefixed.length ? [...out, ...prefixed] : out;
}

function match(code: string): DestructiveFinding[] {
  const found = new Map<string, DestructiveFinding>();
  for (const inv of analyseShell(code).invocations) {
    for (const p of candidates(inv.name)) {
      const key = `${p.what}@${inv.line}`;
      if (found.has(key) || !matchesPattern(p, inv)) continue;
      found.set(key, { what: p.what, line: inv.line, where: hops(inv), invocation: inv });
    }
  }
  return [...found.values()];
}

/** The hops that take a command off this machine, for the message: ssh and kubectl exec. */
export function hops(inv: Invocation): string {
  const away = inv.via.filter((v) => v.startsWith('ssh ') || v.startsWith('kubectl '));
  return away.length ? ` through ${away.join(', ')}` : '';
}

export const destructiveRule: StepRule = (step, { at }) => {
  const found = findDestructive(step);
  if (found.length === 0) return [];
  if (step.attrs.check) {
    return found.map((f) =>
      at(
        f.line,
        'destructive-check',
        `step "${step.id}" is a read-only check but runs ${f.what}${f.where}: checks must not change anything`,
      ),
    );
  }
  if (step.attrs.confirm) return [];
  return found.map((f) =>
    at(
      f.line,
      'destructive-unconfirmed',
      `step "${step.id}" runs ${f.what}${f.where} without confirm: ` +
        'add the confirm flag so the operator sees the command and agrees before it runs',
    ),
  );
};
