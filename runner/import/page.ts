import type { Code, Heading, Root } from 'mdast';
import { toString as textOf } from 'mdast-util-to-string';
import { remark } from 'remark';
import { visit } from 'unist-util-visit';
import yaml from 'js-yaml';
import type { Inventory } from '../inventory/schema.ts';
import { type Decide, type Item, stepsOf } from './draft.ts';
import { foldRepeats } from './foreach.ts';
import { sourceFrontmatter } from './runme.ts';
import { findOptionGroups } from './tabs.ts';
import { carriedVariables } from './variables.ts';
import { replaceSleeps } from './waits.ts';
import { escapeProseLine, type EscapeChange } from './mdx-escape.ts';
import type { ImportedParam } from './params.ts';

import { fenceItem, finalizeSteps } from './fence-steps.ts';
import { clusterOf, frontmatter, render } from './render.ts';

/** One thing the importer did or could not do, at its source line. */
export interface Decision {
  line: number;
  what: string;
  /** Left to the operator: the page needs a look before it is trusted. */
  needsDecision: boolean;
}

export interface ImportResult {
  id: string;
  title: string;
  page: string;
  fences: number;
  steps: Array<{
    id: string;
    on: string;
    line: number;
    confirm: boolean;
    check: boolean;
    expect?: string;
    cwd?: string;
  }>;
  /** The inventory cluster the page was tied to, when the notes leave no doubt. */
  cluster?: string;
  params: ImportedParam[];
  illustrations: number;
  escapes: EscapeChange[];
  decisions: Decision[];
}

export interface Context {
  inventory: Inventory;
  params: Map<string, ImportedParam>;
  taken: Set<string>;
  result: ImportResult;
  body: Item[];
  decide: Decide;
  /** A Runme document's `cwd:` for every cell. */
  docCwd?: string;
}

const COMPONENT_IMPORTS = {
  forEach: "import ForEach from '~/components/ForEach.astro';",
  tabs: "import { Tabs, TabItem } from '@astrojs/starlight/components';",
};

export function importMarkdown(source: string, fileId: string, inventory: Inventory): ImportResult {
  const lines = source.split('\n');
  const fm = sourceFrontmatter(lines);
  // Blank frontmatter lines keep every position a source line (remark would read them as prose).
  const parsed = fm ? [...Array<string>(fm.end).fill(''), ...lines.slice(fm.end)].join('\n') : source;
  const tree = remark().parse(parsed) as Root;
  const fences: Code[] = [];
  const headings: Heading[] = [];
  visit(tree, (n) => {
    if (n.type === 'code') fences.push(n as Code);
    if (n.type === 'heading') headings.push(n as Heading);
  });
  const result: ImportResult = {
    id: fileId,
    title: fileId,
    page: '',
    fences: fences.length,
    steps: [],
    params: [],
    illustrations: 0,
    escapes: [],
    decisions: [],
  };
  const decide: Decide = (line, what, needsDecision = false) => result.decisions.push({ line, what, needsDecision });
  const ctx: Context = { inventory, params: new Map(), taken: new Set(), result, body: [], decide };
  const fmData = fm ? readSourceFrontmatter(fm.text, ctx) : {};
  const h1 = headings.find((h) => h.depth === 1);
  result.title = typeof fmData.title === 'string' ? fmData.title : h1 ? textOf(h1) : fileId;
  const { body } = ctx;
  const state = { inComment: false };
  const groups = findOptionGroups(headings, lines.length);
  const optionAt = new Map(groups.flatMap((g, gi) => g.options.map((o, n) => [o.line, { gi, n }] as const)));
  const closeAt = new Map(groups.map((g, gi) => [g.end, gi]));
  const closeTabs = (gi: number) =>
    body.push({ kind: 'mark', text: '</TabItem>', group: gi }, { kind: 'mark', text: '</Tabs>', group: gi });
  const fenceAt = new Map(fences.map((f) => [f.position!.start.line - 1, f]));
  let i = fm?.end ?? 0;
  while (i < lines.length) {
    if (closeAt.has(i)) closeTabs(closeAt.get(i)!);
    if (h1 && i === h1.position!.start.line - 1) {
      i++;
      continue;
    }
    const option = optionAt.get(i);
    if (option) {
      const g = groups[option.gi]!;
      const label = g.options[option.n]!.label;
      if (option.n === 0) body.push({ kind: 'mark', text: `<Tabs param="${g.param}">`, group: option.gi });
      else body.push({ kind: 'mark', text: '</TabItem>', group: option.gi });
      body.push({ kind: 'mark', text: `<TabItem label="${label}">`, group: option.gi });
      const shown = escapeProseLine(`**${g.options[option.n]!.heading}**`, i + 1, { inComment: false }, []);
      const alt = escapeProseLine(lines[i]!, i + 1, state, result.escapes);
      body.push({ kind: 'mark', text: shown, alt, group: option.gi });
      i++;
      continue;
    }
    const fence = fenceAt.get(i);
    if (!fence) {
      const heading = headings.find((h) => h.position!.start.line - 1 === i);
      body.push({
        kind: 'text',
        text: escapeProseLine(lines[i]!, i + 1, state, result.escapes),
        line: i + 1,
        heading: heading?.depth,
      });
      i++;
      continue;
    }
    const end = fence.position!.end.line;
    fenceItem(fence, lines, i, end, headings, ctx);
    i = end;
  }
  for (const [end, gi] of closeAt) if (end >= lines.length) closeTabs(gi);
  if (state.inComment) {
    // Markdown hides everything after a `<!--` that never closes; the page says so, and stays valid MDX.
    body.push({ kind: 'text', text: '*/}', line: lines.length });
    decide(
      lines.length,
      'an HTML comment (<!--) never closes: as in Markdown, it hides the rest of the file; closed at the end of the page',
      true,
    );
  }
  const { tabs, forEach } = transformSteps(ctx, groups, fences);
  const imports = [forEach ? COMPONENT_IMPORTS.forEach : '', tabs ? COMPONENT_IMPORTS.tabs : ''].filter(Boolean);
  const text = render(ctx.body).replace(/^\n+/, '');
  result.page = frontmatter(result, text) + (imports.length ? `${imports.join('\n')}\n\n` : '') + text;
  result.decisions.sort((a, b) => a.line - b.line);
  return result;
}

