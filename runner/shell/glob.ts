/**
 * Command words that are glob patterns: `/usr/bin/r[m]`, `/bin/r?` run whatever file the pattern
 * matches, so a pattern that could name a command counts as that command. Hand-written (a few
 * lines) rather than picomatch, which is not a dependency of this project and models path globs
 * with options bash does not have.
 */

const GLOB = /[*?[]/;

export function isGlob(name: string): boolean {
  return GLOB.test(name);
}

/** A bash pattern (`*`, `?`, `[…]`, `[!…]`) as an anchored regular expression; a bad class is literal. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '\\' && i + 1 < pattern.length) out += escapeChar(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else out += escapeChar(c);
  }
  return new RegExp(`^${out}$`, 's');
}

function escapeChar(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Where a command word may start: line start, after an operator, a bracket, `$(`, a backquote, `!` or a keyword. */
const KEYWORDS = String.raw`(?:(?:if|then|else|elif|do|while|until|time)[ \t]+)*`;
const COMMAND_WORD = new RegExp(String.raw`(^|[;&|(){}\x60\n]|\$\()([ \t!]*${KEYWORDS})([^\s;&|()<>'"{}]+)`, 'g');
const ARRAY_ASSIGNMENT = /^[A-Za-z_]\w*\[[^\]]*\]\+?=/;

/**
 * The text with the brackets of glob command words escaped (`r[m]` → `r\[m]`): tree-sitter-bash reads
 * `name[x]` at a command's start as an array assignment cut short, and `[r]m` as a `[` test, and
 * recovers with the command lost. The escaped word reads as the same value, which matchesPattern
 * then reads as a glob. Array assignments (`a[1]=x`), `[` and `[[` are left as they are.
 */
export function escapeCommandGlobs(text: string): string {
  if (!text.includes('[')) return text;
  return text.replace(COMMAND_WORD, (whole, start: string, lead: string, word: string) => {
    if (!word.includes('[') || word === '[' || word === '[[' || ARRAY_ASSIGNMENT.test(word)) return whole;
    return start + lead + word.replace(/(^|[^\\])\[/g, '$1\\[');
  });
}
