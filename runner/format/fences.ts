import type { Code } from 'mdast';

/** How a fenced code block ends in the source. */
export interface FenceEnd {
  /** The opening fence, e.g. ``` or ~~~~. */
  fence: string;
  /** A closing fence ends the block. */
  closed: boolean;
  /** Unclosed and running to the end of the file (otherwise its list item or quote ended it). */
  toEndOfFile: boolean;
  /** 1-based line of the block's last line. */
  endLine: number;
}

const OPENING = /(`{3,}|~{3,})/y;
const CLOSING = /^[ \t>]*(`+|~+)[ \t]*$/;

/**
 * Reads from the source whether a fenced block was closed. mdast keeps no closing
 * fence, and an unclosed fence silently takes everything up to the end of its
 * container, which for a step is prose that would run as commands.
 *
 * A closed block ends on its own later line with the closing fence (same character,
 * at least as long, only indentation and quote markers before it, CommonMark's rule),
 * and its value has exactly the lines between the two fences. An unclosed block ends
 * after a content line or after the newline of its last line, which fails one of the two.
 * Returns undefined for indented code (no fence).
 */
export function fenceEnd(node: Code, source: string): FenceEnd | undefined {
  const start = node.position?.start;
  const end = node.position?.end;
  if (start?.offset === undefined || end?.offset === undefined) return undefined;
  OPENING.lastIndex = start.offset;
  const fence = OPENING.exec(source)?.[1];
  if (!fence) return undefined;
  let closed = false;
  if (end.line > start.line && end.column > 1) {
    const last = source.slice(source.lastIndexOf('\n', end.offset - 1) + 1, end.offset);
    const m = CLOSING.exec(last);
    const between = end.line - start.line - 1;
    // An empty value is zero lines or one empty line.
    const lines = node.value === '' ? (between <= 1 ? between : -1) : node.value.split('\n').length;
    closed = m !== null && m[1]![0] === fence[0] && m[1]!.length >= fence.length && lines === between;
  }
  const toEndOfFile = !closed && source.slice(end.offset).trim() === '';
  // An end at column 1 is the start of the line after the block's last line.
  return { fence, closed, toEndOfFile, endLine: end.column === 1 && end.line > start.line ? end.line - 1 : end.line };
}

/**
 * The meta of a fence as written in the source, and its 1-based column. mdast's
 * `meta` has Markdown's backslash escapes and entities applied (`expect='1\.2'`
 * would arrive as `1.2`, a different pattern), so attributes are read from the line.
 */
export function rawMeta(node: Code, line: string): { meta: string; column: number } | undefined {
  const raw = rawInfo(node, line);
  if (!raw) return undefined;
  // `s`: U+2028/U+2029 are line terminators to a JS regex, not to Markdown; they must stay in the meta to be found.
  const m = /^[ \t]*\S+[ \t]+(\S.*?)[ \t]*$/s.exec(raw.info);
  if (!m) return { meta: '', column: line.length + 1 };
  return { meta: m[1]!, column: raw.column + raw.info.indexOf(m[1]!) };
}

/** A fence's info string as written on its line (after the fence), and its 1-based column; none for indented code. */
export function rawInfo(node: Code, line: string): { info: string; column: number } | undefined {
  const column = node.position?.start.column;
  if (column === undefined) return undefined;
  const fence = /^(`{3,}|~{3,})/.exec(line.slice(column - 1))?.[1];
  if (!fence) return undefined;
  return { info: line.slice(column - 1 + fence.length), column: column + fence.length };
}

/** A line inside a block that reads as the opening fence of another one. */
export interface SwallowedFence {
  /** 0-based line in the block's code. */
  line: number;
  text: string;
  isStep: boolean;
}

/**
 * The first line of a block's code that looks like the opening fence of another block
 * (a fence with an info string). Inside a closed block only a fence of the same
 * character and at least its length counts: that is a fence its author meant to open,
 * since the closing fence of such an example would have closed this block early; a
 * longer outer fence (````md around ```bash) is how examples are written on purpose.
 * Inside an unclosed block any fence counts.
 */
export function swallowedFence(code: string, end: FenceEnd): SwallowedFence | undefined {
  if (!code.includes(end.fence[0]!.repeat(3))) return undefined;
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {0,3}(`{3,}(?=[ \t]*[^`\s][^`]*$)|~{3,}(?=[ \t]*\S))/.exec(lines[i]!);
    if (!m) continue;
    const fence = m[1]!;
    if (end.closed && (fence[0] !== end.fence[0] || fence.length < end.fence.length)) continue;
    return { line: i, text: lines[i]!.trim(), isStep: /\bstep=/.test(lines[i]!) };
  }
  return undefined;
}
