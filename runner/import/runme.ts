/**
 * Runme notebooks keep their cell settings in the fence's info string, after the language:
 * JSON (`{"name":"drain","interactive":"false"}`, what Runme writes today) or the older
 * `{ name=drain interactive=false }`. Values are strings in both ("true"/"false" for flags).
 * This reads them so the importer can map each one onto a step attribute or a decision.
 */

export interface RunmeCell {
  /** The annotations as written, values as strings. */
  raw: Record<string, string>;
  name?: string;
  cwd?: string;
  /** Runme's default is a terminal (true); only an explicit value is taken as the author's choice. */
  interactive?: boolean;
  background?: boolean;
  excludeFromRunAll?: boolean;
  interpreter?: string;
}

/** Annotations that only shape how Runme shows a cell (or identify it in Runme's own files). */
export const RUNME_DISPLAY = new Set([
  'id',
  'closeTerminalOnSuccess',
  'mimeType',
  'terminalRows',
  'category',
  'tag',
  'promptEnv',
  'skipPrompts',
]);
const KNOWN = new Set([
  ...RUNME_DISPLAY,
  'name',
  'cwd',
  'interactive',
  'background',
  'excludeFromRunAll',
  'interpreter',
]);

const flag = (v: string | undefined) => (v === undefined ? undefined : /^(true|yes|1)$/i.test(v));

/** The Runme annotations in a fence's meta, or undefined when it carries none. */
export function readRunmeCell(meta: string | null | undefined): RunmeCell | undefined {
  const braces = /\{[^{}]*\}/.exec(meta ?? '');
  if (!braces) return undefined;
  const raw = parseBraces(braces[0]);
  if (!raw || !Object.keys(raw).some((k) => KNOWN.has(k))) return undefined;
  return {
    raw,
    name: raw.name,
    cwd: raw.cwd,
    interactive: flag(raw.interactive),
    background: flag(raw.background),
    excludeFromRunAll: flag(raw.excludeFromRunAll),
    interpreter: raw.interpreter,
  };
}

function parseBraces(text: string): Record<string, string> | undefined {
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === 'object' && !Array.isArray(json))
      return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]));
  } catch {
    // Not JSON: the older key=value form.
  }
  const out: Record<string, string> = {};
  const body = text.slice(1, -1);
  const pair = /([A-Za-z][\w-]*)=("([^"]*)"|'([^']*)'|[^\s,]+)/g;
  for (const m of body.matchAll(pair)) out[m[1]!] = m[3] ?? m[4] ?? m[2]!;
  return Object.keys(out).length ? out : undefined;
}

/** Annotations no mapping reads: listed in the summary as dropped. */
export function unknownRunme(cell: RunmeCell): string[] {
  return Object.keys(cell.raw).filter((k) => !KNOWN.has(k));
}

/** A Markdown file's YAML frontmatter: its lines (to leave out of the page) and its fields. */
export function sourceFrontmatter(lines: string[]): { end: number; text: string } | undefined {
  if (lines[0]?.trim() !== '---') return undefined;
  const close = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(l));
  if (close < 0) return undefined;
  return { end: close + 1, text: lines.slice(1, close).join('\n') };
}
