import pc from 'picocolors';
import type { Inventory } from '../inventory/schema.ts';
import { describeTarget, type Plan, type StepInstance } from '../plan/plan.ts';
import { formatTimeout } from '../format/duration.ts';
import { table } from './table.ts';
import { describeSshTarget } from '../execute/ssh/resolve.ts';
import { MASK } from '../secrets/mask.ts';
import { oneLine, showInvisible } from './escape.ts';
import { stepFlagsOf } from '../format/step-flags.ts';

const SOURCE_LABEL = { set: '--set', env: 'environment', default: 'default', missing: 'MISSING' } as const;

export function stepFlags(instance: StepInstance): string[] {
  const a = instance.step.attrs;
  const flags: string[] = stepFlagsOf(a).map((f) => f.name);
  if (a.retries) flags.push(`retries=${a.retries} (every ${formatTimeout(a.retryDelayMs)})`);
  if (a.expect) flags.push(`expect=/${a.expect}/`);
  if (instance.targets.length > 1) flags.push(`parallel=${instance.parallel}`);
  if (a.cwd) flags.push(`cwd=${a.cwd}`);
  return flags;
}

/** The human-readable plan printed by `runbook show` and `runbook run --dry-run`. */
export function describePlan(plan: Plan, inventory: Inventory): string {
  const { procedure: p } = plan;
  const out: string[] = [];
  out.push(`${pc.bold(p.title)}  ${pc.dim(`(${p.id}, ${p.file})`)}`);
  const facts: string[] = [];
  if (p.runbook) {
    const risk = { low: pc.green, medium: pc.yellow, high: pc.red }[p.runbook.risk](`${p.runbook.risk} risk`);
    facts.push(risk);
    facts.push(`cluster ${p.runbook.cluster ?? inventory.cluster.name} (kube context ${inventory.cluster.context})`);
    if (p.runbook.requires.length) facts.push(`requires ${p.runbook.requires.join(', ')}`);
  } else facts.push(`${p.kind} page`);
  out.push(facts.join(' · '));

  if (plan.params.length) {
    out.push('', pc.bold('Params'));
    const specs = p.runbook?.params ?? {};
    out.push(
      table(
        ['NAME', 'VALUE', 'FROM', 'DESCRIPTION'],
        plan.params.map((param) => [
          param.name,
          param.source === 'missing' ? pc.red('(not set)') : param.secret ? MASK : oneLine(param.value),
          param.source === 'missing' ? pc.red(SOURCE_LABEL.missing) : SOURCE_LABEL[param.source],
          (specs[param.name]?.description ?? '') + (param.secret ? pc.dim(' [secret]') : ''),
        ]),
        '  ',
      ),
    );
  }

  const nodes = new Set(
    plan.instances.flatMap((i) => i.targets.filter((t) => t.kind === 'node').map((t) => (t as { node: string }).node)),
  );
  out.push(
    '',
    pc.bold(
      `Plan: ${plan.instances.length} step${plan.instances.length === 1 ? '' : 's'}${nodes.size ? ` touching ${nodes.size} node${nodes.size > 1 ? 's' : ''}` : ', all local'}`,
    ),
  );
  const width = String(plan.instances.length).length;
  for (const inst of plan.instances) {
    const a = inst.step.attrs;
    const n = String(inst.index).padStart(width);
    out.push('');
    out.push(`${pc.bold(`${n}.`)} ${pc.cyan(inst.id)}  ${a.title ?? inst.step.section ?? ''}`.trimEnd());
    const pad = ' '.repeat(width + 2);
    const targets = inst.targets.map(describeTarget).join(', ');
    const meta = [
      `on ${targets}`,
      `timeout ${formatTimeout(a.timeoutMs)}`,
      ...stepFlags(inst).map((f) => (f === 'confirm' ? pc.yellow(f) : f)),
    ];
    out.push(`${pad}${pc.dim(meta.join(' · '))}`);
    for (const t of inst.targets) if (t.kind === 'node') out.push(`${pad}${pc.dim(describeSshTarget(t))}`);
    if (inst.node) out.push(`${pad}${pc.dim(`NODE=${inst.node} NODE_ADDRESS=${inst.env.NODE_ADDRESS}`)}`);
    const code = showInvisible(inst.step.code.replace(/\n$/, ''), pc.inverse).text;
    for (const line of code.split('\n')) out.push(`${pad}${pc.dim('│')} ${line}`);
  }
  if (plan.skipped.length) {
    out.push('', pc.bold('Not in this plan'));
    const seen = new Set<string>();
    for (const s of plan.skipped) {
      if (seen.has(s.step.id)) continue;
      seen.add(s.step.id);
      out.push(`  ${pc.dim(`${s.step.id}: alternative for ${s.reason}`)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function planToJson(plan: Plan, inventory: Inventory) {
  const p = plan.procedure;
  return {
    id: p.id,
    title: p.title,
    file: p.file,
    kind: p.kind,
    risk: p.runbook?.risk ?? null,
    cluster: p.runbook?.cluster ?? inventory.cluster.name,
    context: inventory.cluster.context,
    requires: p.runbook?.requires ?? [],
    pageHash: p.hash,
    params: plan.params.map((param) => ({
      ...param,
      value: param.secret && param.source !== 'missing' ? MASK : param.value,
    })),
    instances: plan.instances.map((i) => ({
      index: i.index,
      id: i.id,
      stepId: i.step.id,
      title: i.step.attrs.title ?? null,
      line: i.step.position.start.line,
      node: i.node ?? null,
      targets: i.targets.map((t) => (t.kind === 'local' ? { kind: 'local' } : { ...t })),
      parallel: i.parallel,
      timeoutMs: i.step.attrs.timeoutMs,
      flags: stepFlags(i),
      env: i.env,
      code: i.step.code,
      hash: i.step.hash,
    })),
    skipped: plan.skipped.map((s) => ({ stepId: s.step.id, reason: s.reason })),
  };
}
