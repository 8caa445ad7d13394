/**
 * Logical lines of shell text: comments removed and backslash-continued lines joined, with a
 * map back to the original line. Not a parser (parser.ts is; bash -n is the syntax authority):
 * the coarse view the sleep rule and the parser's fallback for unreadable steps work on.
 */
export interface ShellLine {
  text: string;
  /** 0-based line in the step's code where this logical line starts. */
  line: number;
}

const cache = new Map<string, ShellLine[]>();

/** Several rules read the same step: the split is cached by the code text. */
export function shellLines(code: string): ShellLine[] {
  let lines = cache.get(code);
  if (!lines) {
    if (cache.size > 10_000) cache.clear();
    lines = splitShellLines(code);
    cache.set(code, lines);
  }
  return lines;
}

function splitShellLines(code: string): ShellLine[] {
  const out: ShellLine[] = [];
  const raw = code.split('\n');
  let buf = '';
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    let l = stripComment(raw[i]!);
    if (buf === '') start = i;
    if (l.endsWith('\\')) {
      buf += `${l.slice(0, -1)} `;
      continue;
    }
    l = buf + l;
    buf = '';
    if (l.trim()) out.push({ text: l, line: start });
  }
  if (buf.trim()) out.push({ text: buf, line: start });
  return out;
}

/** Drops a `#` comment that starts a word outside quotes. */
function stripComment(line: string): string {
  if (!line.includes('#')) return line;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd();
  }
  return line;
}
