import { selectNodes, sshTarget } from '../../inventory/select.ts';
import { analyseShell } from '../../shell/analyse.ts';
import { parseOptions } from '../../shell/options.ts';
import { syntaxOf } from '../../shell/syntax.ts';
import type { StepRule } from '../types.ts';

/**
 * `sudo` in a step on nodes whose ssh has `become: true` (the node's or the inventory's
 * defaults): the runner already starts the step as root with `sudo -n bash -s`
 * (execute/ssh/config.ts), so the sudo is redundant and misleads the reader about who runs what.
 * A warning only when every node the step runs on becomes root (with a mix, sudo is needed on
 * some), and never for `sudo -u`/`-g` to another user, which is a real switch (`sudo -u postgres`).
 * Only sudo the step's own shell runs counts: one on the far side of ssh or kubectl exec runs elsewhere.
 */
export const sudoBecomeRule: StepRule = (step, { procedure, inventory, at }) => {
  if (step.kind !== 'shell' || step.attrs.on === 'local' || !step.code.includes('sudo')) return [];
  const selector = step.attrs.on === '$NODE' ? procedure.groups[step.group ?? -1]?.nodes : step.attrs.on;
  if (selector === undefined) return [];
  const sel = selectNodes(inventory, selector);
  if ('error' in sel || !sel.nodes.length || !sel.nodes.every((n) => sshTarget(inventory, n).become)) return [];
  const names = sel.nodes.map((n) => n.name);
  const where = names.length === 1 ? names[0]! : `${selector} (${names.join(', ')})`;
  const seen = new Set<number>();
  const out = [];
  for (const inv of analyseShell(step.code).invocations) {
    if (inv.name !== 'sudo' || inv.remote || seen.has(inv.line)) continue;
    const p = parseOptions(inv.argv.slice(1), syntaxOf('sudo'));
    const user = p.valueOf('-u', '--user')?.value;
    if ((user !== undefined && user !== 'root' && user !== '#0') || p.has('-g', '--group')) continue;
    seen.add(inv.line);
    out.push(
      at(
        inv.line,
        'sudo-with-become',
        `step "${step.id}" runs sudo on ${where}, whose ssh has become: true in the inventory: the step already runs ` +
          'as root (sudo -n bash -s), so drop the sudo',
        'warning',
      ),
    );
  }
  return out;
};
