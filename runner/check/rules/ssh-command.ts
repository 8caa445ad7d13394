import { analyseShell } from '../../shell/analyse.ts';
import { parseOptions } from '../../shell/options.ts';
import { withShellTree } from '../../shell/parser.ts';
import { syntaxOf } from '../../shell/syntax.ts';
import { commandName, readWord } from '../../shell/words.ts';
import type { StepRule } from '../types.ts';

/**
 * `ssh host` with no remote command in a step: the step has no terminal, so the remote login
 * shell reads the step's stdin (/dev/null), exits at once, and the lines after it run on the
 * operator's machine, not on the host. Not flagged when something feeds ssh a script on stdin (a
 * here-document, a here-string, `< file`, or a pipeline stage before it), or when ssh runs no
 * shell by design: -N (forward only), -O (control a master), -W (stdio forward), -G/-V/-Q (print).
 */
export const sshCommandRule: StepRule = (step, { at }) => {
  if (step.kind !== 'shell' || !step.code.includes('ssh')) return [];
  const bare = analyseShell(step.code).invocations.filter((inv) => {
    if (inv.name !== 'ssh' || inv.stdin || inv.redirects.some((r) => r.op === '<' || r.op === '<&')) return false;
    const p = parseOptions(inv.argv.slice(1), syntaxOf('ssh'));
    return p.operands[0] !== undefined && !p.rest.length && !p.has('-N', '-O', '-W', '-G', '-V', '-Q');
  });
  if (!bare.length) return [];
  const fed = fedLines(step.code);
  return bare
    .filter((inv) => !fed.has(inv.line))
    .map((inv) => {
      const host = parseOptions(inv.argv.slice(1), syntaxOf('ssh')).operands[0]!;
      const name = host.value ?? host.text;
      return at(
        inv.line,
        'ssh-without-command',
        `step "${step.id}" runs ssh ${name} without a command: the remote shell exits at once and the lines after ` +
          `it run on this machine; give the step on=<node> to run it on the node, or pass the command: ` +
          `ssh ${name} '<command>'`,
      );
    });
};

/** Lines of ssh commands that a pipeline stage before them feeds (`cat script | ssh host`). */
function fedLines(code: string): Set<number> {
  return withShellTree(code, (root) => {
    const lines = new Set<number>();
    for (const pipe of root.descendantsOfType('pipeline')) {
      const stages = pipe.namedChildren.filter((c) => c !== null && c.type !== 'comment');
      for (const stage of stages.slice(1)) {
        const name = stage!.type === 'command' ? stage!.childForFieldName('name') : null;
        if (name && commandName(readWord(name)) === 'ssh') lines.add(stage!.startPosition.row);
      }
    }
    return lines;
  });
}
