import { placeholders } from '../check/rules/placeholder.ts';

/**
 * Values a plain runbook leaves for the reader to fill in: `<placeholder>`s, `YYYYMMDD` stamps and
 * `v1.xx.y` versions. Each becomes a declared param, reached as an environment variable (never
 * substituted into the text), and tokens/passwords become secret params.
 */
export interface ImportedParam {
  name: string;
  description: string;
  secret: boolean;
  pattern?: string;
  /** The values an alternative (Tabs) param may take. */
  enum?: string[];
  line: number;
}

const RESERVED = new Set([
  'NODE',
  'NODE_ADDRESS',
  'PATH',
  'HOME',
  'KUBECONFIG',
  'PWD',
  'SHELL',
  'IFS',
  'ENV',
  'TMPDIR',
]);
const SECRET = /TOKEN|PASSWORD|PASSWD|SECRET|KEY/;
const STAMP = /\bYYYYMMDD\b/g;
const VERSION = /\bv\d+\.(?:\d+|x+)\.(?:\d+|[xy]+)(?:\+k3s\d)?\b/g;
const ANGLE = /<([A-Za-z_][\w.:-]*)>/g;

export function paramName(token: string): string {
  let name = token
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .toUpperCase();
  if (/^\d/.test(name)) name = `P_${name}`;
  return RESERVED.has(name) || name.startsWith('SSH_') || name.startsWith('RUNBOOK_') ? `${name}_VALUE` : name;
}

/** How to write the variable where the token stood: quoted unless already inside double quotes. */
export function reference(line: string, at: number, name: string): string {
  const before = line.slice(0, at);
  const singles = (before.match(/'/g) ?? []).length % 2 === 1;
  const doubles = (before.replace(/'[^']*'/g, '').match(/"/g) ?? []).length % 2 === 1;
  if (singles) return `'"\${${name}}"'`;
  return doubles ? `\${${name}}` : `"\${${name}}"`;
}

export function extractParams(code: string, sourceLine: number, params: Map<string, ImportedParam>): string {
  // The checker's own detection names the placeholders bash would misread; the quoted ones
  // (inside "…" where bash reads them literally) are placeholders for the reader all the same.
  const known = new Set(placeholders(code).map((p) => p.name));
  const add = (name: string, description: string, pattern?: string) => {
    if (!params.has(name))
      params.set(name, { name, description, secret: SECRET.test(name), pattern, line: sourceLine });
    return name;
  };
  return code
    .split('\n')
    .map((line, i) => {
      let out = '';
      let last = 0;
      const hits: Array<{ at: number; len: number; name: string }> = [];
      for (const m of line.matchAll(ANGLE)) {
        const token = m[1]!;
        const kind = known.has(token) ? 'placeholder' : 'quoted placeholder';
        hits.push({
          at: m.index,
          len: m[0].length,
          name: add(paramName(token), `${kind} <${token}> in the source (line ${sourceLine + i})`),
        });
      }
      for (const m of line.matchAll(STAMP))
        hits.push({ at: m.index, len: m[0].length, name: add('DATE_STAMP', 'Date stamp, YYYYMMDD', '[0-9]{8}') });
      for (const m of line.matchAll(VERSION)) {
        if (!/[xy]/.test(m[0])) continue;
        hits.push({
          at: m.index,
          len: m[0].length,
          name: add(
            'TARGET_VERSION',
            `Version, written ${m[0]} in the source`,
            'v[0-9]+\\.[0-9]+\\.[0-9]+(\\+k3s[0-9]+)?',
          ),
        });
      }
      hits.sort((a, b) => a.at - b.at);
      for (const h of hits) {
        out += line.slice(last, h.at) + reference(line, h.at, h.name);
        last = h.at + h.len;
      }
      return out + line.slice(last);
    })
    .join('\n');
}
