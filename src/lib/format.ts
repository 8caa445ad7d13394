/** Small display helpers shared by the site's components. */

const DAY = 86_400_000;

/** The moment the site was built: "N days ago" is relative to it. */
export const BUILT_AT = new Date();

/** "today", "3 days ago", or "never" for no days (never verified, never rehearsed). */
export function daysAgo(days: number | undefined): string {
  if (days === undefined) return 'never';
  return days === 0 ? 'today' : `${plural(days, 'day')} ago`;
}

export function ago(iso: string, now = BUILT_AT): string {
  const ms = now.getTime() - new Date(iso).getTime();
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < DAY) return `${Math.floor(ms / 3_600_000)} h ago`;
  const days = Math.floor(ms / DAY);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

/** `2026-11-12 14:03 UTC`: unambiguous for an operator reading a record. */
export function dateTime(iso: string): string {
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

export function date(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** `1.2s`, `3m 05s`, `1h 02m`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  if (m < 60) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${Math.round((part / whole) * 100)}%`;
}
