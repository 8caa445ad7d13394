/**
 * Options and operands of one command line, read the way the command's own parser reads them.
 *
 * Hand-written on purpose: the words may be unknown until run time, and each tool follows a
 * different convention that a general argv library does not model together: GNU getopt_long
 * (clusters `-rf`, attached values `-nfoo`, unambiguous long prefixes `--rec`, permutation),
 * spf13/pflag (kubectl, helm: clusters, `-n=foo`, no prefixes), Go's flag package (k3s:
 * `-cluster-reset` is a long flag, `--flag=false` turns it off). `--` ends options everywhere.
 */
import type { Word } from './words.ts';

export interface OptionSyntax {
  /** Options that take a value, as `-n` / `--namespace`. */
  values?: readonly string[];
  /** Options whose value, if any, must be attached (`--dry-run=server`, `-i{}`). */
  optionalValues?: readonly string[];
  /** Long options for GNU's unambiguous-prefix matching; without the list prefixes are not expanded. */
  longs?: readonly string[];
  style?: 'gnu' | 'pflag' | 'go';
  /** Stop at this many operands and leave the rest untouched (a wrapper's command starts there). */
  operandsBeforeRest?: number;
}

export interface ParsedOption {
  name: string;
  /** The value word, or a word made from the attached text. */
  value?: Word;
}

export interface ParsedArgs {
  options: ParsedOption[];
  operands: Word[];
  /** Words after the operands a wrapper's syntax stops at (its command), or after `--` for such syntax. */
  rest: Word[];
  has(...names: string[]): boolean;
  valueOf(...names: string[]): Word | undefined;
}

/** Parses `args` (the words after the command name). */
export function parseOptions(args: readonly Word[], syntax: OptionSyntax = {}): ParsedArgs {
  const values = new Set(syntax.values ?? []);
  const optional = new Set(syntax.optionalValues ?? []);
  const style = syntax.style ?? 'gnu';
  const options: ParsedOption[] = [];
  const operands: Word[] = [];
  let rest: Word[] = [];
  const stopAt = syntax.operandsBeforeRest;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const v = word.value;
    if (v === '--') {
      if (stopAt !== undefined) rest = args.slice(i + 1);
      else operands.push(...args.slice(i + 1));
      break;
    }
    if (v === undefined || v === '-' || !v.startsWith('-')) {
      if (stopAt !== undefined && operands.length >= stopAt) {
        rest = args.slice(i);
        break;
      }
      operands.push(word);
      continue;
    }
    const long = v.startsWith('--') || (style === 'go' && v.length > 2);
    if (long) {
      const body = v.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const name = `--${expandPrefix(eq < 0 ? body : body.slice(0, eq), syntax)}`;
      if (eq >= 0) {
        const value = body.slice(eq + 1);
        if (!(style === 'go' && value === 'false')) options.push({ name, value: { ...word, value, text: value } });
      } else if (values.has(name) && i + 1 < args.length) options.push({ name, value: args[++i] });
      else options.push({ name });
      continue;
    }
    // A cluster of short options; the first that takes a value takes the rest of the word or the next word.
    for (let j = 1; j < v.length; j++) {
      const name = `-${v[j]}`;
      if (values.has(name) || optional.has(name)) {
        let attached = v.slice(j + 1);
        if (style === 'pflag' && attached.startsWith('=')) attached = attached.slice(1);
        if (attached) options.push({ name, value: { ...word, value: attached, text: attached } });
        else if (values.has(name) && i + 1 < args.length) options.push({ name, value: args[++i] });
        else options.push({ name });
        break;
      }
      options.push({ name });
    }
  }
  return {
    options,
    operands,
    rest,
    has: (...names) => options.some((o) => names.includes(o.name)),
    valueOf: (...names) => options.findLast((o) => names.includes(o.name))?.value,
  };
}

/** GNU getopt_long accepts any unambiguous prefix of a long option (`--recu` is `--recursive`). */
function expandPrefix(name: string, syntax: OptionSyntax): string {
  const longs = syntax.longs;
  if (!longs || (syntax.style ?? 'gnu') !== 'gnu' || longs.includes(`--${name}`)) return name;
  const candidates = longs.filter((l) => l.startsWith(`--${name}`));
  return candidates.length === 1 ? candidates[0]!.slice(2) : name;
}
