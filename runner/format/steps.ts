import { hash } from 'node:crypto';
import type { Code } from 'mdast';
import type { Procedure, Span, Step } from './model.ts';
import { type MetaToken, tokenizeMeta } from './meta.ts';
import { STEP_ONLY_ATTRIBUTES, readAttributes } from './attributes.ts';
import { fenceEnd, rawMeta, swallowedFence } from './fences.ts';
import { describeControl, findControls } from './control-chars.ts';
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

/** Control characters reported per step before the rest are left to the fix. */
const MAX_CONTROLS = 5;

/** Reads one fenced block: a step when its meta carries step=<id>, otherwise an illustration. */
export function readFence(node: Code, ctx: WalkContext, page: PageState): void {
  const { line } = span(node).start;
  // The meta as written, and its column, so attribute errors point at the attribute.
  const raw = node.meta ? rawMeta(node, page.lines()[line - 1] ?? '') : undefined;
  const meta = raw?.meta ?? node.meta ?? '';
  const metaColumn = raw?.column ?? 1;
  const tokenized = tokenizeMeta(meta);
  const isStep = 'tokens' in tokenized ? tokenized.tokens.some((t) => t.key === 'step') : /\bstep=/.test(meta);
  checkClosed(node, page, isStep);
  if ('error' in tokenized) {
    if (isStep) page.report(line, metaColumn + tokenized.offset, 'invalid-attribute', tokenized.error);
    return;
  }
  if (!isStep) {
    if (!page.firstShellExample && STEP_LANGUAGES[(node.lang ?? '').toLowerCase()] === 'shell' && /^[ \t]*[^\s#]/m.test(node.value)) {
      page.firstShellExample = span(node).start;
    }
    const stray = tokenized.tokens.find((t) => STEP_ONLY_ATTRIBUTES.includes(t.key));
    if (stray) {
      const message = `"${stray.key}" on a fence without step=<id> does nothing: add step=<id> to make it a step, or remove it`;
      page.report(line, metaColumn + stray.offset, 'attribute-without-step', message, 'warning');
    }
    return;
  }
  readStep(node, meta, ctx, page, tokenized.tokens, metaColumn);
  checkControls(page, node.value, meta, line, metaColumn);
}

function readStep(node: Code, meta: string, ctx: WalkContext, page: PageState, tokens: MetaToken[], metaColumn: number) {
  const { report, procedure, ids } = page;
  const { line, column } = span(node).start;
  const { attrs, id, problems } = readAttributes(tokens);
  for (const p of problems) report(line, metaColumn + p.offset, p.rule, p.message);
  const lang = (node.lang ?? '').toLowerCase();
  const kind = Object.hasOwn(STEP_LANGUAGES, lang) ? STEP_LANGUAGES[lang] : undefined;
  if (!kind) {
    const message = `step "${id}" is a \`${lang || '(none)'}\` fence: steps are bash/sh (run in bash) or yaml with apply (a manifest)`;
    report(line, column, 'unknown-language', message);
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
    const message = `step "${id}" is inside <Tabs> without param="NAME": alternatives need an enum param to choose between them, and each <TabItem label> must be one of its values`;
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

/**
 * A fence without its closing fence takes the text after it as code, up to the end of
 * the file or up to the next fence that can close it: for a step, prose that would run,
 * and a step fence it swallows silently does not exist. Both are errors; a fence that
 * only shows too much as code is a warning.
 */
function checkClosed(node: Code, page: PageState, isStep: boolean) {
  const end = fenceEnd(node, page.source);
  if (!end) return;
  const swallowed = swallowedFence(node.value, end);
  if (end.closed && !swallowed) return;
  const { line, column } = span(node).start;
  const close = `close it with ${end.fence} on a line of its own`;
  const report = (message: string, severity: 'error' | 'warning' = 'error') => page.report(line, column, 'unclosed-fence', message, severity);
  const at = swallowed && `line ${line + 1 + swallowed.line} (${swallowed.text.length > 40 ? `${swallowed.text.slice(0, 40)}…` : swallowed.text})`;
  if (end.closed) {
    // Closed, but only by the closing fence of a block it swallowed.
    const what = isStep ? 'everything in between is part of this step and would run as commands' : 'everything in between shows as code';
    const lost = swallowed!.isStep ? ', and that step does not exist' : '';
    const longer = `(if that line is meant as text, open this block with ${end.fence[0]!.repeat(end.fence.length + 1)} instead)`;
    const message = `this fence runs on past the fence on ${at}, so ${what}${lost}: it was probably never closed; ${close} ${longer}`;
    report(message, isStep || swallowed!.isStep ? 'error' : 'warning');
    return;
  }
  const where = end.toEndOfFile ? `the end of the file (line ${end.endLine})` : `the end of its list item or quote (line ${end.endLine})`;
  if (isStep) report(`this step's fence is never closed, so everything up to ${where} is part of the step and would run as commands: ${close}`);
  else if (swallowed?.isStep) report(`this fence is never closed, so the step fence on ${at} is read as its text and that step does not exist: ${close}`);
  else report(`this fence is never closed, so everything up to ${where} shows as code: ${close}`, 'warning');
}

/** Line endings as micromark counts lines: a lone CR ends a line too. */
export const LINE_BREAK = /\r\n|\r|\n/;

/** Control characters in a step's code or meta are errors at their exact line and column. */
function checkControls(page: PageState, code: string, meta: string, fenceLine: number, metaColumn: number) {
  const inMeta = findControls(meta, MAX_CONTROLS);
  const inCode = findControls(code, MAX_CONTROLS - inMeta.length);
  if (inMeta.length === 0 && inCode.length === 0) return;
  const message = (char: string, where: string) =>
    `${where} contains ${describeControl(char)}: a terminal would not show what runs; remove it, or write it as an escape the command understands (e.g. $'\\e' or printf '\\033' in bash)`;
  for (const { index, char } of inMeta) page.report(fenceLine, metaColumn + index, 'control-character', message(char, 'the fence line'));
  const codeLines = code.split(LINE_BREAK);
  let crlf = false;
  for (const { index, char } of inCode) {
    const isCrlf = char === '\r' && code[index + 1] === '\n';
    if (isCrlf && crlf) continue;
    crlf ||= isCrlf;
    const before = code.slice(0, index).split(LINE_BREAK);
    const codeLine = before.length - 1;
    const fileLine = fenceLine + 1 + codeLine;
    const column = sourceColumn(page.lines()[fileLine - 1] ?? '', codeLines[codeLine]!, before[codeLine]!.length, char);
    const text = isCrlf
      ? 'the step has Windows line endings (CRLF): bash would get a carriage return (\\x0d) at the end of each line; save the page with LF line endings'
      : message(char, 'the step');
    page.report(fileLine, column, 'control-character', text);
  }
}

/** The 1-based source column of a character of a code line: the source line is the code line after a container prefix. */
function sourceColumn(sourceLine: string, codeLine: string, indexInLine: number, char: string): number {
  if (sourceLine.endsWith(codeLine)) return sourceLine.length - codeLine.length + indexInLine + 1;
  return sourceLine.indexOf(char) + 1 || 1;
}

export function span(node: { position?: { start: { line: number; column: number }; end: { line: number; column: number } } }): Span {
  const p = node.position;
  return {
    start: { line: p?.start.line ?? 1, column: p?.start.column ?? 1 },
    end: { line: p?.end.line ?? 1, column: p?.end.column ?? 1 },
  };
}

export function hashOf(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 16);
}
