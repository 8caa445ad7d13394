import { hash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkFrontmatter from 'remark-frontmatter';
import remarkMdx from 'remark-mdx';
import type { Document, LineCounter, Scalar } from 'yaml';
import { yamlLib } from './yaml-lib.ts';
import { load as loadYaml } from 'js-yaml';
import type { Code, Heading, Root, RootContent } from 'mdast';
import type { MdxJsxFlowElement } from 'mdast-util-mdx-jsx';
import type { Diagnostic, ForEachGroup, PageKind, Procedure, RunbookMeta, Step, TabChoice } from './model.ts';
import { tokenizeMeta } from './meta.ts';
import { STEP_ONLY_ATTRIBUTES, readAttributes } from './attributes.ts';
import { runbookFrontmatterSchema } from '../schemas/runbook.ts';
import { frontmatterChecks } from '../schemas/pages.ts';

const mdxProcessor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']).use(remarkMdx);
const mdProcessor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']);

/** Languages a step may use, and the kind of step each makes. */
export const STEP_LANGUAGES: Record<string, 'shell' | 'apply'> = { bash: 'shell', sh: 'shell', shell: 'shell', yaml: 'apply', yml: 'apply' };

export interface ParseOptions {
  /** Overrides the page kind that is otherwise inferred from frontmatter and path. */
  kind?: PageKind;
}

/** Parses one MDX (or Markdown) page into a Procedure. Never throws on bad input: problems become diagnostics. */
export function parseProcedure(source: string, file: string, options: ParseOptions = {}): Procedure {
  const diagnostics: Diagnostic[] = [];
  const slug = basename(file, extname(file));
  const procedure: Procedure = { file, id: slug, title: slug, kind: options.kind ?? 'page', steps: [], groups: [], hash: '', diagnostics };
  const report = (line: number, column: number, rule: string, message: string, severity: Diagnostic['severity'] = 'error') =>
    diagnostics.push({ file, line, column, severity, rule, message });

  let tree: Root;
  try {
    tree = (file.endsWith('.md') ? mdProcessor : mdxProcessor).parse(source) as Root;
  } catch (err) {
    const e = err as { line?: number; column?: number; reason?: string; message: string };
    const reason = e.reason ?? e.message;
    // Errors found at end of file (an unclosed element) carry no place, only the element's span in the text.
    const span = /\((\d+):(\d+)-\d+:\d+\)/.exec(reason);
    const line = e.line ?? (span ? Number(span[1]) : 1);
    const column = e.column ?? (span ? Number(span[2]) : 1);
    report(line, column, 'mdx-syntax', `${reason.replace(/ \(\d+:\d+-\d+:\d+\)/, '')} (the page is not valid MDX; nothing on it can run until it parses)`);
    procedure.hash = hashOf('');
    return procedure;
  }

  const frontmatter = readFrontmatter(tree, file, report);
  procedure.kind = options.kind ?? inferKind(frontmatter, file);
  checkPageFrontmatter(procedure.kind, frontmatter, report);
  const title = typeof frontmatter.title === 'string' ? frontmatter.title : firstHeading(tree);
  if (title) procedure.title = title;
  if (procedure.kind === 'runbook') {
    procedure.runbook = readRunbookMeta(frontmatter, slug, report);
    procedure.id = procedure.runbook?.id ?? slug;
  }

  const ids = new Map<string, number>();
  let sourceLines: string[] | undefined;
  let section: string | undefined;
  const walk = (nodes: RootContent[], ctx: { group?: number; tab?: TabChoice; tabsParam?: string | null }) => {
    for (const node of nodes) {
      if (node.type === 'heading') section = plainText(node);
      else if (node.type === 'code') readStep(node, ctx);
      else if (node.type === 'mdxJsxFlowElement') walkElement(node, ctx);
      else if ('children' in node && Array.isArray(node.children)) walk(node.children as RootContent[], ctx);
    }
  };

  const walkElement = (el: MdxJsxFlowElement, ctx: { group?: number; tab?: TabChoice; tabsParam?: string | null }) => {
    const line = el.position?.start.line ?? 1;
    const column = el.position?.start.column ?? 1;
    if (el.name === 'ForEach') {
      const nodes = stringAttr(el, 'nodes');
      if (ctx.group !== undefined) report(line, column, 'nested-foreach', '<ForEach> cannot be nested: put the steps of both loops in one group');
      if (nodes === undefined) {
        report(line, column, 'foreach-nodes', '<ForEach> needs nodes="role:<role>" or nodes="name1,name2" (a plain string, not an expression)');
        return;
      }
      const group: ForEachGroup = { index: procedure.groups.length, nodes, position: span(el) };
      procedure.groups.push(group);
      walk(el.children as RootContent[], { ...ctx, group: group.index });
      return;
    }
    if (el.name === 'Tabs') {
      walk(el.children as RootContent[], { ...ctx, tabsParam: stringAttr(el, 'param') ?? null });
      return;
    }
    if (el.name === 'TabItem' && ctx.tabsParam !== undefined) {
      const label = stringAttr(el, 'value') ?? stringAttr(el, 'label');
      if (ctx.tabsParam === null || label === undefined) {
        // Alternatives without a param cannot be chosen: steps inside them are reported when found.
        walk(el.children as RootContent[], { ...ctx, tab: { param: '', value: label ?? '' } });
      } else {
        walk(el.children as RootContent[], { ...ctx, tab: { param: ctx.tabsParam, value: label } });
      }
      return;
    }
    walk(el.children as RootContent[], ctx);
  };

  const readStep = (node: Code, ctx: { group?: number; tab?: TabChoice }) => {
    const meta = node.meta ?? '';
    const line = node.position?.start.line ?? 1;
    const column = node.position?.start.column ?? 1;
    // Column of the meta within the fence line, so attribute errors point at the attribute.
    sourceLines ??= source.split('\n');
    const metaColumn = (sourceLines[line - 1]?.indexOf(meta) ?? -1) + 1;
    const tokenized = tokenizeMeta(meta);
    if ('error' in tokenized) {
      if (/\bstep=/.test(meta)) report(line, metaColumn + tokenized.offset, 'invalid-attribute', tokenized.error);
      return;
    }
    const isStep = tokenized.tokens.some((t) => t.key === 'step');
    if (!isStep) {
      const stray = tokenized.tokens.find((t) => STEP_ONLY_ATTRIBUTES.includes(t.key));
      if (stray) {
        report(line, metaColumn + stray.offset, 'attribute-without-step', `"${stray.key}" on a fence without step=<id> does nothing: add step=<id> to make it a step, or remove it`, 'warning');
      }
      return;
    }
    const { attrs, id, problems } = readAttributes(tokenized.tokens);
    for (const p of problems) report(line, metaColumn + p.offset, p.rule, p.message);
    const lang = (node.lang ?? '').toLowerCase();
    const kind = STEP_LANGUAGES[lang];
    if (!kind) {
      report(line, column, 'unknown-language', `step "${id}" is a \`${lang || '(none)'}\` fence: steps are bash/sh (run in bash) or yaml with apply (a manifest)`);
    } else if (kind === 'apply' && !attrs.apply) {
      report(line, column, 'invalid-attribute', `yaml step "${id}" needs the apply flag (a manifest to apply), or drop step= to make it an example`);
    } else if (kind === 'shell' && attrs.apply) {
      report(line, column, 'invalid-attribute', `"apply" is for yaml manifests; step "${id}" is ${lang}`);
    }
    if (!id) return;
    if (ids.has(id)) {
      report(line, column, 'duplicate-step-id', `step id "${id}" is already used on line ${ids.get(id)}; step ids must be unique on a page`);
    } else ids.set(id, line);
    if (attrs.on === '$NODE' && ctx.group === undefined) {
      report(line, column, 'node-outside-foreach', `step "${id}" runs on=$NODE but is not inside <ForEach>: name a node or role instead`);
    }
    if (ctx.tab && !ctx.tab.param) {
      report(line, column, 'tabs-param', `step "${id}" is inside <Tabs> without param="NAME": alternatives need an enum param to choose between them, and each <TabItem label> must be one of its values`);
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
      ...(section ? { section } : {}),
    };
    procedure.steps.push(step);
  };

  walk(tree.children, {});
  checkTabs(procedure, report);
  procedure.hash = hashOf(JSON.stringify({ steps: procedure.steps.map((s) => [s.hash, s.group ?? null, s.tab ?? null]), groups: procedure.groups.map((g) => g.nodes), params: procedure.runbook?.params ?? {} }));
  return procedure;
}

function checkTabs(procedure: Procedure, report: (line: number, column: number, rule: string, message: string) => void) {
  const params = procedure.runbook?.params ?? {};
  for (const step of procedure.steps) {
    if (!step.tab) continue;
    const spec = params[step.tab.param];
    const { line, column } = step.position.start;
    if (!spec) report(line, column, 'tabs-param', `step "${step.id}" is chosen by param ${step.tab.param}, which the runbook does not declare under runbook.params`);
    else if (!spec.enum?.includes(step.tab.value)) {
      report(line, column, 'tabs-param', `tab "${step.tab.value}" is not a value of param ${step.tab.param} (enum: ${spec.enum?.join(', ') ?? 'none'}): the step could never be chosen`);
    }
  }
}

function readFrontmatter(tree: Root, file: string, report: (l: number, c: number, r: string, m: string) => void): Record<string, unknown> {
  const node = tree.children[0];
  if (!node || node.type !== 'yaml') return {};
  const base = (node.position?.start.line ?? 1) + 1;
  // js-yaml reads the data (fast, and what Astro itself uses); the position-aware
  // `yaml` document is only built when a message needs a field's line.
  let data: unknown;
  try {
    data = loadYaml(node.value) ?? {};
  } catch (err) {
    // The `yaml` parser positions errors where they start, js-yaml where it noticed them.
    const { LineCounter, parseDocument } = yamlLib();
    const lc = new LineCounter();
    const first = parseDocument(node.value, { lineCounter: lc, prettyErrors: false }).errors[0];
    const e = err as { mark?: { line: number; column: number }; reason?: string; message: string };
    const at = first ? lc.linePos(first.pos[0]) : { line: (e.mark?.line ?? 0) + 1, col: (e.mark?.column ?? 0) + 1 };
    report(base + at.line - 1, at.col, 'frontmatter', `invalid YAML in frontmatter: ${first?.message.split('\n')[0] ?? e.reason ?? e.message.split('\n')[0]}`);
    return {};
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    report(base, 1, 'frontmatter', 'frontmatter must be a YAML mapping (key: value)');
    return {};
  }
  let doc: Document | undefined;
  let lineCounter: LineCounter | undefined;
  const parsed = () => {
    if (!doc) {
      const { LineCounter, parseDocument } = yamlLib();
      lineCounter = new LineCounter();
      doc = parseDocument(node.value, { lineCounter });
    }
    return { doc, lineCounter: lineCounter! };
  };
  const info: FrontmatterInfo = {
    base,
    get doc() {
      return parsed().doc;
    },
    get lineCounter() {
      return parsed().lineCounter;
    },
  };
  Object.defineProperty(data, FRONTMATTER_DOC, { value: info, enumerable: false });
  return data as Record<string, unknown>;
}

interface FrontmatterInfo {
  base: number;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
}

/** Hidden key carrying the YAML source, so schema errors can be positioned at the field. */
const FRONTMATTER_DOC = Symbol('frontmatter-doc');

function lineOfPath(frontmatter: Record<string, unknown>, path: PropertyKey[]): number | undefined {
  const info = (frontmatter as Record<symbol, FrontmatterInfo | undefined>)[FRONTMATTER_DOC];
  if (!info) return undefined;
  // Walk the YAML tree to the deepest key that exists and point at that key's line.
  const { isMap, isScalar, isSeq } = yamlLib();
  let node: unknown = info.doc.contents;
  let offset: number | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as Scalar).range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
      offset = (node as { range?: [number, number] }).range?.[0] ?? offset;
    } else break;
  }
  return info.base + (offset === undefined ? 0 : info.lineCounter.linePos(offset).line - 1);
}

