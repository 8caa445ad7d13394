import type { Document, LineCounter, Scalar } from 'yaml';
import { load as loadYaml } from 'js-yaml';
import type { Root } from 'mdast';
import { yamlLib } from './yaml-lib.ts';
import type { Report } from './report.ts';

/**
 * Where each field of a frontmatter block sits in the page, so a message about a
 * field can point at its line. The position-aware `yaml` document is built on the
 * first lookup only: data is read with js-yaml, and most pages never need a line.
 */
export class FrontmatterPositions {
  readonly #yaml: string;
  readonly #firstLine: number;
  #parsed: { doc: Document; lineCounter: LineCounter } | undefined;

  /** `firstLine` is the page line of the block's first YAML line (the line after `---`). */
  constructor(yaml: string, firstLine: number) {
    this.#yaml = yaml;
    this.#firstLine = firstLine;
  }

  /** The line of the deepest key of `path` that exists; the block's first line when none does. */
  lineOf(path: readonly PropertyKey[]): number {
    if (this.#yaml === '') return Math.max(1, this.#firstLine - 1);
    const { doc, lineCounter } = this.#document();
    const { isMap, isScalar, isSeq } = yamlLib();
    let node: unknown = doc.contents;
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
    return this.#firstLine + (offset === undefined ? 0 : lineCounter.linePos(offset).line - 1);
  }

  #document() {
    if (!this.#parsed) {
      const { LineCounter, parseDocument } = yamlLib();
      const lineCounter = new LineCounter();
      this.#parsed = { doc: parseDocument(this.#yaml, { lineCounter }), lineCounter };
    }
    return this.#parsed;
  }
}

/** A page's frontmatter: its data, and where each field is. */
export interface Frontmatter {
  data: Record<string, unknown>;
  positions: FrontmatterPositions;
}

/** The frontmatter of a page without any (or whose block could not be read). */
export const noFrontmatter = (): Frontmatter => ({ data: {}, positions: new FrontmatterPositions('', 2) });

/** A first line of `---` opens a frontmatter block, a later line of `---` closes it (remark-frontmatter's rule). */
const OPENER = /^\uFEFF?---[ \t]*(?:\r\n|\r|\n|$)/;
const CLOSER = /[\r\n]---[ \t]*(?:\r\n|\r|\n|$)/;

/**
 * A block that opens on line 1 and never closes is an error at 1:1: otherwise its fields
 * would silently become page content. Read from the text, so that it is reported even
 * when the fields, read as content, do not parse (`weekend: { number: 1 }` is an MDX expression).
 */
export function checkFrontmatterClosed(source: string, report: Report): void {
  const opener = OPENER.exec(source);
  if (!opener || CLOSER.test(source.slice(opener[0].length - 1))) return;
  const message = 'the frontmatter opened by --- on line 1 is never closed: add a line with --- after its last field';
  report(1, 1, 'unclosed-frontmatter', message);
}

/** Reads the frontmatter block of a parsed page. */
export function readFrontmatter(tree: Root, report: Report): Frontmatter {
  const node = tree.children[0];
  if (node?.type !== 'yaml') return noFrontmatter();
  const firstLine = (node.position?.start.line ?? 1) + 1;
  let data: unknown;
  try {
    // js-yaml reads the data: fast, and what Astro itself uses.
    data = loadYaml(node.value) ?? {};
  } catch (err) {
    reportYamlError(node.value, firstLine, err, report);
    return noFrontmatter();
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    report(firstLine, 1, 'frontmatter', 'frontmatter must be a YAML mapping (key: value)');
    return noFrontmatter();
  }
  return { data: data as Record<string, unknown>, positions: new FrontmatterPositions(node.value, firstLine) };
}

function reportYamlError(yaml: string, firstLine: number, err: unknown, report: Report) {
  // The `yaml` parser positions errors where they start, js-yaml where it noticed them.
  const { LineCounter, parseDocument } = yamlLib();
  const lc = new LineCounter();
  const first = parseDocument(yaml, { lineCounter: lc, prettyErrors: false }).errors[0];
  const e = err as { mark?: { line: number; column: number }; reason?: string; message: string };
  const at = first ? lc.linePos(first.pos[0]) : { line: (e.mark?.line ?? 0) + 1, col: (e.mark?.column ?? 0) + 1 };
  const reason = first?.message.split('\n')[0] ?? e.reason ?? e.message.split('\n')[0];
  report(firstLine + at.line - 1, at.col, 'frontmatter', `invalid YAML in frontmatter: ${reason}`);
}
