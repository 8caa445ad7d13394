import { getCollection, type CollectionEntry } from 'astro:content';
import { adrUrl } from './pages.ts';
import { siteLink } from './site-root.ts';

/**
 * ADRs with their links resolved in both directions: an ADR that another one
 * supersedes is shown as superseded by it even if only one side says so.
 */
export type AdrEntry = CollectionEntry<'adrs'>;

export interface Adr {
  slug: string;
  /** `ADR-0003` from the file name's number, else the slug. */
  label: string;
  url: string;
  entry: AdrEntry;
  data: AdrEntry['data'];
  supersedes: string[];
  supersededBy: string[];
  /** Related links, ADRs and site pages alike, with a label and URL. */
  related: Array<{ label: string; url: string; adr?: string }>;
}

export async function allAdrs(): Promise<Adr[]> {
  const entries = (await getCollection('adrs')).sort((a, b) => a.id.localeCompare(b.id));
  const docTitles = new Map((await getCollection('docs')).map((d) => [d.id, d.data.title]));
  const slugs = new Set(entries.map((e) => e.id));
  const supersededBy = new Map<string, Set<string>>();
  const link = (from: string, to: string) => {
    if (!supersededBy.has(to)) supersededBy.set(to, new Set());
    supersededBy.get(to)!.add(from);
  };
  for (const e of entries) {
    for (const old of e.data.supersedes) link(e.id, old);
    if (e.data.supersededBy) link(e.data.supersededBy, e.id);
  }
  const supersedes = (slug: string) => [...supersededBy].filter(([, by]) => by.has(slug)).map(([old]) => old);
  return entries.map((entry) => ({
    slug: entry.id,
    label: adrLabel(entry.id),
    url: adrUrl(entry.id),
    entry,
    data: entry.data,
    supersedes: supersedes(entry.id).sort(),
    supersededBy: [...(supersededBy.get(entry.id) ?? [])].sort(),
    related: entry.data.related.map((r) => relatedLink(r, slugs, docTitles)),
  }));
}

export function adrLabel(slug: string): string {
  const n = /^(\d{3,4})-/.exec(slug)?.[1];
  return n ? `ADR-${n.padStart(4, '0')}` : slug;
}

function relatedLink(
  ref: string,
  adrSlugs: Set<string>,
  docTitles: Map<string, string>,
): { label: string; url: string; adr?: string } {
  const clean = ref.replace(/^\/|\/$/g, '').replace(/^adrs\//, '');
  if (adrSlugs.has(clean) || /^\d{3,4}-/.test(clean)) return { label: adrLabel(clean), url: adrUrl(clean), adr: clean };
  return { label: docTitles.get(clean) ?? clean, url: siteLink(`/${clean}/`) };
}

/** A Mermaid flowchart of supersedes (solid) and related (dotted) links between ADRs. */
export function adrGraph(adrs: Adr[]): string {
  const id = (slug: string) => adrLabel(slug).replace(/[^A-Za-z0-9]/g, '_');
  const known = new Set(adrs.map((a) => a.slug));
  const lines = ['flowchart TB'];
  for (const a of adrs) {
    const title = a.data.title.replace(/["[\]#;]/g, '').replace(/^ADR[- ]?\d+:?\s*/i, '');
    lines.push(`  ${id(a.slug)}["<b>${a.label}</b><br/>${wrap(title, 22, 2)}"]:::${a.data.status}`);
  }
  const seen = new Set<string>();
  for (const a of adrs) {
    for (const old of a.supersedes) if (known.has(old)) lines.push(`  ${id(a.slug)} -->|supersedes| ${id(old)}`);
    for (const r of a.related) {
      if (!r.adr || !known.has(r.adr)) continue;
      const key = [a.slug, r.adr].sort().join('|');
      if (seen.has(key)) continue;
      seen.add(key);
      lines.push(`  ${id(a.slug)} -.- ${id(r.adr)}`);
    }
  }
  lines.push(
    '  classDef accepted stroke:#10b981,stroke-width:2px',
    '  classDef superseded stroke:#f59e0b,stroke-width:2px,stroke-dasharray:4 3',
    '  classDef proposed stroke:#3b82f6,stroke-width:2px',
    '  classDef deprecated stroke:#94a3b8,stroke-width:2px',
    '  classDef rejected stroke:#ef4444,stroke-width:2px',
  );
  return lines.join('\n');
}

/** Breaks a title into lines of about `width` characters for a diagram node. */
function wrap(text: string, width: number, maxLines: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.slice(0, maxLines).join('<br/>') + (lines.length > maxLines ? '…' : '');
}
