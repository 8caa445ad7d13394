import type { Code, Heading, Root } from 'mdast';
import { toString as textOf } from 'mdast-util-to-string';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { visit } from 'unist-util-visit';
import yaml from 'js-yaml';
import { findDestructive } from '../check/rules/destructive.ts';
import { interactiveRule } from '../check/rules/interactive.ts';
import { sleepRule } from '../check/rules/sleep.ts';
import { checkWritesRule } from '../check/rules/readonly.ts';
import { TOOLS } from '../check/rules/requires.ts';
import type { StepContext } from '../check/types.ts';
import { sudoBecomeRule } from '../check/rules/sudo-become.ts';
import { defaultAttributes } from '../format/attributes.ts';
import type { Diagnostic, Procedure, Step } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { analyseShell } from '../shell/analyse.ts';
import { classifyFence, OUTPUT_BEFORE, PROSE_SECTION, SHELL, stepId, stripPrompts } from './classify.ts';
import { type Decide, type DraftStep, type Item, literal, metaValue, quote, stepsOf } from './draft.ts';
import { expectFromOutput } from './expected.ts';
import { foldRepeats } from './foreach.ts';
import { RUNME_DISPLAY, readRunmeCell, type RunmeCell, sourceFrontmatter, unknownRunme } from './runme.ts';
import { findOptionGroups } from './tabs.ts';
import { carriedVariables } from './variables.ts';
import { replaceSleeps } from './waits.ts';
import { escapeProseLine, type EscapeChange } from './mdx-escape.ts';
import { extractParams, type ImportedParam } from './params.ts';
import { splitBySsh } from './ssh.ts';

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
  steps: Array<{
    id: string;
    on: string;
    line: number;
    confirm: boolean;
    check: boolean;
    expect?: string;
    cwd?: string;
  }>;
  /** The inventory cluster the page was tied to, when the notes leave no doubt. */
  cluster?: string;
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

interface Context {
  inventory: Inventory;
  params: Map<string, ImportedParam>;
  taken: Set<string>;
  result: ImportResult;
  body: Item[];
  decide: Decide;
  /** A Runme document's `cwd:` for every cell. */
  docCwd?: string;
}

const COMPONENT_IMPORTS = {
  forEach: "import ForEach from '~/components/ForEach.astro';",
  tabs: "import { Tabs, TabItem } from '@astrojs/starlight/components';",
};

