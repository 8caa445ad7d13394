import type { Invocation } from './analyse.ts';
import { parseOptions, type OptionSyntax } from './options.ts';
import { namesFile } from './patterns.ts';
import { syntaxOf } from './syntax.ts';
import type { Word } from './words.ts';

/** The arguments of `inv`, parsed with `syntax` (for commands syntax.ts does not describe). */
export const parse = (inv: Invocation, syntax: OptionSyntax) => parseOptions(inv.argv.slice(1), syntax);
export const value = (w: Word | undefined) => w?.value ?? w?.text ?? '';

// ------------------------------------------------------------------------------------------------
// Program texts. Hand-written: no maintained parser for sed or awk programs exists on npm, and only
// the few constructs that write need finding (a false alarm is a check the author rewrites).

const SED_SYNTAX = syntaxOf('sed');

/** The scripts sed runs: every -e, or the first operand; a script file (-f) cannot be read here. */
export function sedScripts(inv: Invocation): string[] {
  const parsed = parse(inv, SED_SYNTAX);
  const scripts = parsed.options.filter((o) => o.name === '-e' || o.name === '--expression').map((o) => value(o.value));
  if (scripts.length || parsed.has('-f', '--file')) return scripts;
  return parsed.operands.length ? [value(parsed.operands[0])] : [];
}

/** Whether a sed script has a `w`/`W` command, an `s///w` flag (to a real file), or `e` (runs a command). */
export function sedWrites(script: string): boolean {
  let i = 0;
  const s = script;
  const restOfLine = () => {
    const end = s.indexOf('\n', i);
    const text = s.slice(i, end < 0 ? s.length : end).trim();
    i = end < 0 ? s.length : end;
    return text;
  };
  const writesTo = (file: string) => !['/dev/stdout', '/dev/stderr'].includes(file);
  /** Skips a delimited part (`/re/`, `s/a/b/`), honouring backslash escapes. */
  const skipDelimited = (delim: string, parts: number) => {
    for (let n = 0; n < parts && i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === delim) n++;
    }
  };
  while (i < s.length) {
    const c = s[i]!;
    if (/[\s;{}!,]/.test(c) || /[\d$~+]/.test(c)) {
      i++;
      continue;
    }
    if (c === '/') {
      i++;
      skipDelimited('/', 1);
      while (/[IM]/.test(s[i] ?? '')) i++;
      continue;
    }
    if (c === '\\') {
      const d = s[i + 1] ?? '';
      i += 2;
      skipDelimited(d, 1);
      continue;
    }
    i++;
    if (c === '#' || c === ':' || 'aicrRbtT'.includes(c)) {
      if ('bt:T'.includes(c)) {
        // A label ends at a newline or (GNU) a semicolon.
        while (i < s.length && !/[\n;]/.test(s[i]!)) i++;
      } else restOfLine();
      continue;
    }
    if (c === 'w' || c === 'W') {
      if (writesTo(restOfLine())) return true;
      continue;
    }
    if (c === 'e') return true;
    if (c === 's' || c === 'y') {
      const d = s[i] ?? '';
      i++;
      skipDelimited(d, 2);
      if (c === 'y') continue;
      while (i < s.length && /[gpiImMe\d w]/.test(s[i]!) && s[i] !== '\n') {
        const f = s[i++]!;
        if (f === 'e') return true;
        if (f === 'w') {
          if (writesTo(restOfLine())) return true;
          break;
        }
        if (f === ' ') break;
      }
    }
  }
  return false;
}

const AWK_SYNTAX: OptionSyntax = {
  values: [
    '-F',
    '--field-separator',
    '-v',
    '--assign',
    '-f',
    '--file',
    '-e',
    '--source',
    '-i',
    '--include',
    '-l',
    '--load',
    '-E',
    '--exec',
    '-W',
  ],
};

export function awkWrites(inv: Invocation): boolean {
  const parsed = parse(inv, AWK_SYNTAX);
  // gawk -i inplace edits its input files.
  if (parsed.options.some((o) => ['-i', '--include'].includes(o.name) && /^inplace(\.awk)?$/.test(value(o.value)))) {
    return true;
  }
  const sources = parsed.options.filter((o) => o.name === '-e' || o.name === '--source').map((o) => value(o.value));
  if (!sources.length && !parsed.has('-f', '--file', '-E', '--exec') && parsed.operands[0]) {
    sources.push(value(parsed.operands[0]));
  }
  return sources.some(awkProgramWrites);
}

/**
 * Whether an awk program redirects print/printf (`> file`, `>> file`, `| cmd`, `|& cmd`), reads
 * from a command (`cmd | getline`) or calls system(). Strings and comments are blanked first; a
 * `>` inside parentheses is a comparison.
 */
