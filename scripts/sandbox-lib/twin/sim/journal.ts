// journalctl -u <unit> from the node's journal stand-in (<root>/var/log/journal/<unit>.jsonl,
// written by the simulator whenever a K3s unit changes), in journalctl's short format.
import { existsSync, readFileSync } from 'node:fs';
import { type Node, refuse } from './node.ts';

export function journalLines(node: Node, units: string[], since: number | undefined, messagesOnly = false): string[] {
  const rows: { t: string; unit: string; message: string }[] = [];
  for (const u of units) {
    const file = node.journalFile(u);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        rows.push(JSON.parse(line));
      } catch {
        /* a torn line */
      }
    }
  }
  const f = node.fault('k3s-stopped');
  if (f?.since && units.some((u) => u.startsWith('k3s'))) {
    const unit = node.isServer ? 'k3s' : 'k3s-agent';
    rows.push({
      t: String(f.since),
      unit,
      message: `${unit}.service: Main process exited, code=killed, status=9/KILL (lab twin fault k3s-stopped)`,
    });
  }
  rows.sort((a, b) => a.t.localeCompare(b.t));
  const pid = 4000 + ((node.name.length * 17) % 900);
  return rows
    .filter((r) => since === undefined || Date.parse(r.t) >= since)
    .map((r) =>
      messagesOnly
        ? r.message
        : `${fmt(new Date(r.t))} ${node.name} ${r.message.startsWith(r.unit) || /Lightweight/.test(r.message) ? 'systemd[1]' : `k3s[${pid}]`}: ${r.message}`,
    );
}

function fmt(d: Date): string {
  const mon = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${mon} ${String(d.getUTCDate()).padStart(2, '0')} ${d.toISOString().slice(11, 19)}`;
}

/** --since: "-30min", "-2h", "13 hours ago", "2026-12-01 10:00:00", "today", "yesterday" (systemd.time(7)). */
export function parseSince(v: string, now = Date.now()): number {
  const rel =
    /^-(\d+)\s*(s|sec|m|min|h|hour|hours|d|day|days)?$/.exec(v.trim()) ??
    /^()(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)\s+ago$/.exec(v.trim())?.slice(1);
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2] || 's';
    const ms = unit.startsWith('d')
      ? 86_400_000
      : unit.startsWith('h')
        ? 3_600_000
        : unit.startsWith('m')
          ? 60_000
          : 1000;
    return now - n * ms;
  }
  if (v === 'today') return new Date(new Date(now).toISOString().slice(0, 10)).getTime();
  if (v === 'yesterday') return new Date(new Date(now).toISOString().slice(0, 10)).getTime() - 86_400_000;
  const t = Date.parse(v.includes('T') ? v : `${v.replace(' ', 'T')}Z`);
  if (Number.isNaN(t)) throw new Error(`Failed to parse timestamp: ${v}`);
  return t;
}

export function journalctl(node: Node, args: string[], out: (s: string) => void): number {
  const units: string[] = [];
  let since: number | undefined;
  let lines: number | undefined;
  let cat = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const take = () => args[++i] ?? '';
    if (a === '-u' || a === '--unit') units.push(take());
    else if (a.startsWith('--unit=')) units.push(a.slice(7));
    else if (/^-[a-zA-Z]*u$/.test(a))
      units.push(take()); // -xeu k3s
    else if (a === '--since' || a === '-S') since = parseSince(take());
    else if (a.startsWith('--since=')) since = parseSince(a.slice(8));
    else if (a === '-o' || a === '--output') cat = take() === 'cat';
    else if (a.startsWith('--output=') || /^-o\w/.test(a)) cat = a.replace(/^--output=|^-o/, '') === 'cat';
    else if (a === '-n' || a === '--lines') lines = Number(take());
    else if (a.startsWith('--lines=')) lines = Number(a.slice(8));
    else if (a === '-f' || a === '--follow')
      refuse('journalctl -f', 'following the journal would never end a step; use --since');
  }
  const names = units.map((u) => u.replace(/\.service$/, ''));
  if (names.length === 0)
    refuse('journalctl', "only the K3s units' journals exist on the twin: pass -u k3s or -u k3s-agent");
  // -o cat: the messages only, as journalctl prints them.
  let rows = journalLines(node, names, since, cat);
  if (lines !== undefined) rows = rows.slice(-lines);
  if (rows.length === 0) out('-- No entries --\n');
  for (const r of rows) out(`${r}\n`);
  return 0;
}