function readRunbookMeta(
  frontmatter: Record<string, unknown>,
  slug: string,
  report: (l: number, c: number, r: string, m: string) => void,
): RunbookMeta | undefined {
  const result = runbookFrontmatterSchema.safeParse(frontmatter.runbook);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = ['runbook', ...(issue.path as PropertyKey[])];
      const line = lineOfPath(frontmatter, path) ?? 1;
      report(line, 1, 'frontmatter', `${path.map(String).join('.')}: ${issue.message}`);
    }
    return undefined;
  }
  const rb = result.data;
  const meta = { id: rb.id ?? slug, risk: rb.risk, ...(rb.cluster ? { cluster: rb.cluster } : {}), requires: rb.requires, params: rb.params } as RunbookMeta;
  // Source lines are only needed to position a message: computed on first use, not serialised.
  let lines: RunbookMeta['lines'] | undefined;
  const lineOf = (...path: string[]) => lineOfPath(frontmatter, ['runbook', ...path]) ?? 1;
  Object.defineProperty(meta, 'lines', {
    enumerable: false,
    get: () =>
      (lines ??= {
        block: lineOf(),
        ...(rb.cluster ? { cluster: lineOf('cluster') } : {}),
        params: Object.fromEntries(Object.keys(rb.params).map((name) => [name, lineOf('params', name)])),
      }),
  });
  return meta;
}