export function importMarkdown(source: string, fileId: string, inventory: Inventory): ImportResult {
  const lines = source.split('\n');
  const fm = sourceFrontmatter(lines);
  // Blank frontmatter lines keep every position a source line (remark would read them as prose).
  const parsed = fm ? [...Array<string>(fm.end).fill(''), ...lines.slice(fm.end)].join('\n') : source;
  const tree = unified().use(remarkParse).parse(parsed) as Root;
  const fences: Code[] = [];
  const headings: Heading[] = [];
  visit(tree, (n) => {
    if (n.type === 'code') fences.push(n as Code);
    if (n.type === 'heading') headings.push(n as Heading);
  });
  const result: ImportResult = {
    id: fileId,
    title: fileId,
    page: '',
    fences: fences.length,
    steps: [],
    params: [],
    illustrations: 0,
    escapes: [],
    decisions: [],
  };
  const decide: Decide = (line, what, needsDecision = false) => result.decisions.push({ line, what, needsDecision });
  const ctx: Context = { inventory, params: new Map(), taken: new Set(), result, body: [], decide };
  const fmData = fm ? readSourceFrontmatter(fm.text, ctx) : {};
  const h1 = headings.find((h) => h.depth === 1);
  result.title = typeof fmData.title === 'string' ? fmData.title : h1 ? textOf(h1) : fileId;
  const { body } = ctx;
  const state = { inComment: false };
  const groups = findOptionGroups(headings, lines.length);
  const optionAt = new Map(groups.flatMap((g, gi) => g.options.map((o, n) => [o.line, { gi, n }] as const)));
  const closeAt = new Map(groups.map((g, gi) => [g.end, gi]));
  const closeTabs = (gi: number) =>
    body.push({ kind: 'mark', text: '</TabItem>', group: gi }, { kind: 'mark', text: '</Tabs>', group: gi });
  const fenceAt = new Map(fences.map((f) => [f.position!.start.line - 1, f]));
  let i = fm?.end ?? 0;
  while (i < lines.length) {
    if (closeAt.has(i)) closeTabs(closeAt.get(i)!);
    if (h1 && i === h1.position!.start.line - 1) {
      i++;
      continue;
    }
    const option = optionAt.get(i);
    if (option) {
      const g = groups[option.gi]!;
      const label = g.options[option.n]!.label;
      if (option.n === 0) body.push({ kind: 'mark', text: `<Tabs param="${g.param}">`, group: option.gi });
      else body.push({ kind: 'mark', text: '</TabItem>', group: option.gi });
      body.push({ kind: 'mark', text: `<TabItem label="${label}">`, group: option.gi });
      const shown = escapeProseLine(`**${g.options[option.n]!.heading}**`, i + 1, { inComment: false }, []);
      const alt = escapeProseLine(lines[i]!, i + 1, state, result.escapes);
      body.push({ kind: 'mark', text: shown, alt, group: option.gi });
      i++;
      continue;
    }
    const fence = fenceAt.get(i);
    if (!fence) {
      const heading = headings.find((h) => h.position!.start.line - 1 === i);
      body.push({
        kind: 'text',
        text: escapeProseLine(lines[i]!, i + 1, state, result.escapes),
        line: i + 1,
        heading: heading?.depth,
      });
      i++;
      continue;
    }
    const end = fence.position!.end.line;
    fenceItem(fence, lines, i, end, headings, ctx);
    i = end;
  }
  for (const [end, gi] of closeAt) if (end >= lines.length) closeTabs(gi);
  for (const e of result.escapes) decide(e.line, e.what);
  const tabs = resolveTabs(groups, ctx);
  // Sleeps first: a wait that names the node is then folded into a ForEach like the rest of its block.
  replaceSleeps(stepsOf(ctx.body), decide);
  for (const it of ctx.body)
    if (it.kind === 'step' && !it.step.code.trim())
      decide(it.step.line, `step ${it.step.id} held only the sleep: left out`);
  ctx.body = ctx.body.filter((it) => it.kind !== 'step' || it.step.code.trim());
  const forEach = foldRepeats(ctx.body, inventory, ctx.taken, decide);
  carriedVariables(stepsOf(ctx.body), new Set(ctx.params.keys()), decide);
  finalizeSteps(ctx);
  result.cluster = clusterOf(fences, inventory, decide);
  result.params = [...ctx.params.values()];
  const imports = [forEach ? COMPONENT_IMPORTS.forEach : '', tabs ? COMPONENT_IMPORTS.tabs : ''].filter(Boolean);
  const text = render(ctx.body).replace(/^\n+/, '');
  result.page = frontmatter(result, text) + (imports.length ? `${imports.join('\n')}\n\n` : '') + text;
  result.decisions.sort((a, b) => a.line - b.line);
  return result;
}

function readSourceFrontmatter(text: string, ctx: Context): Record<string, unknown> {
  let data: unknown;
  try {
    data = yaml.load(text);
  } catch {
    ctx.decide(1, 'the Markdown frontmatter is not YAML: left out of the page', true);
    return {};
  }
  if (!data || typeof data !== 'object') return {};
  const fm = data as Record<string, unknown>;
  const keys = Object.keys(fm).filter((k) => k !== 'title');
  if (keys.length) ctx.decide(1, `source frontmatter ${keys.join(', ')} left out (the page has its own)`);
  if (typeof fm.cwd === 'string') {
    ctx.docCwd = fm.cwd;
    ctx.decide(1, `Runme document cwd: ${fm.cwd} applies to every local step (cwd=)`);
  }
  if (typeof fm.shell === 'string' && !/(^|\/)(ba)?sh$/.test(fm.shell))
    ctx.decide(1, `the notes ran in ${fm.shell}; steps run in bash: check shell-specific syntax`, true);
  return fm;
}

function stripRunmeMeta(line: string): string {
  return line.replace(/\s*\{[^{}]*\}\s*$/, '');
}

