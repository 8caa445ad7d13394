import type { Code } from 'mdast';
import { describeControl, findControls, findUnicodeSpace } from './control-chars.ts';
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

const ESCAPE_HINT =
  "remove it, or write it as an escape the command understands (e.g. $'\\e' or printf '\\033' in bash)";
const CRLF =
  'the step has Windows line endings (CRLF): bash would get a carriage return (\\x0d) at the end of each line; ' +
  'save the page with LF line endings';

/**
 * The source a step fence spans: its opening line from the fence through its closing line
 * and that line's ending. Markdown drops the CR of a CRLF line ending (and of the fence
 * line and last line entirely) before the code reaches mdast, so only the source shows it.
 */
export function fenceSpan(node: Code, source: string): { from: number; to: number } | undefined {
  const start = node.position?.start.offset;
  const end = node.position?.end;
  if (start === undefined || end?.offset === undefined) return undefined;
  // An end at column 1 is already past the last line's ending.
  if (end.column === 1) return { from: start, to: end.offset };
  const ending = /[ \t]*\r?/y;
  ending.lastIndex = end.offset;
  return { from: start, to: end.offset + ending.exec(source)![0].length };
}

/**
 * Control characters anywhere in a step fence's source (its fence line, code and closing
 * fence) are errors at their exact line and column. Checked on the source, not on mdast's
 * value, which has lost CRs; container prefixes (`> `, list indentation) hold none.
 */
export function checkControls(node: Code, source: string, report: Report): void {
  const range = fenceSpan(node, source);
  if (!range) return;
  // A leading byte order mark is the file's encoding mark, not text; it cannot be in a fence anyway.
  const found = findControls(source, Infinity, Math.max(range.from, 1), range.to);
  if (found.length === 0) return;
  const fenceLine = node.position!.start.line;
  const lineStart = Math.max(source.lastIndexOf('\n', range.from - 1), source.lastIndexOf('\r', range.from - 1)) + 1;
  let crlfSeen = false;
  let reported = 0;
  for (const { index, char } of found) {
    if (reported === MAX_CONTROLS) break;
    const crlf = char === '\r' && source[index + 1] === '\n';
    // One CRLF error says it all; other characters are reported each.
    if (crlf && crlfSeen) continue;
    crlfSeen ||= crlf;
    reported++;
    const before = source.slice(lineStart, index).split(LINE_BREAK);
    const line = fenceLine + before.length - 1;
    const column = before[before.length - 1]!.length + 1;
    const where = line === fenceLine ? 'the fence line' : 'the step';
    const message = crlf
      ? CRLF
      : `${where} contains ${describeControl(char)}: a terminal would not show what runs; ${ESCAPE_HINT}`;
    report(line, column, 'control-character', message);
  }
}

/**
 * A fence whose info string says `step=` but that was not read as a step would silently
 * not run (and the steps around it would): that is an error at the fence. The info string
 * is read up to the line feed, since a lone CR ends the line for Markdown but not for an editor.
 * The usual cause is a Unicode space after the language, which Markdown reads as part of it.
 */
export function checkStepNotRead(node: Code, source: string, report: Report): void {
  const start = node.position?.start;
  if (start?.offset === undefined) return;
  const lineEnd = source.indexOf('\n', start.offset);
  const fence = /^[ \t]*(?:`{3,}|~{3,})/.exec(source.slice(start.offset, start.offset + 200))?.[0];
  if (!fence) return;
  const info = source.slice(start.offset + fence.length, lineEnd === -1 ? source.length : lineEnd);
  // A CR can split the word itself (`s\rtep=`): look for step= with CRs taken out.
  if (!info.replaceAll('\r', '').includes('step=')) return;
  const at = info.indexOf('step=');
  const infoColumn = start.column + fence.length;
  const notRead = 'this fence says step= but is not read as a step, so it would not run';
  const cr = info.indexOf('\r');
  const space = findUnicodeSpace(info.slice(0, at));
  if (cr !== -1) {
    const message =
      `${notRead}: a carriage return (\\x0d) before it ends the fence line for Markdown; ` +
      'remove it and save the page with LF line endings';
    report(start.line, infoColumn + cr, 'control-character', message);
  } else if (space) {
    const message =
      `${notRead}: the language and the attributes are separated by ${space.description}, which Markdown ` +
      'does not read as a space; use an ASCII space';
    report(start.line, infoColumn + space.index, 'invalid-attribute', message);
  } else if (/^[ \t]*\S*step=/.test(info)) {
    const message = `${notRead}: step= is read as the language; write the language first, e.g. \`\`\`bash step=<id>`;
    report(start.line, start.column, 'invalid-attribute', message);
  } else {
    const message = `${notRead}: no attribute named step is read from it; write step=<id> as an attribute of its own`;
    report(start.line, infoColumn + at, 'invalid-attribute', message);
  }
}
