import type { ResolvedParam } from '../plan/params.ts';
import { secretForms } from './forms.ts';
import { FormMatcher, replaceSpans } from './matcher.ts';

/** What a hidden value reads as, everywhere: terminal, records, JSON, messages. */
export const MASK = '••••';

/** Variables (and params) named like this are secrets whatever their declaration says. */
export const SECRET_NAME = /TOKEN|PASSWORD|SECRET|KEY/i;
/** Shorter environment values (`KEYMAP=us`) would mask ordinary words everywhere; declared secret params are masked at any length. */
const MIN_ENV_SECRET_LENGTH = 4;

/** A param is secret by its declaration or by its name (API_TOKEN), never because of its value. */
export function isSecretParam(name: string, spec: { secret?: boolean }): boolean {
  return spec.secret === true || SECRET_NAME.test(name);
}

/**
 * The one definition of what is hidden, used by every verb and message: the values
 * of secret params, and of secret-named environment variables (which steps receive).
 */
export function secretValues(params: readonly ResolvedParam[], env: Record<string, string | undefined>): string[] {
  const values = params.filter((p) => p.secret && p.value !== '').map((p) => p.value);
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_ENV_SECRET_LENGTH && SECRET_NAME.test(name)) values.push(value);
  }
  return [...new Set(values)];
}

/** The masker for a command: what `run` masks, `show`, `history` and error messages mask too. */
export function secretMasker(
  params: readonly ResolvedParam[],
  env: Record<string, string | undefined> = process.env,
): Masker {
  return createMasker(secretValues(params, env));
}

export interface Masker {
  /** True when there is something to hide. */
  readonly active: boolean;
  mask(text: string): string;
  /** A masker for text that arrives in chunks: a secret split across chunks is still caught. */
  stream(): StreamMasker;
}

export interface StreamMasker {
  /** Masked text that is safe to show now; a possible start of a secret is held back. */
  push(chunk: string): string;
  /** The rest, masked. */
  flush(): string;
}

const NOTHING: Masker = { active: false, mask: (t) => t, stream: () => ({ push: (c) => c, flush: () => '' }) };

/**
 * Masks every form of the secrets (see forms.ts) in text. Masking is for display
 * and records only: it never changes a value the runner uses.
 */
export function createMasker(secrets: readonly string[]): Masker {
  const forms = [...new Set(secrets.filter((s) => s !== '').flatMap(secretForms))];
  if (forms.length === 0) return NOTHING;
  const matcher = new FormMatcher(forms);
  const mask = (text: string) => {
    const { spans } = matcher.scan(text, true);
    return spans.length ? replaceSpans(text, spans, MASK) : text;
  };
  return {
    active: true,
    mask,
    stream() {
      let pending = '';
      return {
        push(chunk) {
          const text = pending + chunk;
          const { spans, holdFrom } = matcher.scan(text, false);
          pending = text.slice(holdFrom);
          return replaceSpans(text, spans, MASK, holdFrom);
        },
        flush() {
          const rest = mask(pending);
          pending = '';
          return rest;
        },
      };
    },
  };
}
