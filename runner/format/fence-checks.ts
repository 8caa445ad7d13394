import type { Code } from 'mdast';
import { describeControl, findControls } from './control-chars.ts';
import { fenceEnd, swallowedFence } from './fences.ts';
import type { Report } from './report.ts';

/** Line endings as micromark counts lines: a lone CR ends a line too. */
export const LINE_BREAK = /\r\n|\r|\n/;

/** Control characters reported per step; the fix for the first few fixes the rest. */
const MAX_CONTROLS = 5;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * A fence without its closing fence takes the text after it as code, up to the end of
 * the file or up to the next fence that can close it: for a step, prose that would run,
 * and a step fence it swallows silently does not exist. Both are errors; a fence that
 * only shows too much as code is a warning. Reported at the opening fence.
 */
export function checkClosed(node: Code, source: string, isStep: boolean, report: Report): void {
  const end = fenceEnd(node, source);
  if (!end) return;
  const swallowed = swallowedFence(node.value, end);
  if (end.closed && !swallowed) return;
  const { line = 1, column = 1 } = node.position?.start ?? {};
  const say = (message: string, severity: 'error' | 'warning' = 'error') =>
    report(line, column, 'unclosed-fence', message, severity);
  const close = `close it with ${end.fence} on a line of its own`;
  const at = swallowed && `line ${line + 1 + swallowed.line} (${clip(swallowed.text, 40)})`;
  if (end.closed) {
    // Closed, but only by the closing fence of a block it swallowed.
    const what = isStep
      ? 'everything in between is part of this step and would run as commands'
      : 'everything in between shows as code';
    const lost = swallowed!.isStep ? ', and that step does not exist' : '';
    const longer = end.fence[0]!.repeat(end.fence.length + 1);
    say(
      `this fence runs on past the fence on ${at}, so ${what}${lost}: it was probably never closed; ${close} ` +
        `(if that line is meant as text, open this block with ${longer} instead)`,
      isStep || swallowed!.isStep ? 'error' : 'warning',
    );
    return;
  }
  const where = `the end of ${end.toEndOfFile ? 'the file' : 'its list item or quote'} (line ${end.endLine})`;
  if (isStep) {
    const what = 'is part of the step and would run as commands';
    say(`this step's fence is never closed, so everything up to ${where} ${what}: ${close}`);
  } else if (swallowed?.isStep) {
    const what = 'is read as its text and that step does not exist';
    say(`this fence is never closed, so the step fence on ${at} ${what}: ${close}`);
  } else {
    say(`this fence is never closed, so everything up to ${where} shows as code: ${close}`, 'warning');
  }
}

/** Where a step's text sits in the page, to position what is found in it. */
export interface StepText {
  code: string;
  meta: string;
  fenceLine: number;
  metaColumn: number;
  /** The page's lines (split with LINE_BREAK). */
  lines: string[];
}

const ESCAPE_HINT =
  "remove it, or write it as an escape the command understands (e.g. $'\\e' or printf '\\033' in bash)";
const CRLF =
  'the step has Windows line endings (CRLF): bash would get a carriage return (\\x0d) at the end of each line; ' +
  'save the page with LF line endings';

/** Control characters in a step's code or meta are errors at their exact line and column. */
export function checkControls(step: StepText, report: Report): void {
  const inMeta = findControls(step.meta, MAX_CONTROLS);
  const inCode = findControls(step.code, MAX_CONTROLS - inMeta.length);
  if (inMeta.length === 0 && inCode.length === 0) return;
  const message = (char: string, where: string) =>
    `${where} contains ${describeControl(char)}: a terminal would not show what runs; ${ESCAPE_HINT}`;
  for (const { index, char } of inMeta) {
    report(step.fenceLine, step.metaColumn + index, 'control-character', message(char, 'the fence line'));
  }
  const codeLines = step.code.split(LINE_BREAK);
  let crlfSeen = false;
  for (const { index, char } of inCode) {
    const crlf = char === '\r' && step.code[index + 1] === '\n';
    if (crlf && crlfSeen) continue;
    crlfSeen ||= crlf;
    const before = step.code.slice(0, index).split(LINE_BREAK);
    const codeLine = before.length - 1;
    const fileLine = step.fenceLine + 1 + codeLine;
    const sourceLine = step.lines[fileLine - 1] ?? '';
    const column = sourceColumn(sourceLine, codeLines[codeLine]!, before[codeLine]!.length, char);
    report(fileLine, column, 'control-character', crlf ? CRLF : message(char, 'the step'));
  }
}

/** The 1-based column in the page of a character of a code line: the page line is the code line after a prefix. */
function sourceColumn(sourceLine: string, codeLine: string, indexInLine: number, char: string): number {
  if (sourceLine.endsWith(codeLine)) return sourceLine.length - codeLine.length + indexInLine + 1;
  return sourceLine.indexOf(char) + 1 || 1;
}
