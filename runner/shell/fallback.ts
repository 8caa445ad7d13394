/**
 * Commands of a script the grammar could not fully read, found the coarse way: comments and
 * here-document bodies (as far as the parser recognised them) blanked, backslash-continued lines
 * joined, each line split into words and operators by shell-quote (quotes and operators, no
 * grammar). Used only beside the tree's own commands when the tree has errors, so a step that
 * trips the grammar is still matched against the same tables: it errs towards flagging.
 */
import { parse as splitShell } from 'shell-quote';
import { shellLines } from './lines.ts';
import type { ParsedScript, Redirect, ShellCommand } from './commands.ts';
import type { Word } from './words.ts';

const DYNAMIC = '\u0000';
const RESERVED = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  '{',
  '}',
  'time',
  'coproc',
]);
const SEPARATORS = new Set([';', '&', '&&', '||', '|', '|&', '(', ')', ';;', '<(', '>(']);

export function approximateCommands(code: string, inert: ParsedScript['inert'], lineOffset: number): ShellCommand[] {
  const rows = code.split('\n');
  for (const span of inert) {
    for (let r = span.start - lineOffset; r <= span.end - lineOffset && r < rows.length; r++) if (r >= 0) rows[r] = '';
  }
  const out: ShellCommand[] = [];
  for (const l of shellLines(rows.join('\n'))) {
    let tokens: ReturnType<typeof splitShell>;
    try {
      tokens = splitShell(l.text, (name) => `${DYNAMIC}${name}`);
    } catch {
      continue;
    }
    const line = l.line + lineOffset;
    let cmd: ShellCommand = { argv: [], redirects: [], line };
    const flush = () => {
      // Reserved words that open a compound command are no command names: `if then rm -rf x`.
      while (cmd.argv[0]?.value !== undefined && RESERVED.has(cmd.argv[0].value)) cmd.argv.shift();
      if (cmd.argv.length) out.push(cmd);
      cmd = { argv: [], redirects: [], line };
    };
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (typeof t === 'string') {
        cmd.argv.push(word(t, line));
      } else if (t && 'op' in t) {
        if (SEPARATORS.has(t.op)) flush();
        else {
          // A redirection: its fd was split off as the word before it, its target is the next word.
          const last = cmd.argv.at(-1);
          if (last?.value !== undefined && /^\d+$/.test(last.value)) cmd.argv.pop();
          const next = tokens[i + 1];
          const r: Redirect = { op: t.op, line, ...(typeof next === 'string' ? { target: word(next, line) } : {}) };
          if (typeof next === 'string') i++;
          cmd.redirects.push(r);
        }
      }
    }
    flush();
  }
  return out;
}

function word(token: string, line: number): Word {
  return { value: token.includes(DYNAMIC) ? undefined : token, text: token, line };
}
