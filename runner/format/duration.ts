const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** The longest delay a Node timer holds (2^31-1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses `90s`, `5m`, `1h` (also `500ms`); returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  // Ten digits are more than any timer holds; longer digit strings are refused before Number() rounds them.
  const m = /^0*(\d{1,10})(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * A duration a timer can honour: a positive length of at most MAX_TIMER_MS.
 * Returns the milliseconds, or why the text is refused.
 */
export function readTimerDuration(text: string): { ms: number } | { error: string } {
  const ms = parseDuration(text);
  if (ms !== undefined && ms > 0 && ms <= MAX_TIMER_MS) return { ms };
  const tooManyDigits = /^\d+(ms|s|m|h)$/.test(text.trim());
  if (ms === undefined && !tooManyDigits) return { error: 'write a duration such as 90s, 5m or 1h' };
  if (ms === 0) return { error: 'a duration must be longer than 0' };
  return { error: 'longer than a timer can hold (at most 2147483647ms, about 24.8 days, e.g. 596h)' };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  if (m < 60) return s ? `${m}m${s}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
}

/** The canonical short form used in plans: `10m`, `90s`, `1h`. */
export function formatTimeout(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
