/**
 * Quoting for commands the CLI prints for the operator to copy. Hand-written rather
 * than the `shell-quote` package: that one backslash-escapes (`\~/runs`, `a\!b`) and
 * passes control characters through raw, so a printed command could redraw itself on
 * the terminal. Here a word is left bare when it is safe, single-quoted otherwise,
 * and written as bash's $'…' when it holds characters that must be seen, not obeyed.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text. */
export const INVISIBLE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

export function shellQuote(word: string): string {
  if (SAFE.test(word)) return word;
  if (!INVISIBLE.test(word)) return `'${word.replaceAll("'", `'\\''`)}'`;
  let out = '';
  for (const ch of word) {
    if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (INVISIBLE.test(ch)) out += utf8Escape(ch);
    else out += ch;
  }
  return `$'${out}'`;
}

/**
 * bash's `\xHH` is one byte, and `\uHHHH` depends on the locale, so past ASCII the
 * character is written as its UTF-8 bytes: `$'\xc2\x80'` reads back as U+0080 anywhere
 * (`\x80` alone was a stray byte that a UTF-8 terminal shows as U+FFFD).
 */
function utf8Escape(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}

/** A command line from its words, each quoted as needed. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/** `\x1b` for a byte-sized code point, `\u202e` (bash $'…' syntax) for the others. */
export function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
