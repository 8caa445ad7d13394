import type { Heading } from 'mdast';
import { toString as textOf } from 'mdast-util-to-string';
import { paramName } from './params.ts';

/**
 * "Option A / Option B" sections are alternatives: the reader follows one. On the page they become
 * <Tabs param="…"> with a <TabItem> per option, and an enum param whose value picks the tab whose
 * steps run, so a run never does both.
 */

const OPTION = /^(option|method|alternative|variant|approach)\s+([a-z0-9])\b\s*[:.)\-–—]?\s*(.*)$/i;

export interface OptionGroup {
  param: string;
  /** 0-based source line of each option's heading, and its tab label. */
  options: Array<{ line: number; label: string; heading: string }>;
  /** 0-based source line where the last option ends (exclusive). */
  end: number;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');

/** Runs of sibling headings "Option A …", "Option B …" (same word, same depth), two or more. */
export function findOptionGroups(headings: Heading[], lineCount: number): OptionGroup[] {
  const groups: OptionGroup[] = [];
  for (let i = 0; i < headings.length; i++) {
    const h = headings[i]!;
    const m = OPTION.exec(textOf(h));
    if (!m) continue;
    const run = [h];
    let j = i + 1;
    for (; j < headings.length; j++) {
      const k = headings[j]!;
      if (k.depth > h.depth) continue;
      const mk = OPTION.exec(textOf(k));
      if (k.depth < h.depth || !mk || mk[1]!.toLowerCase() !== m[1]!.toLowerCase()) break;
      run.push(k);
    }
    if (run.length < 2) continue;
    const after = headings.slice(j).find((k) => k.depth <= h.depth);
    const labels = run.map((k) => {
      const [, , letter, rest] = OPTION.exec(textOf(k))!;
      return slug(rest!) || letter!.toLowerCase();
    });
    // Labels are enum values: when two options slug alike, their letters tell them apart.
    const unique = new Set(labels).size === labels.length;
    groups.push({
      param: paramName(m[1]!),
      options: run.map((k, n) => ({
        line: k.position!.start.line - 1,
        label: unique ? labels[n]! : OPTION.exec(textOf(k))![2]!.toLowerCase(),
        heading: textOf(k),
      })),
      end: after ? after.position!.start.line - 1 : lineCount,
    });
    i = headings.indexOf(run.at(-1)!);
  }
  return groups;
}
