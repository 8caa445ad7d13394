/**
 * Finds secret forms in text, leftmost-longest, where a match may have line breaks
 * between any two of its characters (wrapped base64, a value printed over several
 * lines). Hand-written rather than a RegExp alternation: a stream needs to know
 * whether the end of a chunk could still grow into a match (JavaScript regexes have
 * no partial matching), and a trie keeps a 1 MB output to one linear pass.
 */

interface Node {
  next: Map<number, Node>;
  /** A form ends here. */
  end: boolean;
}

/** Line breaks allowed in a row inside a match (`\r\n\r\n`: a blank line); bounds how much a stream holds back. */
const MAX_BREAK_RUN = 4;

const isBreak = (c: number) => c === 10 || c === 13;

export type Span = readonly [start: number, end: number];

export interface Scan {
  spans: Span[];
  /** Text from here on could be the start of a match that the next chunk completes; `text.length` when none. */
  holdFrom: number;
}

export class FormMatcher {
  private readonly root: Node = { next: new Map(), end: false };

  constructor(forms: readonly string[]) {
    for (const form of forms) {
      let node = this.root;
      for (let i = 0; i < form.length; i++) {
        const c = form.charCodeAt(i);
        let child = node.next.get(c);
        if (!child) node.next.set(c, (child = { next: new Map(), end: false }));
        node = child;
      }
      node.end = true;
    }
  }

  /**
   * Every match in `text`. With `final` false (a stream), scanning stops at the first
   * position whose match could still be completed or lengthened by more text; the
   * matches before it are the same as in the whole text, whatever follows.
   */
  scan(text: string, final: boolean): Scan {
    const spans: Span[] = [];
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (isBreak(text.charCodeAt(i)) || !this.root.next.has(text.charCodeAt(i))) {
        i++;
        continue;
      }
      const { end, open } = this.walk(text, i);
      if (open && !final) return { spans, holdFrom: i };
      if (end > 0) {
        spans.push([i, end]);
        i = end;
      } else i++;
    }
    return { spans, holdFrom: n };
  }

  /** The longest form starting at `start` (end 0 when none), and whether the text ran out mid-way through the trie. */
  private walk(text: string, start: number): { end: number; open: boolean } {
    let node = this.root;
    let end = 0;
    let breaks = 0;
    for (let j = start; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (isBreak(c)) {
        if (++breaks > MAX_BREAK_RUN) return { end, open: false };
        continue;
      }
      breaks = 0;
      const child = node.next.get(c);
      if (!child) return { end, open: false };
      node = child;
      if (node.end) end = j + 1;
    }
    return { end, open: node.next.size > 0 };
  }
}

/** `text` with each span replaced by `mask`. */
export function replaceSpans(text: string, spans: readonly Span[], mask: string, upTo = text.length): string {
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    out += text.slice(at, start) + mask;
    at = end;
  }
  return out + text.slice(at, upTo);
}
