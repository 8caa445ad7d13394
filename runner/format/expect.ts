import { createRequire } from 'node:module';

type Re2js = typeof import('re2js');

const require = createRequire(import.meta.url);
let lib: Re2js | undefined;

/** re2js is ~260 kB (~25 ms to load): loaded on the first `expect=` of a process, not at start-up. */
function re2js(): Re2js {
  return (lib ??= require('re2js') as Re2js);
}

/** Longer patterns are refused: a step's expectation is a line or two of output, not a program. */
export const MAX_EXPECT_LENGTH = 1000;

/** A compiled `expect=`: `test` says whether a step's output matches anywhere. */
export interface ExpectMatcher {
  source: string;
  test(text: string): boolean;
}

/**
 * Compiles an `expect=` pattern with RE2 (re2js), whose matching time is linear in the
 * output, so no pattern can backtrack catastrophically on what a step prints.
 *
 * Semantics follow `new RegExp(pattern, 'm')`: a match anywhere, `^` and `$` at line
 * ends. JavaScript ends a line at each of `\r`, `\n`, U+2028 and U+2029 (so `\r\n` holds
 * an empty line between its two characters); RE2 knows only `\n`, so each of the others
 * becomes one `\n` before matching. Only a pattern that names `\r` itself sees the
 * difference. Syntax is RE2's: what it cannot express in linear time (backreferences,
 * lookahead, lookbehind) is an error.
 */
export function compileExpect(pattern: string): ExpectMatcher | { error: string } {
  let compiled = cache.get(pattern);
  if (!compiled) {
    compiled = compile(pattern);
    // Pages repeat their patterns (`^200$`, `^ok$`); a bounded cache keeps `check` from compiling each again.
    if (cache.size >= 500) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

const cache = new Map<string, ExpectMatcher | { error: string }>();

/**
 * Literal text, escaped punctuation, `.`, simple ASCII classes (`[.]`, `[1278]`, `[0-9]`)
 * and anchors at the ends: patterns built only of these compile in RE2 and mean there
 * what they mean in JavaScript (a property test holds this). Most `expect=` patterns
 * are such, and `check` accepts them without loading re2js, ~20 ms of a cold process.
 */
export const PLAIN_EXPECT =
  /^\^?(?:[^\\[\](){}*+?^$|.\ud800-\udfff]|\\[\\.[\](){}*+?^$|/-]|\.|\[\^?(?:[ !#-,./0-9:-@_`~A-Za-z]|\\[\\.\]-]|0-9|1-9|a-z|A-Z)+\])*\$?$/;

/** Whether `pattern` is a valid `expect=` (what compileExpect accepts), or why not. */
export function expectProblem(pattern: string): string | undefined {
  if (pattern.length <= MAX_EXPECT_LENGTH && PLAIN_EXPECT.test(pattern)) return undefined;
  const compiled = compileExpect(pattern);
  return 'error' in compiled ? compiled.error : undefined;
}

function compile(pattern: string): ExpectMatcher | { error: string } {
  if (pattern.length > MAX_EXPECT_LENGTH) {
    return { error: `the pattern is ${pattern.length} characters long; at most ${MAX_EXPECT_LENGTH} are allowed` };
  }
  const { RE2JS } = re2js();
  let re: ReturnType<Re2js['RE2JS']['compile']>;
  try {
    re = RE2JS.compile(pattern, RE2JS.MULTILINE);
  } catch (err) {
    const reason = String((err as Error).message ?? err).replace(/^error parsing regexp: /, '');
    return {
      error:
        `${reason}. expect= is matched by a linear-time engine (RE2 syntax), ` +
        'which has no backreferences, lookahead or lookbehind',
    };
  }
  return { source: pattern, test: (text) => re.test(LINE_END.test(text) ? text.replace(LINE_ENDS, '\n') : text) };
}

const LINE_END = /[\r\u2028\u2029]/;
const LINE_ENDS = /[\r\u2028\u2029]/g;
