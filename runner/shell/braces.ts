/**
 * Bash's brace expansion, done on the script text before it is parsed: `{rm,-rf,x}` is the three
 * words `rm -rf x`, `/bin/{r,}m` is `/bin/rm /bin/m`. Bash expands braces before quote removal, so
 * the expanded words keep their quotes and the parser reads them as usual. A brace that is
 * quoted, escaped, part of `${…}`, or holds no top-level comma is left as written.
 *
 * Hand-written: the brace-expansion libraries work on globs, not on shell words with quotes.
 * Sequences (`{1..3}`) are left alone: they spell numbers and letters, not command names.
 */

/** Past this many words from one word, the word is left as written (`{a,b}{c,d}…` grows fast). */
const MAX_WORDS = 64;
const WORD_END = /[\s;&|()<>]/;

/** The script with every brace expression in its words expanded; the same text when there is none. */
export function expandBraces(text: string): string {
  if (!text.includes('{') || !text.includes(',')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const end = wordEnd(text, i);
    if (end === i) {
      out += text[i];
      i++;
      continue;
    }
    const word = word$(text.slice(i, end));
    const words = word.includes('{') ? expandWord(word) : [word];
    out += words.length > MAX_WORDS ? word : words.join(' ');
    i = end;
  }
  return out;
}

/** A word with the scripts of its `$(…)` expanded too, also inside double quotes (`"$({rm,-rf,x})"`). */
function word$(word: string): string {
  if (!word.includes('$(')) return word;
  let out = '';
  let quoted = false;
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c === '\\') {
      out += word.slice(i, i + 2);
      i++;
    } else if (c === "'" && !quoted) {
      const end = closing(word, i + 1, "'");
      out += word.slice(i, end);
      i = end - 1;
    } else if (c === '$' && word[i + 1] === '(' && word[i + 2] !== '(') {
      const end = matching(word, i + 1);
      out += `$(${expandBraces(word.slice(i + 2, end - 1))})`;
      i = end - 1;
    } else {
      if (c === '"') quoted = !quoted;
      out += c;
    }
  }
  return out;
}

/** Where the word starting at `i` ends: quotes, escapes, `$(…)`, `${…}` and backquotes are kept whole. */
function wordEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (WORD_END.test(c)) return i;
    i = skipQuoted(text, i) ?? i + 1;
  }
  return i;
}

/** The index after a quoted or substituted span starting at `i`, or undefined when none starts there. */
function skipQuoted(text: string, i: number): number | undefined {
  const c = text[i];
  if (c === '\\') return i + 2;
  if (c === "'") return closing(text, i + 1, "'");
  if (c === '"') return closingDouble(text, i + 1);
  if (c === '`') return closing(text, i + 1, c, true);
  if (c === '$' && (text[i + 1] === '{' || text[i + 1] === '(')) return matching(text, i + 1);
  if (c === '$' && text[i + 1] === "'") return closing(text, i + 2, "'", true);
  return undefined;
}

function closing(text: string, from: number, quote: string, escapes = false): number {
  for (let i = from; i < text.length; i++) {
    if (escapes && text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  return text.length;
}

/** The index after a double-quoted string: `$(…)` and `${…}` in it may hold quotes of their own. */
function closingDouble(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
    else if (c === '$' && (text[i + 1] === '(' || text[i + 1] === '{')) i = matching(text, i + 1) - 1;
    else if (c === '`') i = closing(text, i + 1, '`', true) - 1;
  }
  return text.length;
}

/** The index after the bracket matching the one at `open`, nested quotes skipped. */
function matching(text: string, open: number): number {
  const pair: Record<string, string> = { '{': '}', '(': ')' };
  const stack = [pair[text[open]!]!];
  let i = open + 1;
  while (i < text.length && stack.length) {
    const c = text[i]!;
    const skipped = skipQuoted(text, i);
    if (skipped !== undefined) {
      i = skipped;
      continue;
    }
    if (c === stack.at(-1)) stack.pop();
    else if (pair[c]) stack.push(pair[c]!);
    i++;
  }
  return i;
}

/** One word's expansions, left to right as bash lists them (`a{b,c}d` → `abd acd`). */
function expandWord(word: string): string[] {
  const group = firstGroup(word);
  if (!group) return [word];
  const { start, end, items } = group;
  const head = word.slice(0, start);
  const tails = expandWord(word.slice(end + 1));
  const out: string[] = [];
  for (const item of items) {
    for (const mid of expandWord(item)) {
      for (const tail of tails) {
        out.push(head + mid + tail);
        if (out.length > MAX_WORDS) return out;
      }
    }
  }
  return out;
}

/** The first `{…,…}` in a word: its span and its top-level comma-separated items. */
function firstGroup(word: string): { start: number; end: number; items: string[] } | undefined {
  for (let i = 0; i < word.length; i++) {
    const skipped = skipQuoted(word, i);
    if (skipped !== undefined) {
      i = skipped - 1;
      continue;
    }
    if (word[i] !== '{') continue;
    const group = itemsOf(word, i);
    if (group) return group;
  }
  return undefined;
}

function itemsOf(word: string, open: number): { start: number; end: number; items: string[] } | undefined {
  const items: string[] = [];
  let depth = 0;
  let from = open + 1;
  for (let i = open + 1; i < word.length; i++) {
    const skipped = skipQuoted(word, i);
    if (skipped !== undefined) {
      i = skipped - 1;
      continue;
    }
    const c = word[i];
    if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      items.push(word.slice(from, i));
      from = i + 1;
    } else if (c === '}' && items.length) {
      // As bash does: a `}` before any comma is a literal character (`{a},}` is `a}`).
      items.push(word.slice(from, i));
      return { start: open, end: i, items };
    }
  }
  return undefined;
}
