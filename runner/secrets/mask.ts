import { MASK } from '../ui/plan.ts';
import type { ResolvedParam } from '../plan/params.ts';

export { MASK };

/** Environment variables whose values are treated as secrets when a step receives them. */
export const SECRET_NAME = /TOKEN|PASSWORD|SECRET|KEY/i;
/** Shorter environment values (`KEYMAP=us`) would mask ordinary words everywhere; declared secret params are masked at any length. */
const MIN_ENV_SECRET_LENGTH = 4;

/** The values to hide: declared secret params, and secret-looking environment variables a step receives. */
export function secretValues(params: readonly ResolvedParam[], env: Record<string, string | undefined>): string[] {
  const values = params.filter((p) => p.secret && p.value !== '').map((p) => p.value);
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_ENV_SECRET_LENGTH && SECRET_NAME.test(name)) values.push(value);
  }
  return [...new Set(values)];
}

/**
 * The forms in which a secret commonly shows up in output: as is, base64
 * (Kubernetes Secret data, basic auth headers), URL-encoded, JSON-escaped, and
 * line by line for multi-line secrets such as keys and certificates.
 */
function variants(secret: string): string[] {
  const out = new Set([secret]);
  const b64 = Buffer.from(secret).toString('base64');
  out.add(b64);
  out.add(b64.replace(/=+$/, ''));
  out.add(Buffer.from(secret).toString('base64url'));
  out.add(encodeURIComponent(secret));
  out.add(JSON.stringify(secret).slice(1, -1));
  if (secret.includes('\n')) {
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= MIN_ENV_SECRET_LENGTH) out.add(line);
  }
  return [...out].filter((v) => v.length > 0);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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

export function createMasker(secrets: readonly string[]): Masker {
  const all = [...new Set(secrets.flatMap(variants))].sort((a, b) => b.length - a.length);
  if (all.length === 0) {
    return { active: false, mask: (t) => t, stream: () => ({ push: (c) => c, flush: () => '' }) };
  }
  const pattern = new RegExp(all.map(escapeRegExp).join('|'), 'g');
  const mask = (text: string) => text.replace(pattern, MASK);
  /** Length of the longest suffix of `text` that could be the start of a secret. */
  const pendingPrefix = (text: string) => {
    let hold = 0;
    for (const v of all) {
      for (let k = Math.min(v.length - 1, text.length); k > hold; k--) {
        if (text.endsWith(v.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  };
  return {
    active: true,
    mask,
    stream() {
      let held = '';
      return {
        push(chunk) {
          const text = mask(held + chunk);
          const hold = pendingPrefix(text);
          held = text.slice(text.length - hold);
          return text.slice(0, text.length - hold);
        },
        flush() {
          const rest = mask(held);
          held = '';
          return rest;
        },
      };
    },
  };
}
