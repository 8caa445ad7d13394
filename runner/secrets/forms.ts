/**
 * The forms in which a secret commonly shows up in a step's output. Every form is
 * returned without line breaks: the matcher skips line breaks inside a match, which
 * covers wrapped output (`base64` wraps at 76 columns) and a value split over lines.
 */

/** Alignment cores shorter than this would mask ordinary base64 text by chance. */
const MIN_CORE = 4;

const stripBreaks = (s: string) => s.replace(/[\r\n]/g, '');

export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  const forms = new Set<string>([secret, ...jsonForms(secret), ...urlForms(secret), ...shellForms(secret)]);
  for (const alphabet of ['base64', 'base64url'] as const) {
    const whole = bytes.toString(alphabet);
    forms.add(whole);
    forms.add(whole.replace(/=+$/, ''));
    for (const core of base64Cores(bytes, alphabet)) if (core.length >= MIN_CORE) forms.add(core);
  }
  // A key or certificate printed in part: each of its lines on its own.
  if (/[\r\n]/.test(secret)) {
    for (const line of secret.split(/\r?\n|\r/)) if (line.trim().length >= MIN_CORE) forms.add(line);
  }
  return [...new Set([...forms].map(stripBreaks))].filter((f) => f.length > 0);
}

/**
 * The characters of base64(prefix + secret + suffix) that depend on the secret's
 * bytes alone, for each of the three alignments of the secret in the byte stream
 * (`user:secret` in a basic-auth header, a secret inside a longer file). Character
 * c of an encoding covers bits [6c, 6c+6) of the stream; with the secret at byte
 * offset a, the characters from ceil(8a/6) to floor(8(a+n)/6)-1 are fixed by it.
 */
export function base64Cores(bytes: Buffer, alphabet: 'base64' | 'base64url'): string[] {
  const cores: string[] = [];
  for (const a of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(a), bytes]).toString(alphabet);
    const first = Math.ceil((8 * a) / 6);
    const last = Math.floor((8 * (a + bytes.length)) / 6) - 1;
    if (last >= first) cores.push(encoded.slice(first, last + 1));
  }
  return cores;
}

/** JSON string contents: as JSON.stringify writes them, and with non-ASCII as \u escapes (Python's json.dumps). */
function jsonForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const ascii = json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [json, ascii];
}

/** encodeURIComponent and form encoding (`+` for spaces), with upper- and lower-case hex digits. */
function urlForms(secret: string): string[] {
  let component: string;
  try {
    component = encodeURIComponent(secret);
  } catch {
    return []; // a lone surrogate cannot be URL-encoded, so it cannot leak that way either
  }
  const form = new URLSearchParams([['', secret]]).toString().slice(1);
  const lower = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
  return [component, form, lower(component), lower(form)];
}

/**
 * How bash itself re-quotes a value when it prints one: `set -x` and `${v@Q}` write
 * 'a'\''b' for a single quote inside single quotes, and `printf %q` backslash-escapes
 * every character the shell would read specially. A step under `set -x` prints its
 * expanded commands, so these are as common as the value itself.
 */
function shellForms(secret: string): string[] {
  const forms: string[] = [];
  if (secret.includes("'")) forms.push(secret.replaceAll("'", "'\\''"));
  // bash's sh_backslash_quote: these always, `~` and `#` only where a word starts.
  const escaped = secret.replace(/[ \t'"\\|&;()<>!{}*[?\]^$`]|^[~#]/g, (c) => `\\${c}`);
  if (escaped !== secret) forms.push(escaped);
  return forms;
}
