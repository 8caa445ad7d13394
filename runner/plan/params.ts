import type { ParamSpec } from '../format/model.ts';

/** `missing` only in lenient plans (`runbook show`): a required param nobody supplied yet. */
export type ParamSource = 'set' | 'env' | 'default' | 'missing';

export interface ResolvedParam {
  name: string;
  value: string;
  source: ParamSource;
  secret: boolean;
}

export interface ParamProblem {
  name: string;
  message: string;
}

/** Splits `--set NAME=value` arguments; the value may itself contain `=`. */
export function parseSetArgs(sets: string[]): { values: Record<string, string>; problems: ParamProblem[] } {
  const values: Record<string, string> = {};
  const problems: ParamProblem[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) problems.push({ name: s, message: `--set ${s}: write --set NAME=value` });
    else values[s.slice(0, eq)] = s.slice(eq + 1);
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
    if (!(name in specs)) {
      const known = Object.keys(specs);
      problems.push({ name, message: `--set ${name}: this runbook has no param ${name} (params: ${known.length ? known.join(', ') : 'none'})` });
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const secret = spec.secret === true;
    let value: string | undefined;
    let source: ParamSource = 'default';
    if (name in sets) {
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
        problems.push({ name, message: `param ${name} is required${spec.description ? ` (${spec.description})` : ''}: pass ${how}` });
        if (lenient) params.push({ name, value: '', source: 'missing', secret });
      }
      continue;
    }
    const problem = validateParamValue(name, spec, value);
    if (problem) problems.push({ name, message: problem });
    params.push({ name, value, source, secret });
  }
  return { params, problems };
}

export function validateParamValue(name: string, spec: ParamSpec, value: string): string | undefined {
  const shown = spec.secret ? '(secret value)' : `"${value}"`;
  if (spec.enum && !spec.enum.includes(value)) return `param ${name}: ${shown} is not one of ${spec.enum.join(', ')}`;
  if (spec.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(value)) return `param ${name}: ${shown} does not match the pattern ${spec.pattern}`;
  return undefined;
}
