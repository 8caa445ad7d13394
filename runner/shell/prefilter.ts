/**
 * Which steps need parsing at all. A pattern can only match a step whose text holds one of its
 * command names and, if it names verbs, one of those words: after quote removal they appear
 * literally however the step spells them ('r'm, r\m, "rm", /bin/rm, inside bash -c or ssh).
 * Only words hidden in a $'…' escape or behind an expansion escape the text, and the parser
 * cannot see through an expansion either; a step with $'…' (however escaped) is always parsed.
 * Most steps skip the parser this way (it is most of the rules' cost).
 */
import type { CommandPattern } from './patterns.ts';

type Needs = string[][];

const needsCache = new WeakMap<readonly CommandPattern[], Needs[]>();

/** Each pattern needs one word of each group. */
function needsOf(patterns: readonly CommandPattern[]): Needs[] {
  let needs = needsCache.get(patterns);
  if (!needs) {
    needs = patterns.map((p) => {
      const groups: Needs = [p.commands.map(stem)];
      const verbs = (p.verbs ?? []).flatMap((alt) => alt.split(/[ |]/)).map(stem).filter(Boolean);
      if (p.verbs && !p.verbs.includes('*')) groups.push(verbs);
      if (p.sql) groups.push(['drop', 'truncate']);
      return groups.map((g) => g.map((w) => w.toLowerCase()));
    });
    needsCache.set(patterns, needs);
  }
  return needs;
}

const stem = (w: string) => (w.endsWith('*') ? w.slice(0, -1) : w);

/** The text as the words read once quotes and backslashes are gone, lowercased. */
export function plainText(code: string): string {
  return code.replace(/\\\n/g, '').replace(/["'\\]/g, '').toLowerCase();
}

const wordRes = new Map<string, RegExp>();

/** The word standing alone (a prefix like `mkfs.` only needs its start to): not inside `--delete-local-data`. */
function hasWord(text: string, word: string): boolean {
  if (!text.includes(word)) return false;
  let re = wordRes.get(word);
  if (!re) {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    re = new RegExp(`(?:^|[^a-z0-9_.-])${escaped}${word.endsWith('.') || word.endsWith('-') ? '' : '(?![a-z0-9_.-])'}`);
    wordRes.set(word, re);
  }
  return re.test(text);
}

export function mayMatch(code: string, patterns: readonly CommandPattern[]): boolean {
  // $'…' decodes escapes (\n, \x72): its words need not appear in the text; escaped quoting may hide it too.
  if (code.includes('$') && code.replace(/\\/g, '').includes("$'")) return true;
  const text = plainText(code);
  return needsOf(patterns).some((groups) => groups.every((group) => group.some((w) => hasWord(text, w))));
}
