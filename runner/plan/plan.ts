import type { Procedure, Step } from '../format/model.ts';
import type { Inventory, InventoryNode } from '../inventory/schema.ts';
import { selectNodes, sshTarget } from '../inventory/select.ts';
import { resolveParams, type ParamProblem, type ResolvedParam } from './params.ts';

export type Target =
  | { kind: 'local' }
  | { kind: 'node'; node: string; host: string; user?: string; port: number; become: boolean };

/** One executable unit of a plan: a step, for one ForEach iteration, on one or more targets. */
export interface StepInstance {
  /** 1-based position in the plan. */
  index: number;
  /** `<step>` or, inside a ForEach, `<step>@<node>`. */
  id: string;
  step: Step;
  /** Several targets when `on=role:…` fans out; they run at most `parallel` at a time. */
  targets: Target[];
  parallel: number;
  /** Set inside a ForEach: the iteration's node. */
  node?: string;
  /** Extra environment for this instance (NODE, NODE_ADDRESS inside a ForEach). */
  env: Record<string, string>;
}

export interface Plan {
  procedure: Procedure;
  params: ResolvedParam[];
  instances: StepInstance[];
  /** Steps left out because their tab was not chosen. */
  skipped: Array<{ step: Step; reason: string }>;
}

export interface PlanProblem {
  line: number;
  column: number;
  message: string;
}

export interface PlanOptions {
  sets?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** Build the plan even when params are missing or invalid (for `show`); problems are still returned. */
  lenient?: boolean;
}

/**
 * Expands a procedure against an inventory: params resolved, tabs chosen,
 * `on=role:` fanned out and `<ForEach>` groups unrolled node by node.
 */
export function planProcedure(
  procedure: Procedure,
  inventory: Inventory,
  options: PlanOptions = {},
): { plan?: Plan; problems: Array<PlanProblem | ParamProblem> } {
  const { params, problems } = resolveParams(
    procedure.runbook?.params ?? {},
    options.sets ?? {},
    options.env ?? process.env,
    options.lenient,
  );
  const planProblems: Array<PlanProblem | ParamProblem> = [...problems];
  const values = Object.fromEntries(params.map((p) => [p.name, p.value]));
  const instances: StepInstance[] = [];
  const skipped: Plan['skipped'] = [];
  const done = new Set<number>();

  const targetsFor = (step: Step, node?: InventoryNode): Target[] | undefined => {
    const on = step.attrs.on;
    if (on === 'local') return [{ kind: 'local' }];
    if (on === '$NODE') return node ? [nodeTarget(inventory, node)] : undefined;
    const sel = selectNodes(inventory, on);
    if ('error' in sel) {
      planProblems.push({
        line: step.position.start.line,
        column: step.position.start.column,
        message: `step "${step.id}" on=${on}: ${sel.error}`,
      });
      return undefined;
    }
    return sel.nodes.map((n) => nodeTarget(inventory, n));
  };

  const include = (step: Step) => {
    if (!step.tab) return true;
    if (values[step.tab.param] === step.tab.value) return true;
    skipped.push({ step, reason: `${step.tab.param}=${values[step.tab.param] ?? '(unset)'}, not ${step.tab.value}` });
    return false;
  };

  const push = (step: Step, node?: InventoryNode) => {
    const targets = targetsFor(step, node);
    if (!targets) return;
    instances.push({
      index: instances.length + 1,
      id: node ? `${step.id}@${node.name}` : step.id,
      step,
      targets,
      parallel: Math.max(1, step.attrs.parallel),
      ...(node ? { node: node.name } : {}),
      env: node ? { NODE: node.name, NODE_ADDRESS: node.address } : {},
    });
  };

  for (const step of procedure.steps) {
    if (step.group === undefined) {
      if (include(step)) push(step);
      continue;
    }
    if (done.has(step.group)) continue;
    done.add(step.group);
    const group = procedure.groups[step.group]!;
    const sel = selectNodes(inventory, group.nodes);
    if ('error' in sel) {
      planProblems.push({
        line: group.position.start.line,
        column: group.position.start.column,
        message: `<ForEach nodes="${group.nodes}">: ${sel.error}`,
      });
      continue;
    }
    const groupSteps = procedure.steps.filter((s) => s.group === step.group && include(s));
    // Node by node: every step of the group on node 1, then node 2 (a rolling change).
    for (const node of sel.nodes) for (const s of groupSteps) push(s, node);
  }

  const plan = { procedure, params, instances, skipped };
  if (planProblems.length > 0 && !options.lenient) return { problems: planProblems };
  return { plan, problems: planProblems };
}

export function nodeTarget(inventory: Inventory, node: InventoryNode): Target {
  const ssh = sshTarget(inventory, node);
  return {
    kind: 'node',
    node: node.name,
    host: ssh.host,
    ...(ssh.user ? { user: ssh.user } : {}),
    port: ssh.port,
    become: ssh.become,
  };
}

export function describeTarget(t: Target): string {
  if (t.kind === 'local') return 'local';
  return `${t.node} (${t.user ? `${t.user}@` : ''}${t.host}${t.port !== 22 ? `:${t.port}` : ''}${t.become ? ', sudo' : ''})`;
}
