import type { StepAttributes } from './model.ts';
import type { MetaToken } from './meta.ts';
import { readTimerDuration } from './duration.ts';
import { expectProblem } from './expect.ts';
import { STEP_FLAGS, type StepFlagKey } from './step-flags.ts';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const STEP_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Step ids name lines and files of run records: bounded like page ids. */
export const MAX_STEP_ID_LENGTH = 100;

/** Display options of expressive-code that may sit beside step attributes. */
const DISPLAY_KEYS = new Set([
  'frame',
  'wrap',
  'showLineNumbers',
  'startLineNumber',
  'collapse',
  'mark',
  'ins',
  'del',
  'preserveIndent',
  'hangingIndent',
  'lang',
]);

/** What reading one attribute writes: the attributes, or the step id. */
interface Target {
  attrs: StepAttributes;
  id: string;
}

/** Reads a value into the target; returns why it is refused, if it is. */
type Reader = (value: string, into: Target) => string | undefined;

const flag =
  (key: StepFlagKey): Reader =>
  (_, into) => {
    into.attrs[key] = true;
    return undefined;
  };

const duration =
  (key: 'timeoutMs' | 'retryDelayMs', name: string): Reader =>
  (v, into) => {
    const d = readTimerDuration(v);
    if ('error' in d) return `${name}=${clip(v, 30)}: ${d.error}`;
    into.attrs[key] = d.ms;
    return undefined;
  };

const count =
  (key: 'retries' | 'parallel', name: string, min: number): Reader =>
  (v, into) => {
    const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= 100)) return `${name}=${clip(v, 30)}: write a whole number from ${min} to 100`;
    into.attrs[key] = n;
    return undefined;
  };

const TARGET = /^(local|\$NODE|role:[a-z0-9-]+|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

/** One entry per attribute: flag or value, and how to read it. Documented in reference/runbook-format. */
const ATTRIBUTES: Record<string, { flag: boolean; read: Reader }> = {
  step: {
    flag: false,
    read: (v, into) => {
      into.id = v;
      const rule = 'lowercase letters, digits and single dashes (e.g. step=drain-node)';
      if (!STEP_ID.test(v)) return `step id "${clip(v, 40)}" must be ${rule}`;
      if (v.length <= MAX_STEP_ID_LENGTH) return undefined;
      return `step id "${clip(v, 20)}" is ${v.length} characters; at most ${MAX_STEP_ID_LENGTH}`;
    },
  },
  title: { flag: false, read: (v, into) => void (into.attrs.title = v) },
  on: {
    flag: false,
    read: (v, into) => {
      into.attrs.on = v;
      if (TARGET.test(v)) return undefined;
      return `on=${clip(v, 40)}: use local, a node name, role:<role>, or $NODE inside <ForEach>`;
    },
  },
  timeout: { flag: false, read: duration('timeoutMs', 'timeout') },
  retries: { flag: false, read: count('retries', 'retries', 0) },
  'retry-delay': { flag: false, read: duration('retryDelayMs', 'retry-delay') },
  expect: {
    flag: false,
    read: (v, into) => {
      const problem = expectProblem(v);
      if (problem) return `expect="${clip(v, 60)}" cannot be used: ${problem}`;
      into.attrs.expect = v;
      return undefined;
    },
  },
  parallel: { flag: false, read: count('parallel', 'parallel', 1) },
  cwd: { flag: false, read: (v, into) => void (into.attrs.cwd = v) },
  ...Object.fromEntries(STEP_FLAGS.map((f) => [f.name, { flag: true, read: flag(f.key) }])),
};

export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTES);
/** Attributes that only make sense on a step: seeing them without `step=` suggests a forgotten id. */
export const STEP_ONLY_ATTRIBUTES = ATTRIBUTE_NAMES.filter((k) => k !== 'title');

export interface AttributeProblem {
  offset: number;
  rule: 'unknown-attribute' | 'invalid-attribute';
  message: string;
}

export function defaultAttributes(): StepAttributes {
  return {
    on: 'local',
    timeoutMs: DEFAULT_TIMEOUT_MS,
    retries: 0,
    retryDelayMs: 5000,
    confirm: false,
    check: false,
    continueOnError: false,
    parallel: 1,
    apply: false,
  };
}

export function readAttributes(tokens: MetaToken[]): {
  attrs: StepAttributes;
  id: string;
  problems: AttributeProblem[];
} {
  const problems: AttributeProblem[] = [];
  const into: Target = { attrs: defaultAttributes(), id: '' };
  const seen = new Set<string>();
  const bad = (t: MetaToken, message: string) =>
    problems.push({ offset: t.offset, rule: 'invalid-attribute', message });

  for (const t of tokens) {
    if (t.key.startsWith('{') || DISPLAY_KEYS.has(t.key)) continue;
    const spec = Object.hasOwn(ATTRIBUTES, t.key) ? ATTRIBUTES[t.key] : undefined;
    if (!spec) {
      const near = ATTRIBUTE_NAMES.find((k) => editDistance(k, t.key) <= 2);
      problems.push({
        offset: t.offset,
        rule: 'unknown-attribute',
        message:
          `unknown step attribute "${clip(t.key, 40)}"${near ? ` (did you mean "${near}"?)` : ''}; ` +
          'see reference/runbook-format',
      });
      continue;
    }
    if (seen.has(t.key)) bad(t, `attribute "${t.key}" is given twice`);
    seen.add(t.key);
    if (spec.flag && t.value !== true) bad(t, `"${t.key}" is a flag: write it without a value`);
    if (!spec.flag && (t.value === true || t.value === '')) {
      bad(t, `"${t.key}" needs a value: ${t.key}=…`);
      continue;
    }
    const problem = spec.read(t.value === true ? '' : t.value, into);
    if (problem) bad(t, problem);
  }
  return { attrs: into.attrs, id: into.id, problems };
}

/** A value shortened for a message, so a pathological attribute cannot flood the terminal. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function editDistance(a: string, b: string): number {
  // Keys longer than any attribute name cannot be near one; skip the quadratic table for them.
  if (Math.abs(a.length - b.length) > 2) return 3;
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
