import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkFrontmatter from 'remark-frontmatter';
import remarkMdx from 'remark-mdx';
import type { Node, Root, RootContent } from 'mdast';
import type { Report } from './report.ts';

const mdxProcessor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']).use(remarkMdx);
const mdProcessor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']);

/**
 * Deepest nesting the parser accepts, in tree levels. Real pages stay under 10
 * (<ForEach> › <Steps> › list › item › fence); past this a page is refused with a
 * position instead of exhausting the stack of whatever walks the tree next.
 */
export const MAX_DEPTH = 100;

/**
 * A line whose leading run of indentation, `>` and list markers is this long is
 * refused before parsing: micromark's time grows with nesting times indentation
 * per line (a 400-deep list of 800 lines takes ~1.4 s), so such a page would stall
 * `check` for every page after it. 256 units is a list about 128 levels deep.
 */
const DEEP_PREFIX = /^(?:[ \t>]|[-+*][ \t]|\d{1,9}[.)][ \t]){256}/m;

/** Parses a page into mdast; a page whose structure cannot be read is a positioned error and no tree. */
export function parseTree(source: string, isMarkdown: boolean, report: Report): Root | undefined {
  const deep = DEEP_PREFIX.exec(source);
  if (deep) {
    const line = source.slice(0, deep.index).split('\n').length;
    const why = '(this line starts with 256 or more levels of indentation, quote or list markers)';
    report(line, 1, 'page-structure', `${tooDeep} ${why}`);
    return undefined;
  }
  try {
    return (isMarkdown ? mdProcessor : mdxProcessor).parse(source) as Root;
  } catch (err) {
    reportParseError(err, report);
    return undefined;
  }
}

const tooDeep = 'the page is nested too deeply to read safely, and nothing on it can run';

function reportParseError(err: unknown, report: Report) {
  if (err instanceof RangeError) {
    // A parser that ran out of stack says nowhere where; the deepest structure is the place to look.
    const why = '(the parser ran out of stack: look for deeply nested elements, lists or quotes)';
    report(1, 1, 'page-structure', `${tooDeep} ${why}`);
    return;
  }
  const e = err as { line?: number; column?: number; reason?: string; message?: string };
  const reason = e.reason ?? e.message ?? String(err);
  // Errors found at end of file (an unclosed element) carry no place, only the element's span in the text.
  const span = /\((\d+):(\d+)-\d+:\d+\)/.exec(reason);
  const line = e.line ?? (span ? Number(span[1]) : 1);
  const column = e.column ?? (span ? Number(span[2]) : 1);
  const text = reason.replace(/ \(\d+:\d+-\d+:\d+\)/, '');
  report(line, column, 'mdx-syntax', `${text} (the page is not valid MDX; nothing on it can run until it parses)`);
}

/** What a walk carries down: the ForEach group and Tabs choice around a node. */
export interface WalkContext {
  group?: number;
  tab?: { param: string; value: string };
  /** Inside <Tabs>: its param, or null when it has none. */
  tabsParam?: string | null;
}

export interface Visitor {
  /** Returns the context for the node's children, or undefined to skip them. */
  enter(node: RootContent, ctx: WalkContext): WalkContext | undefined;
  /** The first node deeper than MAX_DEPTH: it and everything below it are skipped. */
  tooDeep(node: Node, depth: number): void;
}

/**
 * Visits the tree in document order without recursion (an explicit stack), so no
 * nesting can overflow the call stack; nodes past MAX_DEPTH are reported once and skipped.
 */
export function walkTree(root: Root, visitor: Visitor): void {
  const stack: Array<{ node: RootContent; ctx: WalkContext; depth: number }> = [];
  const pushChildren = (nodes: RootContent[], ctx: WalkContext, depth: number) => {
    for (let i = nodes.length - 1; i >= 0; i--) stack.push({ node: nodes[i]!, ctx, depth });
  };
  pushChildren(root.children, {}, 1);
  let reported = false;
  while (stack.length > 0) {
    const { node, ctx, depth } = stack.pop()!;
    if (depth > MAX_DEPTH) {
      if (!reported) visitor.tooDeep(node, depth);
      reported = true;
      continue;
    }
    const inner = visitor.enter(node, ctx);
    if (inner && 'children' in node && Array.isArray(node.children)) {
      pushChildren(node.children as RootContent[], inner, depth + 1);
    }
  }
}

/** Reports a node past MAX_DEPTH at its position. */
export function reportTooDeep(report: Report, node: Node) {
  const { line = 1, column = 1 } = node.position?.start ?? {};
  const why = `(more than ${MAX_DEPTH} levels of nested elements, lists or quotes here)`;
  report(line, column, 'page-structure', `${tooDeep} ${why}`);
}