/** One fence of the source: an output block, an illustration or steps. */
function fenceItem(fence: Code, lines: string[], i: number, end: number, headings: Heading[], ctx: Context) {
  const { body, result, decide } = ctx;
  const start = i + 1;
  const heading = [...headings].reverse().find((h) => h.position!.start.line <= start);
  const section = heading ? textOf(heading) : result.title;
  // Inside a troubleshooting/history heading until the next heading of its level or higher.
  const inProse = headings.some(
    (h) =>
      PROSE_SECTION.test(textOf(h)) &&
      h.position!.start.line <= start &&
      !headings.some(
        (k) => k.depth <= h.depth && k.position!.start.line > h.position!.start.line && k.position!.start.line <= start,
      ),
  );
  const before =
    lines
      .slice(0, i)
      .reverse()
      .find((l) => l.trim()) ?? '';
  const lang = (fence.lang ?? '').toLowerCase();
  if (OUTPUT_BEFORE.test(before) && (!lang || SHELL.has(lang) || /^(text|txt|plaintext|output)$/.test(lang))) {
    outputBlock(fence, lines, i, end, before, ctx);
    return;
  }
  const runme = readRunmeCell(fence.meta);
  if (runme) reportRunme(runme, start, decide);
  const c = classifyFence({ lang: fence.lang, code: fence.value, before, proseSection: inProse });
  const skip =
    c.kind === 'illustration'
      ? c.reason
      : runme?.excludeFromRunAll
        ? 'Runme excludeFromRunAll: the author runs it by hand only'
        : runme?.interpreter && !/(^|\/)(ba|z)?sh$/.test(runme.interpreter)
          ? `Runme interpreter ${runme.interpreter}`
          : undefined;
  if (runme?.background && c.kind === 'step') {
    decide(
      start,
      'Runme background=true: a long-running process (a watch, a port-forward); a step must end: start it with a deadline or leave it out',
      true,
    );
  }
  if (skip || runme?.background) {
    result.illustrations++;
    if (skip) decide(start, `illustration: ${skip}`);
    const open = runme ? stripRunmeMeta(lines[i]!) : lines[i]!;
    body.push({ kind: 'fence', lines: [open, ...lines.slice(i + 1, end)], line: start });
    return;
  }
  convertFence(fence, start, section, runme, ctx);
}

function reportRunme(cell: RunmeCell, line: number, decide: Decide) {
  const display = Object.keys(cell.raw).filter((k) => RUNME_DISPLAY.has(k));
  const unknown = unknownRunme(cell);
  if (display.length) decide(line, `Runme ${display.join(', ')} dropped: they only shape how Runme shows the cell`);
  if (unknown.length) decide(line, `unknown Runme annotation(s) ${unknown.join(', ')} dropped`);
}

