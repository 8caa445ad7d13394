/**
 * A command pattern: data that says which invocations of a command do something (destroy,
 * write), matched on argv after option parsing. Every condition given must hold.
 */
import type { Invocation } from './analyse.ts';
import { globToRegExp, isGlob } from './glob.ts';
import { parseOptions, type ParsedArgs } from './options.ts';
import { destroysData } from './sql.ts';
import { syntaxOf } from './syntax.ts';
import { goInteger } from './values.ts';
import { commandName, type Word } from './words.ts';

export interface CommandPattern {
  /** What docs and messages call it. */
  what: string;
  /** Command names (basenames, so any path); a trailing `*` matches a prefix (`mkfs.*`). */
  commands: readonly string[];
  /**
   * Leading operands after options, as alternatives: `etcd-snapshot delete|prune` is two positions,
   * `|` separates accepted words, `*` is any word, a trailing `*` a prefix (`set-*`).
   */
  verbs?: readonly string[];
  /** At least one of these options (`-r` also matches inside `-rf`, `--rec` inside getopt's prefixes). */
  anyOption?: readonly string[];
  /** None of these options. */
  noneOption?: readonly string[];
  /** One of these options with one of these values (case-insensitive, or an item of a comma list; `0` is `00`). */
  optionValue?: { names: readonly string[]; values: readonly string[] };
  /** No such option with such a value (`mount -o ro`). */
  noneOptionValue?: { names: readonly string[]; values: readonly string[] };
  /** One of these options naming a file that is not a harmless device (/dev/null, -, …). */
  fileOption?: readonly string[];
  /** An operand after the verbs names such a file (tee). */
  fileOperand?: boolean;
  /** At least this many operands after the verbs. */
  minOperands?: number;
  /** An operand starting with this text (dd's `of=`). */
  operandPrefix?: string;
  /** One of these words anywhere (find's primaries are words, not getopt options). */
  anyWord?: readonly string[];
  /** find -exec/-execdir/-ok runs one of these commands. */
  execs?: readonly string[];
  /** SQL that destroys data (sql.ts), from these options, the operands, or stdin (here-doc, echo | …). */
  sql?: { options?: readonly string[]; operands?: boolean };
  /** A spelling the docs show and the tests start from. */
  example: string;
}

/** Targets a write to which changes nothing. */
export const HARMLESS_FILES: readonly string[] = ['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty', '-'];

export function matchesPattern(p: CommandPattern, inv: Invocation): boolean {
  const name = inv.name === undefined ? undefined : commandOf(p, inv.name);
  if (name === undefined) return false;
  const args = inv.argv.slice(1);
  if (p.anyWord && !args.some((w) => w.value !== undefined && p.anyWord!.includes(w.value))) return false;
  if (p.execs && !findExecs(args).some((c) => p.execs!.includes(c))) return false;
  const needsOptions =
    p.verbs ||
    p.anyOption ||
    p.noneOption ||
    p.optionValue ||
    p.noneOptionValue ||
    p.fileOption ||
    p.fileOperand ||
    p.minOperands ||
    p.operandPrefix ||
    p.sql;
  if (!needsOptions) return true;
  const parsed = parsedArgs(inv, name, args);
  let operands = parsed.operands;
  if (p.verbs) {
    const n = matchVerbs(p.verbs, operands);
    if (n < 0) return false;
    operands = operands.slice(n);
  }
  if (p.anyOption && !parsed.has(...p.anyOption)) return false;
  if (p.noneOption && parsed.has(...p.noneOption)) return false;
  if (p.optionValue && !hasOptionValue(parsed, p.optionValue)) return false;
  if (p.noneOptionValue && hasOptionValue(parsed, p.noneOptionValue)) return false;
  if (p.fileOption && !parsed.options.some((o) => p.fileOption!.includes(o.name) && namesFile(o.value))) return false;
  if (p.fileOperand && !operands.some(namesFile)) return false;
  if (p.minOperands && operands.length < p.minOperands) return false;
  if (p.operandPrefix && !operands.some((w) => w.value?.startsWith(p.operandPrefix!))) return false;
  if (p.sql && !sqlTexts(p.sql, parsed, operands, inv).some((t) => destroysData(t))) return false;
  return true;
}

