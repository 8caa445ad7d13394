import type { Procedure, Step } from '../../format/model.ts';
import { withShellTree, type SyntaxNode } from '../../shell/parser.ts';
import type { StepRule } from '../types.ts';

/** Text that may hold a `<name>` placeholder: only such steps are parsed again. */
const MAYBE = /<[A-Za-z_][\w.:-]*>/;
/** The name inside a placeholder: what a documentation placeholder looks like, not a file path. */
const NAME = /^[A-Za-z_][\w.:-]*$/;

/**
 * `<placeholder>` text left in a step (`kubectl drain <node-name> --ignore-daemonsets`): bash reads
 * it as two redirections, stdin from a file `node-name` and stdout into a file named by the next
 * word, so the line may even pass `bash -n`. Found in the parse: a `<word` redirection followed,
 * with nothing between, by a `>` redirection or a dangling `>` (the parser's error node at the end
 * of a line). Here-documents, `<(…)`, `< file`, `2>&1`, `[[ a < b ]]`, `(( a < b ))` and text in
 * quotes are other nodes and never match; `sort <in>out` written without spaces would, and is
 * clearer as `sort < in > out` anyway. Scripts nested in strings (`ssh host '…'`) are not read.
 */
export const placeholderRule: StepRule = (step, { procedure, at }) => {
  if (step.kind !== 'shell' || !MAYBE.test(step.code)) return [];
  return placeholders(step.code).map((p) =>
    at(
      p.line,
      'placeholder',
      `step "${step.id}" has the placeholder <${p.name}>, which bash reads as redirections ` +
        `(stdin from a file "${p.name}", stdout into the word after it): ${suggestion(p.name, step, procedure)}`,
    ),
  );
};

interface Placeholder {
  name: string;
  line: number;
}

export function placeholders(code: string): Placeholder[] {
  return withShellTree(code, (root) => {
    const nodes = root.descendantsOfType(['file_redirect', 'ERROR']);
    const startsOutput = new Set<number>();
    for (const n of nodes) if (n.text.startsWith('>')) startsOutput.add(n.startIndex);
    const out: Placeholder[] = [];
    for (const n of nodes) {
      const name = inputName(n);
      if (name !== undefined && startsOutput.has(n.endIndex)) out.push({ name, line: n.startPosition.row });
    }
    return out;
  });
}

/** `<word` with no fd and a plain word: the name, else undefined. */
function inputName(n: SyntaxNode): string | undefined {
  if (n.type !== 'file_redirect' || !/^<[^&>]/.test(n.text)) return undefined;
  const dest = n.childrenForFieldName('destination').filter((d): d is SyntaxNode => d !== null);
  if (dest.length !== 1 || dest[0]!.type !== 'word' || dest[0]!.startIndex !== n.startIndex + 1) return undefined;
  return NAME.test(dest[0]!.text) ? dest[0]!.text : undefined;
}

function suggestion(name: string, step: Step, procedure: Procedure): string {
  // Inside <ForEach> the node at hand is $NODE.
  if (step.group !== undefined && /^(node|host|hostname)([-_.]?name)?$/i.test(name)) {
    return 'use "$NODE", the node the ForEach is at';
  }
  const param = name
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .toUpperCase();
  const declared = procedure.runbook?.params[param] !== undefined;
  return declared
    ? `use "$${param}", which runbook.params declares`
    : `use a param, e.g. "$${param}", declared in runbook.params (with a description and a pattern)`;
}