export function awkProgramWrites(program: string): boolean {
  const code = program
    .replace(/"(?:[^"\\\n]|\\.)*"/g, (m) => (/^"\/dev\/std(?:out|err)"$/.test(m) ? m : '""'))
    .replace(/#[^\n]*/g, '');
  if (/\bsystem\s*\(/.test(code) || /\|&?\s*getline\b/.test(code)) return true;
  for (const m of code.matchAll(/\bprintf?\b/g)) {
    let depth = 0;
    for (let i = m.index + m[0].length; i < code.length; i++) {
      const c = code[i]!;
      if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (depth <= 0 && /[;}\n]/.test(c)) break;
      else if (depth <= 0 && c === '>') {
        if (!/^>>?\s*"\/dev\/std(?:out|err)"/.test(code.slice(i))) return true;
        break;
      } else if (depth <= 0 && c === '|' && code[i + 1] !== '|' && code[i - 1] !== '|') return true;
      if (depth < 0) break;
    }
  }
  return false;
}

const TAR_SYNTAX: OptionSyntax = {
  values: [
    '-f',
    '--file',
    '-C',
    '--directory',
    '-T',
    '--files-from',
    '-X',
    '--exclude-from',
    '-b',
    '--blocking-factor',
    '-H',
    '--format',
    '-V',
    '--label',
    '-g',
    '--listed-incremental',
    '-N',
    '--newer',
    '--exclude',
    '--transform',
    '--owner',
    '--group',
    '--mode',
    '-I',
    '--use-compress-program',
    '-K',
    '--starting-file',
    '-L',
    '--tape-length',
    '--strip-components',
  ],
  longs: [
    '--extract',
    '--get',
    '--create',
    '--append',
    '--update',
    '--catenate',
    '--concatenate',
    '--delete',
    '--to-stdout',
    '--list',
    '--file',
    '--directory',
  ],
};

/** tar -x writes the members (unless -O); -c/-r/-u/-A/--delete write the archive named by -f. */
export function tarWrites(inv: Invocation): boolean {
  const args = inv.argv.slice(1);
  // The old style `tar xzf a.tgz`: a first word without a dash is a cluster of options.
  const first = args[0]?.value;
  if (first !== undefined && first !== '' && !first.startsWith('-')) args[0] = { ...args[0]!, value: `-${first}` };
  const parsed = parseOptions(args, TAR_SYNTAX);
  if (parsed.has('-x', '--extract', '--get')) return !parsed.has('-O', '--to-stdout');
  if (
    !parsed.has('-c', '--create', '-r', '--append', '-u', '--update', '-A', '--catenate', '--concatenate', '--delete')
  )
    return false;
  return parsed.has('-f', '--file') && namesFile(parsed.valueOf('-f', '--file'));
}

/** openssl's options that write a file (its options are single-dash words: getopt cannot read them). */
const OPENSSL_FILE_OPTIONS = ['-out', '-keyout', '-outdir', '-writerand', '-sess_out', '-keylogfile', '-msgfile'];

export function opensslWrites(inv: Invocation): boolean {
  const args = inv.argv.slice(1);
  return args.some(
    (w, i) =>
      w.value === '-CAcreateserial' ||
      (OPENSSL_FILE_OPTIONS.includes(w.value ?? '') && (i + 1 >= args.length || namesFile(args[i + 1]))),
  );
}

/**
 * kill/pkill/killall send a signal unless it is 0 (a liveness test), they only list signals, or
 * they name no process (a usage error).
 */
export function signalsProcesses(inv: Invocation, command: string): boolean {
  const kill = command === 'kill';
  const args = inv.argv.slice(1);
  const lists =
    command === 'pkill'
      ? ['-V', '--version', '-h', '--help']
      : ['-l', '-L', '--list', '--table', '-V', '--version', '-h', '--help', '-p', '--pid'];
  // pkill's -s is a session id, not a signal.
  const signalOptions = command === 'pkill' ? ['--signal'] : ['--signal', '-s', '-n'];
  let signal: string | undefined = 'TERM';
  const sends = () => !/^(SIG)?0+$/i.test(signal!);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.value;
    if (a === undefined) return args[i]!.text.startsWith('-') || sends();
    if (a === '--' || a === '-' || !a.startsWith('-')) return sends();
    if (lists.includes(a) || (kill && a.startsWith('-l'))) return false;
    if (signalOptions.includes(a)) signal = args[++i]?.value;
    else if (a.startsWith('--signal=')) signal = a.slice('--signal='.length);
    else if (kill || /^-(?:\d+|(?:SIG)?[A-Z][A-Z0-9+-]*)$/.test(a)) signal = a.slice(1);
    if (signal === undefined) return true;
  }
  return false;
}
