/**
 * Characters a terminal or an editor does not show as themselves: C0 controls other
 * than tab and newline (ESC starts ANSI sequences, CR and backspace overwrite text),
 * DEL, C1 controls, the bidirectional overrides, isolates and marks of "Trojan Source",
 * zero-width and invisible format characters (ZWSP, ZWJ, word joiner, soft hyphen, BOM),
 * and the Unicode line and paragraph separators. In a step they could make what the
 * operator reads and confirms differ from what runs.
 * NUL is left out: Markdown replaces it before steps exist, so the parser reports it page-wide.
 */
const CONTROL =
  /[\x01-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x07: 'BEL, the terminal bell',
  0x08: 'backspace, which erases the character before it on screen',
  0x0b: 'vertical tab',
  0x0c: 'form feed',
  0x0d: 'carriage return, which overwrites the line on screen',
  0x1b: 'ESC, which starts ANSI escape sequences',
  0x7f: 'DEL',
  0x9b: 'CSI, which starts ANSI escape sequences',
  0xad: 'soft hyphen, which is invisible',
  0x061c: 'Arabic letter mark, an invisible direction mark',
  0x200b: 'zero-width space',
  0x200c: 'zero-width non-joiner',
  0x200d: 'zero-width joiner',
  0x200e: 'left-to-right mark, an invisible direction mark',
  0x200f: 'right-to-left mark, an invisible direction mark',
  0x2028: 'line separator',
  0x2029: 'paragraph separator',
  0x202a: 'left-to-right embedding',
  0x202b: 'right-to-left embedding',
  0x202c: 'pop directional formatting',
  0x202d: 'left-to-right override',
  0x202e: 'right-to-left override, which shows text reversed',
  0x2060: 'word joiner, which is invisible',
  0x2061: 'function application, which is invisible',
  0x2062: 'invisible times',
  0x2063: 'invisible separator',
  0x2064: 'invisible plus',
  0x2066: 'left-to-right isolate',
  0x2067: 'right-to-left isolate',
  0x2068: 'first strong isolate',
  0x2069: 'pop directional isolate',
  0xfeff: 'zero-width no-break space, a byte order mark inside the text',
};

/** The character as an escape to print (`\x1b`, `\u202e`). */
export function escapeChar(char: string): string {
  const code = char.codePointAt(0)!;
  const hex = code.toString(16);
  return code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
}

/** The character as an escape to print and what it does. */
export function describeControl(char: string): string {
  const code = char.codePointAt(0)!;
  const name = NAMES[code] ?? (code >= 0x80 && code <= 0x9f ? 'a C1 control character' : 'a control character');
  return `${escapeChar(char)} (${name})`;
}

/** Offsets of the first `max` control characters in `text[from, to)`; cheap when there are none. */
export function findControls(
  text: string,
  max: number,
  from = 0,
  to = text.length,
): Array<{ index: number; char: string }> {
  const found: Array<{ index: number; char: string }> = [];
  CONTROL.lastIndex = from;
  for (let m = CONTROL.exec(text); m && m.index < to && found.length < max; m = CONTROL.exec(text)) {
    found.push({ index: m.index, char: m[0] });
  }
  return found;
}

/**
 * Spaces other than ASCII space and tab. Markdown separates a fence's language from its
 * attributes only by those two, so `bash\u00a0step=a` is one word: the language.
 */
const UNICODE_SPACE = /[\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]/;

const SPACE_NAMES: Record<number, string> = {
  0xa0: 'no-break space',
  0x1680: 'Ogham space mark',
  0x202f: 'narrow no-break space',
  0x205f: 'medium mathematical space',
  0x3000: 'ideographic space',
};

/** The first Unicode space in `text` that Markdown does not read as a space, described. */
export function findUnicodeSpace(text: string): { index: number; description: string } | undefined {
  const m = UNICODE_SPACE.exec(text);
  if (!m) return undefined;
  const name = SPACE_NAMES[m[0].codePointAt(0)!] ?? 'a typographic space';
  return { index: m.index, description: `${escapeChar(m[0])} (${name})` };
}
