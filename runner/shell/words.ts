/**
 * Words as the shell passes them to a command: quotes removed and escapes decoded where the word
 * is literal; `value` is undefined where any part is only known at run time ($VAR, $(…), $((…))).
 */
import type { SyntaxNode } from './parser.ts';

export interface Word {
  /** The word after quote removal, or undefined when part of it is expanded at run time. */
  value: string | undefined;
  /** The source text, quotes included. */
  text: string;
  /** 0-based line in the step's code. */
  line: number;
  /** For `<(echo …)`: the text the file it names holds, when the script spells it out. */
  file?: { text: string; line: number; end: number };
}

export function literal(value: string, line: number): Word {
  return { value, text: value, line };
}

/** A word node (word, string, raw_string, concatenation, …) read into a Word. */
export function readWord(node: SyntaxNode, lineOffset = 0): Word {
  return { value: wordValue(node), text: node.text, line: node.startPosition.row + lineOffset };
}

function wordValue(node: SyntaxNode): string | undefined {
  switch (node.type) {
    case 'word':
    case 'command_name':
    case 'number':
    case 'extglob_pattern':
      return node.namedChildCount ? joinParts(node.namedChildren) : unescapeBare(node.text);
    case 'raw_string':
      return node.text.slice(1, -1);
    case 'ansi_c_string':
      return decodeAnsiC(node.text.slice(2, -1));
    case 'string':
    case 'translated_string':
      return doubleQuoted(node);
    case 'string_content':
      return unescapeDoubleQuoted(node.text);
    case 'concatenation':
      return joinParts(node.namedChildren);
    default:
      return undefined;
  }
}

function joinParts(parts: Array<SyntaxNode | null>): string | undefined {
  let out = '';
  for (const part of parts) {
    if (!part) continue;
    const v = wordValue(part);
    if (v === undefined) return undefined;
    out += v;
  }
  return out;
}

/** "…": the grammar leaves newlines between its parts out of every child, so gaps are read from the text. */
function doubleQuoted(node: SyntaxNode): string | undefined {
  const text = node.text;
  const base = node.startIndex;
  let out = '';
  let at = -1;
  for (const child of node.children) {
    if (!child) continue;
    if (at >= 0) out += unescapeDoubleQuoted(text.slice(at - base, child.startIndex - base));
    at = child.endIndex;
    if (!child.isNamed) continue;
    const v = wordValue(child);
    if (v === undefined) return undefined;
    out += v;
  }
  return out;
}

/** Outside quotes a backslash quotes the next character; backslash-newline joins lines. */
function unescapeBare(text: string): string {
  return text.includes('\\') ? text.replace(/\\(\n|.)/gs, (_, c: string) => (c === '\n' ? '' : c)) : text;
}

/** Inside double quotes a backslash escapes only $ ` " \ and newline. */
function unescapeDoubleQuoted(text: string): string {
  return text.includes('\\') ? text.replace(/\\([$`"\\\n])/g, (_, c: string) => (c === '\n' ? '' : c)) : text;
}

const C_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/** Bash's $'…' escapes (hand-written: no library decodes this dialect). */
export function decodeAnsiC(body: string): string {
  return body.replace(
    /\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})|U([0-9a-fA-F]{1,8})|c(.)|(.))/gs,
    (whole, oct?: string, hex?: string, u4?: string, u8?: string, ctl?: string, other?: string) => {
      if (oct) return String.fromCharCode(Number.parseInt(oct, 8) & 0xff);
      if (hex) return String.fromCharCode(Number.parseInt(hex, 16));
      const code = u4 ?? u8;
      if (code) {
        const n = Number.parseInt(code, 16);
        return n <= 0x10ffff ? String.fromCodePoint(n) : whole;
      }
      if (ctl) return String.fromCharCode(ctl.charCodeAt(0) & 0x1f);
      return C_ESCAPES[other!] ?? whole;
    },
  );
}

/** The command name a word invokes: its basename, so /usr/bin/rm and ./k3s-uninstall.sh match by name. */
export function commandName(word: Word | undefined): string | undefined {
  const v = word?.value;
  if (v === undefined || v === '') return undefined;
  return v.slice(v.lastIndexOf('/') + 1);
}
