/**
 * Tokenises a fence's meta string: `step=snapshot title="Take a snapshot" confirm`.
 * Values may be bare, "double-quoted" or 'single-quoted'; a key without `=` is a flag.
 * Inside double quotes only `\"` and `\\` are escapes: every other backslash stays, so
 * `expect="^v1\.34\.\d+$"` is the pattern as written. Single quotes take everything literally.
 * Expressive-code's `{1-3}` line-marker ranges are kept as their own tokens.
 */
export interface MetaToken {
  key: string;
  value: string | true;
  /** 0-based offset of the token in the meta string, for column positions. */
  offset: number;
}

export type MetaResult = { tokens: MetaToken[] } | { error: string; offset: number };

// A key must be followed by a complete value or by no `=` at all, so `title="open` fails at the key.
const TOKEN = /\s*(?:(\{[^}]*\})|([A-Za-z][\w-]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+)|(?![=\w-])))/y;

export function tokenizeMeta(meta: string): MetaResult {
  const tokens: MetaToken[] = [];
  let pos = 0;
  TOKEN.lastIndex = 0;
  while (pos < meta.length) {
    if (/^\s*$/.test(meta.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(meta);
    if (!m) {
      const offset = pos + (meta.slice(pos).length - meta.slice(pos).trimStart().length);
      const rest = meta.slice(offset);
      const hint = /^\w[\w-]*=["']/.test(rest) ? ' (unterminated quote?)' : '';
      const at = rest.slice(0, 20);
      const error = `cannot read the fence attributes at "${at}"${hint}; write key=value or key="a value"`;
      return { error, offset };
    }
    const offset = m.index + (m[0].length - m[0].trimStart().length);
    if (m[1]) tokens.push({ key: m[1], value: true, offset });
    else tokens.push({ key: m[2]!, value: m[3] === undefined ? true : unquote(m[3]), offset });
    pos = TOKEN.lastIndex;
  }
  return { tokens };
}

function unquote(v: string): string {
  if (v.startsWith('"')) return v.slice(1, -1).replace(/\\(["\\])/g, '$1');
  if (v.startsWith("'")) return v.slice(1, -1);
  return v;
}