/**
 * The command of `p` that `name` runs: the name itself, or for a glob command word (`r[m]`, `r?`)
 * a command of the pattern the glob matches, so `/bin/r? -rf x` is read as rm with rm's options.
 */
function commandOf(p: CommandPattern, name: string): string | undefined {
  if (!isGlob(name)) return p.commands.some((c) => nameMatches(c, name)) ? name : undefined;
  const glob = globToRegExp(name);
  for (const c of p.commands) {
    // A prefix entry (`mkfs.*`) is tried as the prefix with a few endings the glob may spell.
    const tries = c.endsWith('*') ? ['', 'ext4', 'xfs', 'vfat', 'btrfs', 'x'].map((e) => c.slice(0, -1) + e) : [c];
    const hit = tries.find((t) => glob.test(t));
    if (hit) return hit;
  }
  return undefined;
}

/** Several patterns read the same invocation: its options are parsed once per command name it is read as. */
const parsedCache = new WeakMap<Invocation, Map<string, ParsedArgs>>();

function parsedArgs(inv: Invocation, name: string, args: readonly Word[]): ParsedArgs {
  let byName = parsedCache.get(inv);
  if (!byName) {
    byName = new Map();
    parsedCache.set(inv, byName);
  }
  let parsed = byName.get(name);
  if (!parsed) {
    parsed = parseOptions(args, syntaxOf(name));
    byName.set(name, parsed);
  }
  return parsed;
}

/** How many leading operands an alternative of `verbs` consumed, or -1 when none matches. */
function matchVerbs(alternatives: readonly string[], operands: readonly Word[]): number {
  for (const alt of alternatives) {
    const positions = alt.split(' ');
    if (positions.every((pos, i) => verbMatches(pos, operands[i]?.value))) return positions.length;
  }
  return -1;
}

function verbMatches(position: string, word: string | undefined): boolean {
  if (word === undefined) return false;
  return position.split('|').some((w) => w === '*' || nameMatches(w, word));
}

/** `mkfs.*`, `set-*`: a trailing `*` matches any rest. */
function nameMatches(pattern: string, word: string): boolean {
  return pattern.endsWith('*') ? word.startsWith(pattern.slice(0, -1)) : word === pattern;
}

function hasOptionValue(parsed: ParsedArgs, spec: { names: readonly string[]; values: readonly string[] }): boolean {
  return parsed.options.some((o) => {
    if (!spec.names.includes(o.name)) return false;
    const v = o.value?.value;
    return v?.split(',').some((item) => spec.values.some((want) => sameValue(want, item)));
  });
}

/** A number wanted matches any integer spelling the tool reads as it (pflag's base-0 ints: `0x0`, `+0`, `0_0`). */
function sameValue(want: string, got: string): boolean {
  if (/^\d+$/.test(want)) return goInteger(got) === BigInt(want);
  return want.toLowerCase() === got.toLowerCase();
}

/** A word that names a file a command would write: a known harmless target, or an fd, is not one. */
export function namesFile(word: Word | undefined): boolean {
  if (!word) return false;
  if (word.value === undefined) return true;
  return !HARMLESS_FILES.includes(word.value) && !/^\/dev\/fd\/\d+$/.test(word.value);
}

function findExecs(args: readonly Word[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length - 1; i++) {
    if (/^-(exec|execdir|ok|okdir)$/.test(args[i]!.value ?? '')) {
      const name = commandName(args[i + 1]);
      if (name) out.push(name);
    }
  }
  return out;
}

/** The SQL an invocation of a client hands to its server: option values, operands, stdin. */
export function sqlTextsOf(spec: NonNullable<CommandPattern['sql']>, inv: Invocation, command: string): string[] {
  const parsed = parseOptions(inv.argv.slice(1), syntaxOf(command));
  return sqlTexts(spec, parsed, parsed.operands, inv);
}

function sqlTexts(spec: NonNullable<CommandPattern['sql']>, parsed: ParsedArgs, operands: Word[], inv: Invocation) {
  const texts: string[] = [];
  for (const o of parsed.options) {
    if (spec.options?.includes(o.name) && o.value) texts.push(o.value.value ?? o.value.text);
  }
  if (spec.operands) for (const w of operands) texts.push(w.value ?? w.text);
  if (inv.stdin) texts.push(inv.stdin.text);
  return texts;
}
