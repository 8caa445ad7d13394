import { basename, extname } from 'node:path';
import type { Heading, Html, RootContent } from 'mdast';
import type { MdxJsxFlowElement } from 'mdast-util-mdx-jsx';
import { toString as textOf } from 'mdast-util-to-string';
import type { Diagnostic, PageKind, Procedure } from './model.ts';
import { type Frontmatter, checkFrontmatterClosed, noFrontmatter, readFrontmatter } from './frontmatter.ts';
import { readRunbookMeta } from './runbook-meta.ts';
import { type PageState, hashOf, readFence, span } from './steps.ts';
import { LINE_BREAK } from './fence-checks.ts';
import { type WalkContext, parseTree, reportTooDeep, walkTree } from './tree.ts';
import { decodeSource } from './source.ts';
import { pageIdProblem, suggestPageId } from './page-id.ts';
import { type Report, reporter } from './report.ts';

export { STEP_LANGUAGES, hashOf } from './steps.ts';

export interface ParseOptions {
  /** Overrides the page kind that is otherwise inferred from frontmatter and path. */
  kind?: PageKind;
}

/** A parsed page: the Procedure, and its frontmatter for checks that need more than the model. */
export interface ParsedPage {
  procedure: Procedure;
  frontmatter: Frontmatter;
}

/** Parses one MDX (or Markdown) page into a Procedure. Never throws on bad input: problems become diagnostics. */
export function parseProcedure(source: string | Uint8Array, file: string, options: ParseOptions = {}): Procedure {
  return parsePage(source, file, options).procedure;
}

/**
 * Parses a page given as text or as its bytes. Bytes are decoded here, so that bytes
 * that are not UTF-8 are warned about at their position wherever pages are read.
 */
export function parsePage(input: string | Uint8Array, file: string, options: ParseOptions = {}): ParsedPage {
  const diagnostics: Diagnostic[] = [];
  const report = reporter(file, diagnostics);
  const source = typeof input === 'string' ? input : decoded(input, report);
  const slug = basename(file, extname(file));
  const kind = options.kind ?? 'page';
  const procedure: Procedure = { file, id: slug, title: slug, kind, steps: [], groups: [], hash: '', diagnostics };
  const isMarkdown = file.endsWith('.md');
  checkFrontmatterClosed(source, report);
  checkNul(source, report);
  const tree = parseTree(source, isMarkdown, report);
  if (!tree) {
    procedure.hash = hashOf('');
    return { procedure, frontmatter: noFrontmatter() };
  }
  const frontmatter = readFrontmatter(tree, report);
  procedure.kind = options.kind ?? inferKind(frontmatter.data, file);
  const title = typeof frontmatter.data.title === 'string' ? frontmatter.data.title : firstHeading(tree.children);
  if (title) procedure.title = title;
  if (procedure.kind === 'runbook') {
    procedure.runbook = readRunbookMeta(frontmatter, slug, report);
    procedure.id = procedure.runbook?.id ?? slug;
  }
  let lines: string[] | undefined;
  const split = () => (lines ??= source.split(LINE_BREAK));
  const page: PageState = { source, report, procedure, ids: new Map(), lines: split };
  const inert: Html[] = [];
  walkTree(tree, {
    enter: (node, ctx) => (isMarkdown && node.type === 'html' ? void inert.push(node) : enter(node, ctx, page)),
    tooDeep: (node) => reportTooDeep(report, node),
  });
  for (const node of inert) checkMarkdownElement(node, page);
  checkTabs(procedure, report);
  checkWeekendSteps(page);
  checkPageId(procedure, frontmatter, report);
  procedure.hash = hashOf(
    JSON.stringify({
      steps: procedure.steps.map((s) => [s.hash, s.group ?? null, s.tab ?? null]),
      groups: procedure.groups.map((g) => g.nodes),
      params: procedure.runbook?.params ?? {},
    }),
  );
  return { procedure, frontmatter };
}

/**
 * Markdown turns NUL into U+FFFD before anything else sees the page, so a NUL in a step
 * would silently become another character: it is an error wherever it is (capped).
 */
function checkNul(source: string, report: Report) {
  for (let i = source.indexOf('\0'), n = 0; i !== -1 && n < 5; i = source.indexOf('\0', i + 1), n++) {
    const before = source.slice(0, i).split(LINE_BREAK);
    const message = `the page contains \\x00 (NUL), which Markdown turns into \uFFFD: remove it`;
    report(before.length, before[before.length - 1]!.length + 1, 'control-character', message);
  }
}

function decoded(bytes: Uint8Array, report: Report): string {
  const { text, invalid, invalidCount } = decodeSource(bytes);
  invalid.forEach(({ line, column, byte }, i) => {
    const rest = invalidCount - invalid.length;
    const more = i === invalid.length - 1 && rest > 0 ? ` (and ${rest} more on this page)` : '';
    const hex = `0x${byte.toString(16).padStart(2, '0')}`;
    const message =
      `byte ${hex} is not UTF-8: it reads as \uFFFD here and wherever the page is shown or run${more}; ` +
      'save the page as UTF-8';
    report(line, column, 'invalid-encoding', message, 'warning');
  });
  return text;
}

/** One node of the walk: returns the context for its children, or undefined when they hold no steps. */
function enter(node: RootContent, ctx: WalkContext, page: PageState): WalkContext | undefined {
  switch (node.type) {
    case 'heading':
      page.section = textOf(node);
      return undefined;
    case 'code':
      readFence(node, ctx, page);
      return undefined;
    case 'mdxJsxFlowElement':
      return enterElement(node, ctx, page);
    default:
      return ctx;
  }
}