function checkPageFrontmatter(kind: PageKind, frontmatter: Record<string, unknown>, report: (l: number, c: number, r: string, m: string) => void) {
  for (const { path, schema, value } of frontmatterChecks(kind, frontmatter)) {
    const result = schema.safeParse(value);
    if (result.success) continue;
    for (const issue of result.error.issues) {
      const full = [...path, ...(issue.path as PropertyKey[])];
      report(lineOfPath(frontmatter, full) ?? 1, 1, 'frontmatter', `${full.map(String).join('.') || 'frontmatter'}: ${issue.message}`);
    }
  }
}

function inferKind(frontmatter: Record<string, unknown>, file: string): PageKind {
  if (frontmatter.runbook !== undefined) return 'runbook';
  if (frontmatter.weekend !== undefined) return 'weekend';
  if (/(^|\/)adrs\//.test(file.replaceAll('\\', '/'))) return 'adr';
  return 'page';
}

function firstHeading(tree: Root): string | undefined {
  const h = tree.children.find((n): n is Heading => n.type === 'heading' && n.depth === 1);
  return h ? plainText(h) : undefined;
}

function plainText(node: RootContent): string {
  if ('value' in node && typeof node.value === 'string') return node.value;
  if ('children' in node && Array.isArray(node.children)) return (node.children as RootContent[]).map(plainText).join('');
  return '';
}

function stringAttr(el: MdxJsxFlowElement, name: string): string | undefined {
  const attr = el.attributes.find((a) => a.type === 'mdxJsxAttribute' && a.name === name);
  return attr && typeof attr.value === 'string' ? attr.value : undefined;
}

function span(node: { position?: { start: { line: number; column: number }; end: { line: number; column: number } } }) {
  const p = node.position;
  return { start: { line: p?.start.line ?? 1, column: p?.start.column ?? 1 }, end: { line: p?.end.line ?? 1, column: p?.end.column ?? 1 } };
}

export function hashOf(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 16);
}
