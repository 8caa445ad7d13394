import type { Plan, StepInstance } from '../plan/plan.ts';
import { UsageError } from '../errors.ts';

/** A step reference on the command line: an instance id (`drain@k3s-worker-01`), a step id (all its instances) or a plan number. */
function matches(instance: StepInstance, ref: string): boolean {
  return ref === instance.id || ref === instance.step.id || ref === String(instance.index);
}

/** The plan indices to run for `--from STEP` (that step and everything after) or `--only STEP` (just its instances). */
export function selectInstances(plan: Plan, options: { from?: string; only?: string }): number[] {
  const all = plan.instances.map((i) => i.index);
  if (options.from && options.only) throw new UsageError('use either --from or --only, not both');
  const ref = options.from ?? options.only;
  if (!ref) return all;
  const hits = plan.instances.filter((i) => matches(i, ref));
  if (hits.length === 0) {
    const ids = [...new Set(plan.instances.map((i) => i.step.id))];
    throw new UsageError(
      `--${options.from ? 'from' : 'only'} ${ref}: no such step in ${plan.procedure.file} (steps: ${ids.join(', ') || 'none'}; an instance id like step@node or a plan number works too)`,
    );
  }
  if (options.only) return hits.map((i) => i.index);
  return all.filter((index) => index >= hits[0]!.index);
}
