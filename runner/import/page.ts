import type { Code, Heading, Root } from 'mdast';
import { toString as textOf } from 'mdast-util-to-string';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { visit } from 'unist-util-visit';
import yaml from 'js-yaml';
import { findDestructive } from '../check/rules/destructive.ts';
import { interactiveRule } from '../check/rules/interactive.ts';
import { checkWritesRule } from '../check/rules/readonly.ts';
import { TOOLS } from '../check/rules/requires.ts';
import type { StepContext } from '../check/types.ts';
import { sudoBecomeRule } from '../check/rules/sudo-become.ts';
import { defaultAttributes } from '../format/attributes.ts';
import type { Diagnostic, Procedure, Step } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { analyseShell } from '../shell/analyse.ts';
import { classifyFence, PROSE_SECTION, stepId, stripPrompts } from './classify.ts';
import { escapeProseLine, type EscapeChange } from './mdx-escape.ts';
import { extractParams, type ImportedParam } from './params.ts';
import { lostExports, splitBySsh } from './ssh.ts';

/** One thing the importer did or could not do, at its source line. */
export interface Decision {
  line: number;
  what: string;
  /** Left to the operator: the page needs a look before it is trusted. */
  needsDecision: boolean;
}

export interface ImportResult {
  id: string;
  title: string;
  page: string;
  fences: number;
  steps: Array<{ id: string; on: string; line: number; confirm: boolean; check: boolean; expect?: string }>;
  params: ImportedParam[];
  illustrations: number;
  escapes: EscapeChange[];
  decisions: Decision[];
}

function fakeStep(id: string, code: string, on: string, check = false): Step {
  return {
    id,
    lang: 'bash',
    kind: 'shell',
    code,
    meta: '',
    hash: '',
    attrs: { ...defaultAttributes(), on, check },
    position: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
  };
}

/** Runs one of the checker's step rules on text that is not a page yet. */
function rule(r: typeof sudoBecomeRule, step: Step, inventory: Inventory): Diagnostic[] {
  const procedure = { groups: [], runbook: undefined } as unknown as Procedure;
  const at = ((line: number, name: string, message: string, severity: Diagnostic['severity'] = 'error') => ({
    file: '',
    line,
    column: 1,
    rule: name,
    message,
    severity,
  })) as StepContext['at'];
  return r(step, { procedure, inventory, at });
}

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function importMarkdown(source: string, fileId: string, inventory: Inventory): ImportResult {
  const tree = unified().use(remarkParse).parse(source) as Root;
  const lines = source.split('\n');
  const fences: Code[] = [];
  const headings: Heading[] = [];
  visit(tree, (n) => {
    if (n.type === 'code') fences.push(n as Code);
    if (n.type === 'heading') headings.push(n as Heading);
  });
  const h1 = headings.find((h) => h.depth === 1);
  const title = h1 ? textOf(h1) : fileId;
  const result: ImportResult = {
    id: fileId,
    title,
    page: '',
    fences: fences.length,
    steps: [],
    params: [],
    illustrations: 0,
    escapes: [],
    decisions: [],
  };
  const params = new Map<string, ImportedParam>();
  const taken = new Set<string>();
  const body: string[] = [];
  const state = { inComment: false };
  const decide = (line: number, what: string, needsDecision = false) =>
    result.decisions.push({ line, what, needsDecision });
  let i = 0;
  const fenceAt = new Map(fences.map((f) => [f.position!.start.line - 1, f]));
  while (i < lines.length) {
    if (h1 && i === h1.position!.start.line - 1) {
      i++;
      continue;
    }
    const fence = fenceAt.get(i);
    if (!fence) {
      body.push(escapeProseLine(lines[i]!, i + 1, state, result.escapes));
      i++;
      continue;
    }
    const start = i + 1;
    const end = fence.position!.end.line;
    const heading = [...headings].reverse().find((h) => h.position!.start.line <= start);
    const section = heading ? textOf(heading) : title;
    // Inside a troubleshooting/history heading until the next heading of its level or higher.
    const inProse = headings.some(
      (h) =>
        PROSE_SECTION.test(textOf(h)) &&
        h.position!.start.line <= start &&
        !headings.some(
          (k) =>
            k.depth <= h.depth && k.position!.start.line > h.position!.start.line && k.position!.start.line <= start,
        ),
    );
    const before =
      lines
        .slice(0, i)
        .reverse()
        .find((l) => l.trim()) ?? '';
    const c = classifyFence({ lang: fence.lang, code: fence.value, before, proseSection: inProse });
    if (c.kind === 'illustration') {
      result.illustrations++;
      decide(start, `illustration: ${c.reason}`);
      body.push(...lines.slice(i, end));
      i = end;
      continue;
    }
    body.push(...convertFence(fence, start, section, inventory, params, taken, result, decide));
    i = end;
  }
  for (const e of result.escapes) decide(e.line, e.what);
  result.params = [...params.values()];
  result.page = frontmatter(result, body) + body.join('\n').replace(/^\n+/, '');
  result.decisions.sort((a, b) => a.line - b.line);
  return result;
}

