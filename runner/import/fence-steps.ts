import type { Code, Heading } from 'mdast';
import { toString as textOf } from 'mdast-util-to-string';
import { findDestructive } from '../check/rules/destructive.ts';
import { interactiveRule } from '../check/rules/interactive.ts';
import { sleepRule } from '../check/rules/sleep.ts';
import { checkWritesRule } from '../check/rules/readonly.ts';
import type { StepContext } from '../check/types.ts';
import { sudoBecomeRule } from '../check/rules/sudo-become.ts';
import { defaultAttributes } from '../format/attributes.ts';
import type { Diagnostic, Procedure, Step } from '../format/model.ts';
import type { Inventory } from '../inventory/schema.ts';
import { classifyFence, OUTPUT_BEFORE, PROSE_SECTION, SHELL, stepId, stripPrompts } from './classify.ts';
import { type Decide, type DraftStep, literal, quote } from './draft.ts';
import { expectFromOutput } from './expected.ts';
import { RUNME_DISPLAY, readRunmeCell, type RunmeCell, unknownRunme } from './runme.ts';
import { extractParams } from './params.ts';
import { splitBySsh } from './ssh.ts';

import type { Context } from './page.ts';

/** One fence of the source, turned into steps, an output block or an illustration; and the steps' last checks. */

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

function stripRunmeMeta(line: string): string {
  return line.replace(/\s*\{[^{}]*\}\s*$/, '');
}

/** One fence of the source: an output block, an illustration or steps. */
export function fenceItem(fence: Code, lines: string[], i: number, end: number, headings: Heading[], ctx: Context) {
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

export function finalizeSteps(ctx: Context) {
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
