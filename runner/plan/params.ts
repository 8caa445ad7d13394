import { createRequire } from 'node:module';
import type { ParamSpec } from '../format/model.ts';
import { reservedName, SHELL_NAME } from '../schemas/param-names.ts';
import { isSecretParam } from '../secrets/mask.ts';
import { ReadCache } from '../read-cache.ts';
import { shellQuote } from '../ui/shell-quote.ts';

/** `missing` only in lenient plans (`runbook show`): a required param nobody supplied yet. */
export type ParamSource = 'set' | 'env' | 'default' | 'missing';

export interface ResolvedParam {
  name: string;
  value: string;
  source: ParamSource;
  /** Declared `secret`, or named like one (API_TOKEN): see isSecretParam. */
  secret: boolean;
}

export interface ParamProblem {
  name: string;
  message: string;
}

/**
 * Splits `--set NAME=value` arguments; the value may itself contain `=`. A name
 * given twice is an error (which one wins would be a guess), and so is a name that
 * is not a shell variable name or is reserved. Messages never repeat a value.
 */
export function parseSetArgs(sets: string[]): { values: Record<string, string>; problems: ParamProblem[] } {
  const values: Record<string, string> = {};
  const problems: ParamProblem[] = [];
  const seen = new Map<string, number>();
  for (const s of sets) {
    const eq = s.indexOf('=');
    const name = eq > 0 ? s.slice(0, eq) : '';
    if (!SHELL_NAME.test(name)) {
      problems.push({
        name: s,
        message: `--set ${eq > 0 ? shellQuote(name) : shellQuote(s)}: write --set NAME=value (NAME is a param name)`,
      });
      continue;
    }
    const reserved = reservedName(name);
    if (reserved) {
      problems.push({ name, message: `--set ${name}: ${reserved}; no runbook can take it as a param` });
      continue;
    }
    seen.set(name, (seen.get(name) ?? 0) + 1);
    if (seen.get(name) === 2)
      problems.push({ name, message: `--set ${name} is given more than once: give each param once` });
    values[name] = s.slice(eq + 1);
  }
  return { values, problems };
}

/**
 * Resolves params in precedence order: `--set`, then the environment, then the default.
 * Values are validated against `required`, `pattern` (whole value) and `enum`;
 * messages never contain a secret's value.
 */
export function resolveParams(
  specs: Record<string, ParamSpec>,
  sets: Record<string, string>,
  env: NodeJS.ProcessEnv,
  lenient = false,
): { params: ResolvedParam[]; problems: ParamProblem[] } {
  const params: ResolvedParam[] = [];
  const problems: ParamProblem[] = [];
  for (const name of Object.keys(sets)) {
    if (!Object.hasOwn(specs, name)) problems.push({ name, message: unknownSet(name, Object.keys(specs)) });
  }
  for (const [name, spec] of Object.entries(specs)) {
    const secret = isSecretParam(name, spec);
    let value: string | undefined;
    let source: ParamSource = 'default';
    if (Object.hasOwn(sets, name)) {
      value = sets[name];
      source = 'set';
    } else if (env[name] !== undefined && env[name] !== '') {
      value = env[name];
      source = 'env';
    } else if (spec.default !== undefined) {
      value = spec.default;
    }
    if (value === undefined) {
      if (spec.required) {
        const how = secret ? `export ${name}=… (secrets are best passed through the environment)` : `--set ${name}=…`;
        problems.push({
          name,
          message: `param ${name} is required${spec.description ? ` (${spec.description})` : ''}: pass ${how}`,
        });
        if (lenient) params.push({ name, value: '', source: 'missing', secret });
      }
      continue;
    }
    const problem =
      source === 'default'
        ? defaultProblem(name, { ...spec, secret }, value)
        : validateParamValue(name, { ...spec, secret }, value);
    if (problem) problems.push({ name, message: problem });
    params.push({ name, value, source, secret });
  }
  return { params, problems };
}

function unknownSet(name: string, known: string[]): string {
  const near = known.find((k) => k.toUpperCase() === name.toUpperCase());
  const hint = near ? ` (did you mean ${near}? names are case-sensitive)` : '';
  return `--set ${name}: this runbook has no param ${name}${hint} (params: ${known.length ? known.join(', ') : 'none'})`;
}

export function validateParamValue(name: string, spec: ParamSpec, value: string): string | undefined {
  const shown = isSecretParam(name, spec) ? '(secret value)' : JSON.stringify(value);
  if (spec.enum && !spec.enum.includes(value)) return `param ${name}: ${shown} is not one of ${spec.enum.join(', ')}`;
  if (spec.pattern) {
    const matches = wholeMatch(spec.pattern);
    if (typeof matches === 'string') return `param ${name}: the pattern ${spec.pattern} ${matches}`;
    if (!matches(value)) return `param ${name}: ${shown} does not match the pattern ${spec.pattern}`;
  }
  return undefined;
}

/**
 * The verdict on a page's own default, kept between runs of the bundle (read-cache.ts), so a `show`
 * or a dry run does not load re2js to check the same default against the same pattern again. The
 * entry's bytes are the whole question (name, pattern, enum, secrecy, value), so a changed page asks
 * again. Only defaults, which are page text already: a value from --set or the environment (maybe a
 * secret) is never written to disk.
 */
const verdicts = new ReadCache<{ problem: string | null }>('param-defaults');

function defaultProblem(name: string, spec: ParamSpec, value: string): string | undefined {
  const question = Buffer.from(
    JSON.stringify([name, spec.pattern ?? null, spec.enum ?? null, spec.secret ?? null, value]),
  );
  const key = question.toString('utf8');
  const known = verdicts.get(key, question);
  if (known) return known.problem ?? undefined;
  const problem = validateParamValue(name, spec, value);
  verdicts.set(key, question, { problem: problem ?? null });
  return problem;
}

const require = createRequire(import.meta.url);
const compiled = new Map<string, ((value: string) => boolean) | string>();

/**
 * A param pattern as a whole-value matcher on RE2 (re2js, loaded on first use), so a
 * value given on the command line cannot make a pattern backtrack for minutes.
 * `^`/`$` anchor the whole value (not lines): `ok\nrm -rf /` does not match `ok`.
 */
function wholeMatch(pattern: string): ((value: string) => boolean) | string {
  let m = compiled.get(pattern);
  if (m === undefined) {
    const { RE2JS } = require('re2js') as typeof import('re2js');
    try {
      const re = RE2JS.compile(`^(?:${pattern})$`);
      m = (value: string) => re.matches(value);
    } catch {
      m = 'cannot be matched in linear time (RE2 syntax has no backreferences, lookahead or lookbehind)';
    }
    compiled.set(pattern, m);
  }
  return m;
}
