import type { StepAttributes } from './model.ts';
import type { MetaToken } from './meta.ts';
import { parseDuration } from './duration.ts';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const STEP_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Display options of expressive-code that may sit beside step attributes. */
const DISPLAY_KEYS = new Set(['frame', 'wrap', 'showLineNumbers', 'startLineNumber', 'collapse', 'mark', 'ins', 'del', 'preserveIndent', 'hangingIndent', 'lang']);

/** One entry per attribute: whether it is a flag, and how to read its value. Documented in reference/runbook-format. */
const ATTRIBUTES = {
  step: 'value',
  title: 'value',
  on: 'value',
  timeout: 'value',
  retries: 'value',
  'retry-delay': 'value',
  confirm: 'flag',
  check: 'flag',
  expect: 'value',
  'continue-on-error': 'flag',
  parallel: 'value',
  cwd: 'value',
  apply: 'flag',
} as const;

export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTES);
/** Attributes that only make sense on a step: seeing them without `step=` suggests a forgotten id. */
export const STEP_ONLY_ATTRIBUTES = ATTRIBUTE_NAMES.filter((k) => k !== 'title');

export interface AttributeProblem {
  offset: number;
  rule: 'unknown-attribute' | 'invalid-attribute';
  message: string;
}

export function readAttributes(tokens: MetaToken[]): { attrs: StepAttributes; id: string; problems: AttributeProblem[] } {
  const problems: AttributeProblem[] = [];
  const attrs: StepAttributes = {
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
  let id = '';
  const seen = new Set<string>();
  const bad = (t: MetaToken, message: string) => problems.push({ offset: t.offset, rule: 'invalid-attribute', message });

  for (const t of tokens) {
    if (t.key.startsWith('{') || DISPLAY_KEYS.has(t.key)) continue;
    const kind = ATTRIBUTES[t.key as keyof typeof ATTRIBUTES];
    if (!kind) {
      const near = ATTRIBUTE_NAMES.find((k) => editDistance(k, t.key) <= 2);
      problems.push({
        offset: t.offset,
        rule: 'unknown-attribute',
        message: `unknown step attribute "${t.key}"${near ? ` (did you mean "${near}"?)` : ''}; see reference/runbook-format`,
      });
      continue;
    }
    if (seen.has(t.key)) bad(t, `attribute "${t.key}" is given twice`);
    seen.add(t.key);
    if (kind === 'flag') {
      if (t.value !== true) bad(t, `"${t.key}" is a flag: write it without a value`);
    } else if (t.value === true || t.value === '') {
      bad(t, `"${t.key}" needs a value: ${t.key}=…`);
      continue;
    }
    const v = t.value as string;
    switch (t.key) {
      case 'step':
        id = v;
        if (!STEP_ID.test(v)) bad(t, `step id "${v}" must be lowercase letters, digits and single dashes (e.g. step=drain-node)`);
        break;
      case 'title':
        attrs.title = v;
        break;
      case 'on':
        if (!/^(local|\$NODE|role:[a-z0-9-]+|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.test(v)) {
          bad(t, `on=${v}: use local, a node name, role:<role>, or $NODE inside <ForEach>`);
        }
        attrs.on = v;
        break;
      case 'timeout':
      case 'retry-delay': {
        const ms = parseDuration(v);
        if (ms === undefined || ms === 0) bad(t, `${t.key}=${v}: write a duration such as 90s, 5m or 1h`);
        else if (t.key === 'timeout') attrs.timeoutMs = ms;
        else attrs.retryDelayMs = ms;
        break;
      }
      case 'retries':
      case 'parallel': {
        const n = /^\d+$/.test(v) ? Number(v) : NaN;
        const min = t.key === 'parallel' ? 1 : 0;
        if (!(n >= min && n <= 100)) bad(t, `${t.key}=${v}: write a whole number from ${min} to 100`);
        else if (t.key === 'retries') attrs.retries = n;
        else attrs.parallel = n;
        break;
      }
      case 'expect':
        try {
          new RegExp(v, 'm');
          attrs.expect = v;
        } catch (err) {
          bad(t, `expect="${v}" is not a valid regular expression: ${(err as Error).message}`);
        }
        break;
      case 'cwd':
        attrs.cwd = v;
        break;
      case 'confirm':
        attrs.confirm = true;
        break;
      case 'check':
        attrs.check = true;
        break;
      case 'continue-on-error':
        attrs.continueOnError = true;
        break;
      case 'apply':
        attrs.apply = true;
        break;
    }
  }
  return { attrs, id, problems };
}

function editDistance(a: string, b: string): number {
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
