import { selectNodes } from '../../inventory/select.ts';
import type { Diagnostic } from '../../format/model.ts';
import type { PageRule, StepRule } from '../types.ts';

/** `on=` must name a node or role the inventory has. */
export const targetRule: StepRule = (step, { inventory, at }) => {
  const on = step.attrs.on;
  if (on === 'local' || on === '$NODE') return [];
  const sel = selectNodes(inventory, on);
  return 'error' in sel
    ? [at(-1, on.startsWith('role:') ? 'unknown-role' : 'unknown-node', `step "${step.id}" on=${on}: ${sel.error}`)]
    : [];
};

/** `<ForEach nodes=…>` must select at least one node; the runbook's cluster must be the inventory's. */
export const pageTargetsRule: PageRule = (procedure, inventory) => {
  const out: Diagnostic[] = [];
  for (const g of procedure.groups) {
    const sel = selectNodes(inventory, g.nodes);
    if ('error' in sel) {
      out.push({
        file: procedure.file,
        ...g.position.start,
        severity: 'error',
        rule: g.nodes.startsWith('role:') ? 'unknown-role' : 'unknown-node',
        message: `<ForEach nodes="${g.nodes}">: ${sel.error}`,
      });
    }
  }
  const cluster = procedure.runbook?.cluster;
  if (cluster && cluster !== inventory.cluster.name) {
    out.push({
      file: procedure.file,
      line: procedure.runbook?.lines.cluster ?? 1,
      column: 1,
      severity: 'error',
      rule: 'unknown-cluster',
      message: `runbook.cluster is "${cluster}" but the inventory describes cluster "${inventory.cluster.name}": fix the name or pass --inventory for that cluster`,
    });
  }
  if (procedure.kind === 'runbook' && procedure.steps.length === 0 && procedure.runbook) {
    out.push({
      file: procedure.file,
      line: procedure.runbook.lines.block,
      column: 1,
      severity: 'warning',
      rule: 'no-steps',
      message: 'this runbook has no steps: mark its commands with step=<id>, or drop the runbook block',
    });
  }
  return out;
};
