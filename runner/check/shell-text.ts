/**
 * Light-weight views of shell text for lint rules: comments removed and
 * backslash-continued lines joined, with a map back to the original line.
 * Not a shell parser (bash -n is the syntax authority); good enough to spot commands.
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

/**
 * The step's code with everything this shell would not run as a command blanked
 * out: comments and the contents of quoted strings, except `$(…)` and backticks
 * inside double quotes, which do run here. Newlines are kept so line numbers hold.
 * Lets `requires` tell `psql` run locally from `kubectl exec pod -- sh -c 'psql …'`.
 */
export function commandText(code: string): string {
  const out = code.split('');
  // Each frame is the context we are in: top level / `$(`…`)` run commands, quotes do not.
  const stack: Array<'cmd' | "'" | '"'> = ['cmd'];
  const blank = (i: number) => {
    if (out[i] !== '\n') out[i] = ' ';
  };
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    const top = stack[stack.length - 1]!;
    if (top === "'") {
      if (c === "'") stack.pop();
      blank(i);
    } else if (top === '"') {
      if (c === '\\') {
        blank(i);
        blank(++i);
      } else if (c === '"') {
        stack.pop();
        blank(i);
      } else if (c === '$' && code[i + 1] === '(' && code[i + 2] !== '(') {
        stack.push('cmd');
        i++;
      } else blank(i);
    } else if (c === '\\') i++;
    else if (c === "'" || c === '"') {
      stack.push(c);
      blank(i);
    } else if (c === '#' && (i === 0 || /[\s;&|(]/.test(code[i - 1]!))) {
      while (i < code.length && code[i] !== '\n') blank(i++);
      i--;
    } else if (c === '$' && code[i + 1] === '(') {
      stack.push('cmd');
      i++;
    } else if (c === ')' && stack.length > 1) stack.pop();
  }
  return out.join('');
}
