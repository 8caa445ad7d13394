/**
 * Which fences of a plain Markdown runbook are commands to run and which are illustration.
 * The rule of thumb people follow in home-lab notes: a fence tagged as a shell holds commands,
 * unless the words before it say it is output, or its content is plainly a file or prose.
 * An untagged fence is never a step: guessing wrong there would run someone's example.
 */

export type FenceKind = 'step' | 'illustration';

export interface FenceInput {
  lang: string | null | undefined;
  code: string;
  /** The last non-blank prose line before the fence. */
  before: string;
  /** Inside a troubleshooting or history section. */
  proseSection: boolean;
}

export interface Classification {
  kind: FenceKind;
  reason: string;
}

export const SHELL = new Set(['bash', 'sh', 'shell', 'zsh', 'console', 'shell-session', 'terminal']);
export const OUTPUT_BEFORE = /\b(expected output|output|you should see|returns?|looks like|result)\b[^.]*:?\s*$/i;
/** Section headings whose fences are stories of what happened, not steps to repeat. */
export const PROSE_SECTION = /troubleshoot|history|changelog|lessons|incident|post-?mortem|notes|background/i;

export function classifyFence(f: FenceInput): Classification {
  const lang = (f.lang ?? '').toLowerCase();
  if (!lang) return { kind: 'illustration', reason: 'untagged fence' };
  if (!SHELL.has(lang)) return { kind: 'illustration', reason: `${lang} fence` };
  if (f.proseSection) return { kind: 'illustration', reason: 'in a troubleshooting/history section' };
  if (OUTPUT_BEFORE.test(f.before)) return { kind: 'illustration', reason: `output block ("${f.before.trim()}")` };
  const lines = f.code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  if (!lines.length) return { kind: 'illustration', reason: 'only comments' };
  if (looksLikeConfig(lines)) return { kind: 'illustration', reason: `config file tagged ${lang}` };
  if (looksLikeProse(lines)) return { kind: 'illustration', reason: `prose tagged ${lang}` };
  if (lang === 'console' && !lines.some((l) => /^\s*[$#]\s/.test(l)))
    return { kind: 'illustration', reason: 'console block without a $ prompt' };
  return { kind: 'step', reason: `${lang} commands` };
}

/** YAML mappings/lists or ini sections and keys with no command words. */
function looksLikeConfig(lines: string[]): boolean {
  const yaml = lines.filter((l) => /^\s*(- )?[\w.-]+:(\s|$)/.test(l) || /^\s*- \S/.test(l)).length;
  const ini = lines.filter((l) => /^\s*\[[\w .-]+\]\s*$/.test(l) || /^\s*[\w.-]+\s*=\s*\S/.test(l)).length;
  const assignments = lines.filter((l) => /^\s*(export\s+)?[A-Za-z_]\w*=/.test(l)).length;
  return (
    yaml === lines.length || (ini === lines.length && lines.some((l) => /^\s*\[/.test(l)) && assignments < lines.length)
  );
}

/** Sentences: several words, capitalised, ending in a full stop, with no shell punctuation. */
function looksLikeProse(lines: string[]): boolean {
  return lines.every((l) => /^[A-Z][a-z]+( [\w',()-]+){4,}[.!?:]$/.test(l.trim()) && !/[|$;&>`]/.test(l));
}

/** Console/prompted text: keep the commands after `$ ` and drop the output lines. */
export function stripPrompts(code: string): { code: string; dropped: number } {
  const lines = code.split('\n');
  if (!lines.some((l) => /^\s*\$ /.test(l))) return { code, dropped: 0 };
  const kept: string[] = [];
  let dropped = 0;
  let continued = false;
  for (const l of lines) {
    const prompt = /^\s*\$ (.*)$/.exec(l);
    if (prompt) kept.push(prompt[1]!);
    else if (continued || /^\s*#/.test(l)) kept.push(l);
    else if (l.trim()) dropped++;
    continued = /\\$/.test(kept.at(-1) ?? '') && (prompt !== null || continued);
  }
  return { code: kept.join('\n'), dropped };
}

/** A step id from a heading: lowercase, dashes, unique on the page. */
export function stepId(heading: string, taken: Set<string>): string {
  const base =
    heading
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'step';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  taken.add(id);
  return id;
}