/**
 * What the importer makes of the steps once the whole source is read, in order: option groups become
 * Tabs, sleeps become waits (first: a wait that names the node then folds with its block), repeated
 * per-node steps become a ForEach, variables carried between steps are flagged, then each step is
 * checked as the checker would (confirm, check, sudo) and the page's cluster is chosen.
 */
function transformSteps(ctx: Context, groups: ReturnType<typeof findOptionGroups>, fences: Code[]) {
  const { result, decide, inventory } = ctx;
  for (const e of result.escapes) decide(e.line, e.what);
  const tabs = resolveTabs(groups, ctx);
  replaceSleeps(stepsOf(ctx.body), decide);
  for (const it of ctx.body)
    if (it.kind === 'step' && !it.step.code.trim())
      decide(it.step.line, `step ${it.step.id} held only the sleep: left out`);
  ctx.body = ctx.body.filter((it) => it.kind !== 'step' || it.step.code.trim());
  const forEach = foldRepeats(ctx.body, inventory, ctx.taken, decide);
  carriedVariables(stepsOf(ctx.body), new Set(ctx.params.keys()), decide);
  finalizeSteps(ctx);
  result.cluster = clusterOf(fences, inventory, decide);
  result.params = [...ctx.params.values()];
  return { tabs, forEach };
}

function readSourceFrontmatter(text: string, ctx: Context): Record<string, unknown> {
  let data: unknown;
  try {
    data = yaml.load(text);
  } catch {
    ctx.decide(1, 'the Markdown frontmatter is not YAML: left out of the page', true);
    return {};
  }
  if (!data || typeof data !== 'object') return {};
  const fm = data as Record<string, unknown>;
  const keys = Object.keys(fm).filter((k) => k !== 'title');
  if (keys.length) ctx.decide(1, `source frontmatter ${keys.join(', ')} left out (the page has its own)`);
  if (typeof fm.cwd === 'string') {
    ctx.docCwd = fm.cwd;
    ctx.decide(1, `Runme document cwd: ${fm.cwd} applies to every local step (cwd=)`);
  }
  if (typeof fm.shell === 'string' && !/(^|\/)(ba)?sh$/.test(fm.shell))
    ctx.decide(1, `the notes ran in ${fm.shell}; steps run in bash: check shell-specific syntax`, true);
  return fm;
}

/** Option groups with steps become Tabs with an enum param; the others stay headings. */
function resolveTabs(groups: ReturnType<typeof findOptionGroups>, ctx: Context): boolean {
  let used = false;
  groups.forEach((g, gi) => {
    const at = ctx.body.flatMap((it, n) => (it.kind === 'mark' && it.group === gi ? [n] : []));
    const inside = ctx.body.slice(at[0], at.at(-1)! + 1);
    const hasSteps = inside.some((it) => it.kind === 'step');
    const line = g.options[0]!.line + 1;
    if (!hasSteps) {
      for (const it of inside) if (it.kind === 'mark' && it.group === gi) Object.assign(it, { text: it.alt ?? '' });
      ctx.decide(line, `${g.options.map((o) => o.heading).join(' / ')}: alternatives without steps, left as headings`);
      return;
    }
    used = true;
    let name = g.param;
    for (let n = 2; ctx.params.has(name); n++) name = `${g.param}_${n}`;
    if (name !== g.param)
      for (const it of inside)
        if (it.kind === 'mark') it.text = it.text.replace(`param="${g.param}"`, `param="${name}"`);
    const values = g.options.map((o) => o.label);
    ctx.params.set(name, {
      name,
      description: `Which alternative to follow: ${g.options.map((o) => `${o.label} = ${o.heading}`).join('; ')}`,
      secret: false,
      enum: values,
      line,
    });
    ctx.decide(
      line,
      `${g.options.length} alternatives became <Tabs param="${name}">: set ${name} to ${values.join(' or ')}`,
    );
  });
  ctx.body = ctx.body.filter((it) => it.kind !== 'mark' || it.text !== '');
  return used;
}
