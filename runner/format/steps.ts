import { hash } from 'node:crypto';
import type { Code } from 'mdast';
import type { Procedure, Span, Step } from './model.ts';
import { type MetaToken, tokenizeMeta } from './meta.ts';
import { STEP_ONLY_ATTRIBUTES, readAttributes } from './attributes.ts';
import { rawMeta } from './fences.ts';
import { checkClosed, checkControls, checkStepNotRead } from './fence-checks.ts';
import type { WalkContext } from './tree.ts';
import type { Report } from './report.ts';

/** Languages a step may use, and the kind of step each makes. */
export const STEP_LANGUAGES: Record<string, 'shell' | 'apply'> = {
  bash: 'shell',
  sh: 'shell',
  shell: 'shell',
  yaml: 'apply',
  yml: 'apply',
};

/** What reading fences needs of the page, and what it accumulates. */
export interface PageState {
  source: string;
  report: Report;
  procedure: Procedure;
  /** Step id → line of its first use. */
  ids: Map<string, number>;
  /** Text of the nearest heading above. */
  section?: string;
  /** The page's source lines, split on first use. */
  lines(): string[];
  /** The first bash/sh fence without step= that holds a command. */
  firstShellExample?: { line: number; column: number };
}

/** Reads one fenced block: a step when its meta carries step=<id>, otherwise an illustration. */
export function readFence(node: Code, ctx: WalkContext, page: PageState): void {
  const { line } = span(node).start;
  // The meta as written, and its column, so attribute errors point at the attribute.
  const raw = node.meta ? rawMeta(node, page.lines()[line - 1] ?? '') : undefined;
  const meta = raw?.meta ?? node.meta ?? '';
  const metaColumn = raw?.column ?? 1;
  const tokenized = tokenizeMeta(meta);
  const isStep = 'tokens' in tokenized ? tokenized.tokens.some((t) => t.key === 'step') : /\bstep=/.test(meta);
  checkClosed(node, page.source, isStep, page.report);
  if (isStep) checkControls(node, page.source, page.report);
  else checkStepNotRead(node, page.source, page.report);
  if ('error' in tokenized) {
    if (isStep) page.report(line, metaColumn + tokenized.offset, 'invalid-attribute', tokenized.error);
    return;
  }
  if (!isStep) {
    const shell = STEP_LANGUAGES[(node.lang ?? '').toLowerCase()] === 'shell';
    // A command: a line that is neither blank nor a comment.
    if (!page.firstShellExample && shell && /^[ \t]*[^\s#]/m.test(node.value)) {
      page.firstShellExample = span(node).start;
    }
    const stray = tokenized.tokens.find((t) => STEP_ONLY_ATTRIBUTES.includes(t.key));
    if (stray) {
      const message = `"${stray.key}" on a fence without step=<id> does nothing: add step=<id> to make it a step, or remove it`;
      page.report(line, metaColumn + stray.offset, 'attribute-without-step', message, 'warning');
    }
    return;
  }
  readStep(node, { meta, metaColumn, tokens: tokenized.tokens }, ctx, page);
}

/** A step's meta, read: its tokens and where it starts on the fence line. */
interface MetaRead {
  meta: string;
  metaColumn: number;
  tokens: MetaToken[];
}

function readStep(node: Code, { meta, metaColumn, tokens }: MetaRead, ctx: WalkContext, page: PageState) {
  const { report, procedure, ids } = page;
  const { line, column } = span(node).start;
  const { attrs, id, problems } = readAttributes(tokens);
  for (const p of problems) report(line, metaColumn + p.offset, p.rule, p.message);
  const lang = (node.lang ?? '').toLowerCase();
  const kind = Object.hasOwn(STEP_LANGUAGES, lang) ? STEP_LANGUAGES[lang] : undefined;
  if (!kind) {
    const fence = `\`${lang || '(none)'}\``;
    const kinds = 'steps are bash/sh (run in bash) or yaml with apply (a manifest)';
    report(line, column, 'unknown-language', `step "${id}" is a ${fence} fence: ${kinds}`);
  } else if (kind === 'apply' && !attrs.apply) {
    const fix = 'or drop step= to make it an example';
    report(line, column, 'invalid-attribute', `yaml step "${id}" needs the apply flag (a manifest to apply), ${fix}`);
  } else if (kind === 'shell' && attrs.apply) {
    report(line, column, 'invalid-attribute', `"apply" is for yaml manifests; step "${id}" is ${lang}`);
  }
  if (!id) return;
  if (ids.has(id)) {
    const first = ids.get(id);
    const message = `step id "${id}" is already used on line ${first}; step ids must be unique on a page`;
    report(line, column, 'duplicate-step-id', message);
  } else ids.set(id, line);
  if (attrs.on === '$NODE' && ctx.group === undefined) {
    const message = `step "${id}" runs on=$NODE but is not inside <ForEach>: name a node or role instead`;
    report(line, column, 'node-outside-foreach', message);
  }
  if (ctx.tab && !ctx.tab.param) {
    const message =
      `step "${id}" is inside <Tabs> without param="NAME": alternatives need an enum param to choose between them, ` +
      'and each <TabItem label> must be one of its values';
    report(line, column, 'tabs-param', message);
  }
  const step: Step = {
    id,
    lang,
    kind: kind ?? 'shell',
    code: node.value,
    meta,
    attrs,
    position: span(node),
    hash: hashOf(`${lang}\0${meta}\0${node.value}`),
    ...(ctx.group !== undefined ? { group: ctx.group } : {}),
    ...(ctx.tab?.param ? { tab: ctx.tab } : {}),
    ...(page.section ? { section: page.section } : {}),
  };
  procedure.steps.push(step);
}

type Positioned = { position?: { start: { line: number; column: number }; end: { line: number; column: number } } };

export function span(node: Positioned): Span {
  const p = node.position;
  return {
    start: { line: p?.start.line ?? 1, column: p?.start.column ?? 1 },
    end: { line: p?.end.line ?? 1, column: p?.end.column ?? 1 },
  };
}

export function hashOf(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 16);
}