/** An "Expected output" block: shown as text, and the step before it learns what to expect. */
function outputBlock(fence: Code, lines: string[], i: number, end: number, before: string, ctx: Context) {
  const { body, result, decide } = ctx;
  const start = i + 1;
  result.illustrations++;
  const open = lines[i]!.replace(/^(\s*(?:`{3,}|~{3,}))\s*\S*.*$/, '$1text');
  body.push({ kind: 'fence', lines: [open, ...lines.slice(i + 1, end)], line: start });
  const prev = [...body.slice(0, -1)].reverse().find((it) => it.kind !== 'text');
  const what = `illustration: output block ("${before.trim()}"), shown as text`;
  if (prev?.kind !== 'step') {
    decide(start, what);
    return;
  }
  const step = prev.step;
  if (step.expect) {
    decide(start, `${what}; step ${step.id} keeps expect=${quote(step.expect)}`);
    return;
  }
  const derived = expectFromOutput(fence.value);
  if (!derived) {
    decide(start, `${what}; no line stable enough for expect= on step ${step.id}`);
    return;
  }
  step.expect = derived.pattern;
  decide(start + 1 + derived.line, `expected output became expect=${quote(derived.pattern)} on step ${step.id}`);
}

function convertFence(fence: Code, start: number, section: string, runme: RunmeCell | undefined, ctx: Context) {
  const { inventory, params, taken, result, decide, body } = ctx;
  const stripped = stripPrompts(fence.value);
  if (stripped.dropped) decide(start, `dropped ${stripped.dropped} output line(s) after $ prompts`);
  const segments = splitBySsh(stripped.code, inventory);
  let named = false;
  for (const seg of segments) {
    const line = start + 1 + seg.line;
    if (seg.on === undefined) {
      decide(
        line,
        `ssh to ${seg.host}, which the inventory does not know: left as illustration; add the host to the inventory or rewrite the step`,
        true,
      );
      result.illustrations++;
      body.push({
        kind: 'fence',
        lines: ['```bash', `# ssh ${seg.host}: not in the inventory; needs a decision`, seg.code, '```'],
        line,
      });
      continue;
    }
    if (seg.on !== 'local') decide(line, `ssh ${seg.host} became on=${seg.on}`);
    let code = extractParams(seg.code, line, params);
    let expect: string | undefined;
    code = code
      .replace(/^\s*#\s*Expected:\s*(.+)$/gim, (_m, text: string) => {
        expect = literal(text.trim());
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
    const id = stepId(runme?.name && !named ? runme.name : section, taken);
    if (runme?.name && !named) {
      named = true;
      decide(line, `Runme name ${runme.name} became step=${id}`);
    }
    const interactive = rule(interactiveRule, fakeStep(id, code, seg.on), inventory);
    if (interactive.length) {
      for (const d of interactive) decide(line + d.line, `interactive: ${d.message}`, true);
      result.illustrations++;
      taken.delete(id);
      body.push({ kind: 'fence', lines: ['```bash', code, '```'], line });
      continue;
    }
    const step: DraftStep = { id, title: section, on: seg.on, code, line, expect };
    const cwd = runme?.cwd ?? ctx.docCwd;
    if (cwd && seg.on === 'local') {
      step.cwd = cwd;
      if (cwd.startsWith('/')) decide(line, `Runme cwd became cwd=${cwd}`);
      else
        decide(
          line,
          `Runme cwd ${cwd} is relative to the Markdown file; the runner starts from the project root: check cwd=${cwd}`,
          true,
        );
    } else if (cwd) decide(line, `Runme cwd ${cwd} not applied to the node step on=${seg.on}: it names a local folder`);
    if (runme?.interactive === true)
      decide(
        line,
        `Runme ran ${id} in a terminal (interactive=true); a step has none and reads no input: check it asks for nothing`,
        true,
      );
    body.push({ kind: 'step', step });
  }
}

/** Option groups with steps become Tabs with an enum param; the others stay headings. */
function resolveTabs(groups: ReturnType<typeof findOptionGroups>, ctx: Context): boolean {
  let used = false;
  groups.forEach((g, gi) => {
    const at = ctx.body.flatMap((it, n) => (it.kind === 'mark' && it.group === gi ? [n] : []));
    const inside = ctx.body.slice(at[0], at.at(-1)! + 1);
    const hasSteps = inside.some((it) => it.kind === 'step');
    const line = g.options[0]!.line + 1;
    if (!hasSteps) {
      for (const it of inside) if (it.kind === 'mark' && it.group === gi) Object.assign(it, { text: it.alt ?? '' });
      ctx.decide(line, `${g.options.map((o) => o.heading).join(' / ')}: alternatives without steps, left as headings`);
      return;
    }
    used = true;
    let name = g.param;
    for (let n = 2; ctx.params.has(name); n++) name = `${g.param}_${n}`;
    if (name !== g.param)
      for (const it of inside)
        if (it.kind === 'mark') it.text = it.text.replace(`param="${g.param}"`, `param="${name}"`);
    const values = g.options.map((o) => o.label);
    ctx.params.set(name, {
      name,
      description: `Which alternative to follow: ${g.options.map((o) => `${o.label} = ${o.heading}`).join('; ')}`,
      secret: false,
      enum: values,
      line,
    });
    ctx.decide(
      line,
      `${g.options.length} alternatives became <Tabs param="${name}">: set ${name} to ${values.join(' or ')}`,
    );
  });
  ctx.body = ctx.body.filter((it) => it.kind !== 'mark' || it.text !== '');
  return used;
}

function finalizeSteps(ctx: Context) {
  const { inventory, result, decide } = ctx;
  for (const it of ctx.body) {
    if (it.kind !== 'step') continue;
    const s = it.step;
    const on = s.on === '$NODE' ? (inventory.nodes[0]?.name ?? 'local') : s.on;
    const confirm = findDestructive(fakeStep(s.id, s.code, on)).length > 0;
    // A script piped into a shell is unknown text: never call it read-only.
    const pipesShell = /\|\s*(sudo\s+)?(\w+=\S+\s+)*(ba)?sh\b/.test(s.code);
    const check =
      !confirm && !pipesShell && rule(checkWritesRule, fakeStep(s.id, s.code, on, true), inventory).length === 0;
    if (confirm) decide(s.line, `step ${s.id}: destructive, added confirm`);
    for (const d of rule(sleepRule, fakeStep(s.id, s.code, on), inventory))
      decide(
        s.line + d.line,
        `${d.message.replace(/: use .*/, '')}: replace it with kubectl wait or a polling loop`,
        true,
      );
    result.steps.push({ id: s.id, on: s.on, line: s.line, confirm, check, expect: s.expect, cwd: s.cwd });
    Object.assign(s, { confirm, check });
  }
}

function render(body: Item[]): string {
  const out: string[] = [];
  let prev: Item['kind'] | undefined;
  for (const it of body) {
    // Fences that came from one source fence (local and node parts) get a line between them.
    if ((it.kind === 'step' || it.kind === 'fence') && (prev === 'step' || prev === 'fence')) out.push('');
    prev = it.kind;
    if (it.kind === 'text') out.push(it.text);
    else if (it.kind === 'fence') out.push(...it.lines);
    else if (it.kind === 'mark') {
      // Component tags need blank lines around them for MDX to read the Markdown between as Markdown.
      if (it.text.startsWith('<')) out.push('', it.text, '');
      else out.push(it.text);
    } else {
      const s = it.step;
      const meta = [
        `step=${s.id}`,
        `title=${quote(s.title)}`,
        s.on !== 'local' ? `on=${s.on}` : '',
        s.cwd ? `cwd=${metaValue(s.cwd)}` : '',
        s.timeout ? `timeout=${s.timeout}` : '',
        s.confirm ? 'confirm' : '',
        s.check ? 'check' : '',
        s.expect ? `expect=${quote(s.expect)}` : '',
      ].filter(Boolean);
      out.push(`\`\`\`bash ${meta.join(' ')}`, s.code, '```');
    }
  }
  return out.join('\n').replace(/\n{3,}/g, (m, at: number, all: string) => (inFence(all, at) ? m : '\n\n'));
}

