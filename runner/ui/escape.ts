import { escapeChar, INVISIBLE } from './shell-quote.ts';

const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');
/** Line breaks and tabs are shown as such; every other invisible character is escaped. */
const SHOWN_ESCAPED = new RegExp(`(?![\\n\\t])${INVISIBLE.source}`, 'gu');

/**
 * Text as the operator must see it before confirming: control characters (ANSI
 * escapes, carriage returns, backspaces) and text-reordering format characters are
 * written as `\x1b`, `\r`, `\u202e` instead of acting on the terminal, so what is
 * shown is exactly what will run. `mark` styles each escape (inverse video), so an
 * escape is told apart from the same four characters typed in the script.
 */
export function showInvisible(text: string, mark: (s: string) => string = (s) => s): { text: string; escaped: number } {
  let escaped = 0;
  const shown = text.replace(SHOWN_ESCAPED, (ch) => {
    escaped++;
    return mark(ch === '\r' ? '\\r' : escapeChar(ch));
  });
  return { text: shown, escaped };
}

/** One line of text for a message or a table cell: every invisible character escaped, line breaks too. */
export function oneLine(text: string): string {
  return text.replace(INVISIBLE_ALL, (ch) =>
    ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch === '\t' ? '\\t' : escapeChar(ch),
  );
}