function convertFence(
  fence: Code,
  start: number,
  section: string,
  inventory: Inventory,
  params: Map<string, ImportedParam>,
  taken: Set<string>,
  result: ImportResult,
  decide: (line: number, what: string, needs?: boolean) => void,
): string[] {
  const stripped = stripPrompts(fence.value);
  if (stripped.dropped) decide(start, `dropped ${stripped.dropped} output line(s) after $ prompts`);
  const segments = splitBySsh(stripped.code, inventory);
  for (const lost of lostExports(segments)) {
    decide(
      start + 1 + segments[lost.segment]!.line,
      `${lost.name} is exported locally but used on the node: the export does not cross ssh; declare it as a param`,
      true,
    );
  }
  const out: string[] = [];
  for (const seg of segments) {
    const line = start + 1 + seg.line;
    if (seg.on === undefined) {
      decide(
        line,
        `ssh to ${seg.host}, which the inventory does not know: left as illustration; add the host to the inventory or rewrite the step`,
        true,
      );
      result.illustrations++;
      out.push('```bash', `# ssh ${seg.host}: not in the inventory; needs a decision`, seg.code, '```', '');
      continue;
    }
    if (seg.on !== 'local') decide(line, `ssh ${seg.host} became on=${seg.on}`);
    let code = extractParams(seg.code, line, params);
    let expect: string | undefined;
    code = code
      .replace(/^\s*#\s*Expected:\s*(.+)$/gim, (_m, text: string) => {
        expect = text.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        return '';
      })
      .replace(/\n{2,}/g, '\n')
      .trim();
    if (expect) decide(line, `# Expected: comment became expect=${quote(expect)}`);
    if (seg.on !== 'local') {
      const sudo = new Set(rule(sudoBecomeRule, fakeStep('x', code, seg.on), inventory).map((d) => d.line));
      if (sudo.size) {
        code = code
          .split('\n')
          .map((l, n) => (sudo.has(n) ? l.replace(/\bsudo\s+/, '') : l))
          .join('\n');
        decide(line, `dropped sudo: ${seg.on} has become: true`);
      }
    }
    const id = stepId(section, taken);
    const interactive = rule(interactiveRule, fakeStep(id, code, seg.on), inventory);
    if (interactive.length) {
      for (const d of interactive) decide(line + d.line, `interactive: ${d.message}`, true);
      result.illustrations++;
      out.push('```bash', code, '```', '');
      continue;
    }
    const confirm = findDestructive(fakeStep(id, code, seg.on)).length > 0;
    // A script piped into a shell is unknown text: never call it read-only.
    const pipesShell = /\|\s*(sudo\s+)?(\w+=\S+\s+)*(ba)?sh\b/.test(code);
    const check =
      !confirm && !pipesShell && rule(checkWritesRule, fakeStep(id, code, seg.on, true), inventory).length === 0;
    if (confirm) decide(line, `step ${id}: destructive, added confirm`);
    if (/(^|\s)sleep\s+\d/.test(code))
      decide(line, `step ${id} sleeps to wait: replace with kubectl wait or a polling loop`, true);
    const meta = [
      `step=${id}`,
      `title=${quote(section)}`,
      seg.on !== 'local' ? `on=${seg.on}` : '',
      confirm ? 'confirm' : '',
      check ? 'check' : '',
      expect ? `expect=${quote(expect)}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    result.steps.push({ id, on: seg.on, line, confirm, check, expect });
    out.push(`\`\`\`bash ${meta}`, code, '```', '');
  }
  return out.length ? out.slice(0, -1) : out;
}

function frontmatter(result: ImportResult, body: string[]): string {
  const requires = new Set<string>();
  if (result.steps.some((s) => s.on !== 'local')) requires.add('ssh');
  const text = body.join('\n');
  for (const m of text.matchAll(/^```bash step=[^\n]*\n([\s\S]*?)^```/gm)) {
    for (const inv of analyseShell(m[1]!).invocations)
      if (!inv.remote && inv.name && TOOLS.includes(inv.name)) requires.add(inv.name);
  }
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of result.params) {
    params[p.name] = {
      description: p.description,
      required: true,
      ...(p.pattern ? { pattern: p.pattern } : {}),
      ...(p.secret ? { secret: true } : {}),
    };
  }
  const risk = result.steps.some((s) => s.confirm) ? 'high' : result.steps.every((s) => s.check) ? 'low' : 'medium';
  const fm = {
    title: result.title,
    description: `Imported from Markdown by runbook import; review the steps before running.`,
    runbook: { id: result.id, risk, requires: [...requires], ...(result.params.length ? { params } : {}) },
  };
  return `---\n${yaml.dump(fm, { lineWidth: 120 })}---\n\n`;
}
