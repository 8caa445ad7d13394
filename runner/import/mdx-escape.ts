/**
 * Prose that Markdown accepts but MDX rejects or reads as code: `<` starts JSX, `{`/`}` start an
 * expression, `<!-- -->` is no comment in MDX, `<https://…>` autolinks are JSX tags. Each line
 * outside fences is rewritten and every change is reported with its source line, so the operator
 * can see that the page says the same thing. Inline code spans are left as they are (MDX keeps them literal).
 */

export interface EscapeChange {
  line: number;
  what: string;
}

export interface EscapeState {
  /** Inside a `<!--` that did not close on its line. */
  inComment: boolean;
}

const AUTOLINK = /<((?:https?|ftp|mailto):[^\s<>]+)>/g;

/** Escapes one prose line (1-based `line` for the report). */
export function escapeProseLine(text: string, line: number, state: EscapeState, changes: EscapeChange[]): string {
  let rest = text;
  let out = '';
  if (state.inComment) {
    const end = rest.indexOf('-->');
    if (end < 0) return `${rest.replaceAll('*/', '* /')}`;
    out += `${rest.slice(0, end).replaceAll('*/', '* /')}*/}`;
    rest = rest.slice(end + 3);
    state.inComment = false;
  }
  // Split off inline code spans: the text between backtick runs is kept verbatim.
  const parts = rest.split(/(`+[^`]*`+)/);
  for (const part of parts) {
    if (part.startsWith('`')) {
      out += part;
      continue;
    }
    out += escapeText(part, line, state, changes);
    if (state.inComment) break;
  }
  return out;
}

function escapeText(text: string, line: number, state: EscapeState, changes: EscapeChange[]): string {
  const open = text.indexOf('<!--');
  if (open >= 0) {
    const before = escapeText(text.slice(0, open), line, { inComment: false }, changes);
    const close = text.indexOf('-->', open + 4);
    changes.push({ line, what: 'HTML comment became an MDX comment {/* … */}' });
    if (close < 0) {
      state.inComment = true;
      return `${before}{/*${text.slice(open + 4).replaceAll('*/', '* /')}`;
    }
    const body = text.slice(open + 4, close).replaceAll('*/', '* /');
    return `${before}{/*${body}*/}${escapeText(text.slice(close + 3), line, state, changes)}`;
  }
  let out = text.replace(AUTOLINK, (_m, url: string) => {
    changes.push({ line, what: `autolink <${url}> became [${url}](${url})` });
    return `[${url}](${url})`;
  });
  if (/[<{}]/.test(out)) {
    const found = [...new Set(out.match(/[<{}]/g))].join(' ');
    // Keep the links made above: their text has no < { }.
    out = out.replaceAll('<', '&lt;').replaceAll('{', '&#123;').replaceAll('}', '&#125;');
    changes.push({ line, what: `escaped ${found} as HTML entities` });
  }
  return out;
}
