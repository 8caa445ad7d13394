/**
 * Characters a terminal or an editor does not show as themselves: C0 controls other
 * than tab and newline (ESC starts ANSI sequences, CR and backspace overwrite text),
 * DEL, C1 controls, and the bidirectional overrides and isolates of "Trojan Source".
 * In a step they could make what the operator reads and confirms differ from what runs.
 * NUL is left out: Markdown replaces it before steps exist, so the parser reports it page-wide.
 */
const CONTROL = /[\x01-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

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
  0x202a: 'left-to-right embedding',
  0x202b: 'right-to-left embedding',
  0x202c: 'pop directional formatting',
  0x202d: 'left-to-right override',
  0x202e: 'right-to-left override, which shows text reversed',
  0x2066: 'left-to-right isolate',
  0x2067: 'right-to-left isolate',
  0x2068: 'first strong isolate',
  0x2069: 'pop directional isolate',
};

/** The character as an escape to print (`\x1b`, `\u202e`) and what it does. */
export function describeControl(char: string): string {
  const code = char.codePointAt(0)!;
  const hex = code.toString(16);
  const escaped = code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
  const name = NAMES[code] ?? (code >= 0x80 && code <= 0x9f ? 'a C1 control character' : 'a control character');
  return `${escaped} (${name})`;
}

/** Offsets of the first `max` control characters in `text`; cheap when there are none. */
export function findControls(text: string, max: number): Array<{ index: number; char: string }> {
  const found: Array<{ index: number; char: string }> = [];
  CONTROL.lastIndex = 0;
  for (let m = CONTROL.exec(text); m && found.length < max; m = CONTROL.exec(text)) {
    found.push({ index: m.index, char: m[0] });
  }
  return found;
}