function enterElement(el: MdxJsxFlowElement, ctx: WalkContext, page: PageState): WalkContext | undefined {
  const { procedure, report } = page;
  const { line, column } = span(el).start;
  if (el.name === 'ForEach') {
    const nodes = stringAttr(el, 'nodes');
    const nested = '<ForEach> cannot be nested: put the steps of both loops in one group';
    if (ctx.group !== undefined) report(line, column, 'nested-foreach', nested);
    if (nodes === undefined) {
      const message = '<ForEach> needs nodes="role:<role>" or nodes="name1,name2" (a plain string, not an expression)';
      report(line, column, 'foreach-nodes', message);
      return undefined;
    }
    procedure.groups.push({ index: procedure.groups.length, nodes, position: span(el) });
    return { ...ctx, group: procedure.groups.length - 1 };
  }
  if (el.name === 'Tabs') return { ...ctx, tabsParam: stringAttr(el, 'param') ?? null };
  if (el.name === 'TabItem' && ctx.tabsParam !== undefined) {
    const label = stringAttr(el, 'value') ?? stringAttr(el, 'label');
    // Alternatives without a param cannot be chosen: steps inside them are reported when found.
    if (ctx.tabsParam === null || label === undefined) return { ...ctx, tab: { param: '', value: label ?? '' } };
    return { ...ctx, tab: { param: ctx.tabsParam, value: label } };
  }
  return ctx;
}

/** Elements the runner gives a meaning to in MDX, which plain Markdown passes through as HTML. */
const RUNNER_ELEMENTS = /^<(ForEach|Tabs|TabItem)(?=[\s/>])/;

/**
 * In a `.md` page `<ForEach>` and `<Tabs>` are inert HTML: steps inside would run once,
 * or all alternatives at once. With steps on the page that is an error; without, a warning.
 * Checked after the walk, when the steps are counted.
 */
function checkMarkdownElement(node: Html, page: PageState) {
  const name = RUNNER_ELEMENTS.exec(node.value)?.[1];
  if (!name) return;
  const { line, column } = span(node).start;
  const meaning = name === 'ForEach' ? 'repeat its steps per node' : 'choose between alternatives';
  const fix = 'rename the page to .mdx (or remove the element)';
  const message = `<${name}> in a .md page is plain HTML, so the runner cannot ${meaning}: ${fix}`;
  page.report(line, column, 'mdx-in-markdown', message, page.procedure.steps.length ? 'error' : 'warning');
}

function checkTabs(procedure: Procedure, report: Report) {
  const params = procedure.runbook?.params ?? {};
  for (const step of procedure.steps) {
    if (!step.tab) continue;
    const spec = params[step.tab.param];
    const { line, column } = step.position.start;
    if (!spec) {
      const message = `step "${step.id}" is chosen by param ${step.tab.param}, which the runbook does not declare under runbook.params`;
      report(line, column, 'tabs-param', message);
    } else if (!spec.enum?.includes(step.tab.value)) {
      const values = spec.enum?.join(', ') ?? 'none';
      const message = `tab "${step.tab.value}" is not a value of param ${step.tab.param} (enum: ${values}): the step could never be chosen`;
      report(line, column, 'tabs-param', message);
    }
  }
}

/**
 * A weekend page is a build plan: bash fences with commands and not one step means
 * its step= marks were forgotten (runbook pages get the same warning from check).
 * ADRs and other pages show commands as examples, so they are not warned.
 */
function checkWeekendSteps(page: PageState) {
  const at = page.firstShellExample;
  if (page.procedure.kind !== 'weekend' || page.procedure.steps.length > 0 || !at) return;
  const message =
    'this weekend page has bash fences with commands but no steps, so none of them can run: ' +
    'mark the commands with step=<id>';
  page.report(at.line, at.column, 'no-steps', message, 'warning');
}

/** The id of a page that can run names its records: it must be one safe path segment. */
function checkPageId(procedure: Procedure, frontmatter: Frontmatter, report: Report) {
  if (procedure.kind !== 'runbook' && procedure.steps.length === 0) return;
  const problem = pageIdProblem(procedure.id);
  if (!problem) return;
  const shown = procedure.id.length > 40 ? `${procedure.id.slice(0, 40)}…` : procedure.id;
  const suggestion = suggestPageId(procedure.id);
  const block = frontmatter.data.runbook as { id?: unknown } | null | undefined;
  const fromFrontmatter = procedure.runbook !== undefined && typeof block?.id === 'string';
  if (fromFrontmatter) {
    const line = frontmatter.positions.lineOf(['runbook', 'id']);
    const message = `runbook.id "${shown}" cannot name run records: ${problem}; set runbook.id: ${suggestion}`;
    report(line, 1, 'page-id', message);
  } else {
    const name = basename(procedure.file);
    const message =
      `page id "${shown}" (from the file name ${name}) cannot name run records: ${problem}; ` +
      `rename the file to ${suggestion}${extname(name)} or set runbook.id`;
    report(1, 1, 'page-id', message);
  }
}

function inferKind(frontmatter: Record<string, unknown>, file: string): PageKind {
  if (frontmatter.runbook !== undefined) return 'runbook';
  if (frontmatter.weekend !== undefined) return 'weekend';
  if (/(^|\/)adrs\//.test(file.replaceAll('\\', '/'))) return 'adr';
  return 'page';
}

function firstHeading(nodes: RootContent[]): string | undefined {
  const h = nodes.find((n): n is Heading => n.type === 'heading' && n.depth === 1);
  return h ? textOf(h) : undefined;
}

function stringAttr(el: MdxJsxFlowElement, name: string): string | undefined {
  const attr = el.attributes.find((a) => a.type === 'mdxJsxAttribute' && a.name === name);
  return attr && typeof attr.value === 'string' ? attr.value : undefined;
}
