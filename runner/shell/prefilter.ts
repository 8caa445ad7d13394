/**
 * Which steps need parsing at all. A pattern can only match a step whose text holds one of its
 * command names and, if it names verbs, one of those words: after quote removal they appear
 * literally however the step spells them ('r'm, r\m, "rm", /bin/rm, inside bash -c or ssh).
 * Only words hidden in a $'…' escape or behind an expansion escape the text, and the parser
 * cannot see through an expansion either; a step with $'…' (however escaped) is always parsed.
 * A word may also sit glued to a short option (`env -S'rm -rf x'`, `mysql -e'DROP …'`): the
 * endings of an option word count as words. A glob (`/bin/r?`, `r[m]`) may name any command, so a
 * step with a glob character is always parsed; SQL keywords may be glued to a comment (`drop--x`).
 * Most steps skip the parser this way (it is most of the rules' cost).
 */
import type { CommandPattern } from './patterns.ts';

/** Words one of which must be present: exact words, and prefixes (`mkfs.`, `set-`). */
interface Group {
  exact: Set<string>;
  prefixes: string[];
}

/** A pattern needs its command's name and, with verbs, every position of one alternative. */
interface Needs {
  command: Group;
  alternatives: Group[][];
}

const needsCache = new WeakMap<readonly CommandPattern[], Needs[]>();

function group(words: string[]): Group {
  const lower = words.map((w) => w.toLowerCase());
  return {
    exact: new Set(lower.filter((w) => !w.endsWith('*'))),
    prefixes: lower.filter((w) => w.endsWith('*') && w !== '*').map((w) => w.slice(0, -1)),
  };
}

function needsOf(patterns: readonly CommandPattern[]): Needs[] {
  let needs = needsCache.get(patterns);
  if (!needs) {
    needs = patterns.map((p) => {
      // `*` (any word) needs nothing at its position.
      const positions = (alt: string) => alt.split(' ').filter((pos) => pos !== '*');
      const alternatives = (p.verbs ?? []).map((alt) => positions(alt).map((pos) => group(pos.split('|'))));
      if (p.sql) alternatives.push([group(['drop*', 'truncate*'])]);
      return { command: group([...p.commands]), alternatives };
    });
    needsCache.set(patterns, needs);
  }
  return needs;
}

/** The text as the words read once quotes and backslashes are gone, lowercased. */
export function plainText(code: string): string {
  return code
    .replace(/\\\n/g, '')
    .replace(/["'\\]/g, '')
    .toLowerCase();
}

/** Words standing alone: a path's last part counts (/usr/bin/rm), part of `--delete-local-data` does not. */
function wordsOf(text: string): string[] {
  const words = text.split(/[^a-z0-9_.-]+/);
  // `-srm`, `-edrop`: what follows the option letter(s) may be a value of its own.
  for (const w of words.filter((x) => /^-[a-z0-9]/.test(x))) for (let i = 2; i < w.length; i++) words.push(w.slice(i));
  return words;
}

export function mayMatch(code: string, patterns: readonly CommandPattern[]): boolean {
  // $'…' decodes escapes (\n, \x72): its words need not appear in the text; escaped quoting may hide it too.
  if (code.includes('$') && code.replace(/\\/g, '').includes("$'")) return true;
  if (/[?*[]/.test(code)) return true;
  const words = wordsOf(plainText(code));
  const present = new Set(words);
  const has = (g: Group) => {
    for (const w of g.exact) if (present.has(w)) return true;
    return g.prefixes.some((p) => words.some((w) => w.startsWith(p)));
  };
  return needsOf(patterns).some(
    (n) => has(n.command) && (n.alternatives.length === 0 || n.alternatives.some((alt) => alt.every(has))),
  );
}