/** Whether offset `at` of `text` lies inside a fence (blank lines there are the author's). */
function inFence(text: string, at: number): boolean {
  return (text.slice(0, at).match(/^\s*(`{3,}|~{3,})/gm) ?? []).length % 2 === 1;
}

/** The inventory's cluster, unless the notes talk to another kube context. */
function clusterOf(fences: Code[], inventory: Inventory, decide: Decide): string | undefined {
  const { name, context } = inventory.cluster;
  for (const f of fences) {
    for (const m of f.value.matchAll(/(?:--context[= ]|use-context\s+)["']?([\w.@:-]+)/g)) {
      if (m[1] === context || m[1] === name) continue;
      decide(
        f.position!.start.line,
        `the notes use kube context ${m[1]}, the inventory's cluster ${name} has context ${context}: runbook.cluster left out; set it if the page is for ${name}`,
        true,
      );
      return undefined;
    }
  }
  decide(1, `runbook.cluster: ${name}, the inventory's cluster`);
  return name;
}

function frontmatter(result: ImportResult, text: string): string {
  const requires = new Set<string>();
  if (result.steps.some((s) => s.on !== 'local')) requires.add('ssh');
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
      ...(p.enum ? { enum: p.enum } : {}),
      ...(p.secret ? { secret: true } : {}),
    };
  }
  const risk = result.steps.some((s) => s.confirm) ? 'high' : result.steps.every((s) => s.check) ? 'low' : 'medium';
  const fm = {
    title: result.title,
    description: `Imported from Markdown by runbook import; review the steps before running.`,
    runbook: {
      id: result.id,
      risk,
      ...(result.cluster ? { cluster: result.cluster } : {}),
      requires: [...requires],
      ...(result.params.length ? { params } : {}),
    },
  };
  return `---\n${yaml.dump(fm, { lineWidth: 120 })}---\n\n`;
}
