import { parseOptions } from '../../shell/options.ts';
import { withShellTree, type SyntaxNode } from '../../shell/parser.ts';
import { syntaxOf } from '../../shell/syntax.ts';
import { innerCommands } from '../../shell/wrappers.ts';
import { commandName, readWord, type Word } from '../../shell/words.ts';
import type { StepRule } from '../types.ts';

/**
 * `systemctl status` whose exit status fails the step: it exits 3 for an inactive or failed
 * unit and 4 for an unknown one (systemctl(1), "Exit status"), and a step runs under
 * `set -euo pipefail`, so a status shown "for information" ends the step. Judged on the parse:
 * not flagged left of `||` or `&&`, in an `if`/`while` condition, after `!`, or in a `$(…)` that
 * is not a plain assignment's value; in a pipeline it counts (pipefail). In a script passed to
 * ssh or `bash -c`, which has no `set -e`, only the script's last command decides its status.
 */
export const statusExitRule: StepRule = (step, { at }) => {
  if (step.kind !== 'shell' || !step.code.includes('systemctl') || !step.code.includes('status')) return [];
  return [...new Set(failingStatus(step.code, 0, true, 0))].map((line) =>
    at(
      line,
      'status-under-set-e',
      `step "${step.id}" runs systemctl status, which exits 3 when the unit is not active and so fails the step ` +
        '(set -e): ask systemctl is-active <unit> (or is-failed) for a verdict, ' +
        'or add || true where it only shows the state',
      'warning',
    ),
  );
};

const MAX_DEPTH = 4;

/** Lines of `systemctl status` commands whose status becomes the script's (strict: under set -e, anywhere). */
function failingStatus(code: string, lineOffset: number, strict: boolean, depth: number): number[] {
  const scripts: Array<{ text: string; line: number }> = [];
  const lines = withShellTree(code, (root) => {
    const out: number[] = [];
    for (const cmd of root.descendantsOfType('command')) {
      const name = cmd.childForFieldName('name');
      if (!name || !matters(cmd, strict)) continue;
      const argv: Word[] = [name, ...cmd.childrenForFieldName('argument').filter((a) => a !== null)].map((n) =>
        readWord(n!, lineOffset),
      );
      const found = runsStatus(argv, depth, scripts);
      if (found !== undefined) out.push(found);
    }
    return out;
  });
  for (const s of scripts) lines.push(...failingStatus(s.text, s.line, false, depth + 1));
  return lines;
}

/** The line of systemctl status if argv runs it (itself or through sudo, timeout, …); nested scripts are collected. */
function runsStatus(argv: Word[], depth: number, scripts: Array<{ text: string; line: number }>): number | undefined {
  if (commandName(argv[0]) === 'systemctl') {
    const verb = parseOptions(argv.slice(1), syntaxOf('systemctl')).operands[0]?.value;
    return verb === 'status' ? argv[0]!.line : undefined;
  }
  if (depth >= MAX_DEPTH) return undefined;
  for (const inner of innerCommands(argv, undefined)) {
    if (inner.script) scripts.push(inner.script);
    const line = inner.argv ? runsStatus(inner.argv, depth + 1, scripts) : undefined;
    if (line !== undefined) return line;
  }
  return undefined;
}

/** Whether a command's exit status can end the script: walk up to the root and look for what absorbs it. */
function matters(cmd: SyntaxNode, strict: boolean): boolean {
  let child: SyntaxNode = cmd;
  for (let p = cmd.parent; p; child = p, p = p.parent) {
    switch (p.type) {
      case 'program':
        return strict || lastStatement(p)?.id === child.id;
      case 'list': {
        const op = p.children.find((c) => c !== null && !c.isNamed && (c.type === '&&' || c.type === '||'));
        if (op && child.endIndex <= op.startIndex) return false;
        break;
      }
      case 'pipeline':
        if (!strict && lastStatement(p)?.id !== child.id) return false;
        break;
      case 'negated_command':
      case 'process_substitution':
        return false;
      case 'if_statement':
      case 'elif_clause':
      case 'while_statement':
        if (inCondition(p, child)) return false;
        break;
      case 'command_substitution': {
        const assignment = assignedBy(p);
        if (!assignment) return false;
        child = assignment;
        p = assignment;
        break;
      }
      default:
        break;
    }
  }
  return strict;
}

function lastStatement(n: SyntaxNode): SyntaxNode | undefined {
  const named = n.namedChildren.filter((c): c is SyntaxNode => c !== null && c.type !== 'comment');
  return named.at(-1);
}

function inCondition(statement: SyntaxNode, child: SyntaxNode): boolean {
  for (let i = 0; i < statement.childCount; i++) {
    if (statement.child(i)?.id === child.id) return statement.fieldNameForChild(i) === 'condition';
  }
  return false;
}

/** The bare assignment `x=$(…)` a substitution is the value of (its status is the statement's), else undefined. */
function assignedBy(substitution: SyntaxNode): SyntaxNode | undefined {
  let n = substitution.parent;
  while (n && (n.type === 'string' || n.type === 'concatenation')) n = n.parent;
  if (n?.type !== 'variable_assignment') return undefined;
  const holder = n.parent?.type;
  // `local x=$(…)`/`export x=$(…)` report their own status; `X=$(…) cmd` reports cmd's.
  return holder === 'declaration_command' || holder === 'command' ? undefined : n;
}
