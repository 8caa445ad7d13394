import type { AppliedObject } from '../cluster/apply.ts';
import type { ExecResult } from '../execute/types.ts';
import type { OutputTail } from '../execute/tail.ts';
import type { ExpectMatcher } from '../format/expect.ts';
import { formatTimeout } from '../format/duration.ts';
import type { StepRecord, StepStatus, TargetResult } from '../record/schema.ts';
import { worstOf } from '../record/view.ts';

/** How one attempt on a target reads (judge), and how a step's targets fold into its record (finishStep). */

/** Objects of an apply step kept in its record; a larger manifest keeps the count of the rest. */
export const APPLIED_KEPT = 200;

export interface TargetOutcome {
  result: TargetResult;
  tail: OutputTail;
  /** A local apply step's objects, from its last attempt. */
  applied?: AppliedObject[];
}

export interface Verdict {
  status: StepStatus;
  error?: string;
}

export function judge(r: ExecResult, timeoutMs: number, expect: ExpectMatcher | undefined): Verdict {
  if (r.interrupted) return { status: 'interrupted' };
  if (r.error) return { status: 'failed', error: r.error };
  if (r.timedOut)
    return { status: 'timed-out', error: `timed out after ${formatTimeout(timeoutMs)}; its processes were killed` };
  if (r.exitCode !== 0)
    return { status: 'failed', error: r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}` };
  if (expect && !expect.test(r.output))
    return { status: 'failed', error: `the output did not match expect=/${expect.source}/` };
  return { status: 'succeeded' };
}

export /**
 * Folds target results into the step record. One target: its output is the
 * step's output. Several (a node fan-out): each target keeps its own output.
 */
function finishStep(step: StepRecord, outcomes: TargetOutcome[], startedAt: Date): void {
  const results = outcomes.map((o) => o.result);
  // One severity order for the runner and the site (record/view.ts): a node that failed outranks one cut off.
  const worst = worstOf(results)!;
  if (outcomes.length === 1) {
    step.output = outcomes[0]!.tail.text();
    step.truncated = outcomes[0]!.tail.truncated;
  } else {
    for (const o of outcomes) Object.assign(o.result, { output: o.tail.text(), truncated: o.tail.truncated });
  }
  const endedAt = new Date();
  Object.assign(step, {
    status: worst.status,
    exitCode: worst.exitCode,
    attempts: Math.max(...results.map((r) => r.attempts)),
    durationMs: endedAt.getTime() - startedAt.getTime(),
    endedAt: endedAt.toISOString(),
    targets: results,
  });
  if (worst.error) step.error = outcomes.length > 1 ? `${worst.target}: ${worst.error}` : worst.error;
  const applied = outcomes.flatMap((o) => o.applied ?? []);
  if (outcomes.some((o) => o.applied)) {
    // Capped like the output tail: the failures first (they are what a reader needs), then the rest in order.
    const kept =
      applied.length <= APPLIED_KEPT
        ? applied
        : [...applied.filter((o) => o.result === 'failed'), ...applied.filter((o) => o.result !== 'failed')].slice(
            0,
            APPLIED_KEPT,
          );
    step.applied = kept;
    if (applied.length > kept.length) step.appliedOmitted = applied.length - kept.length;
  }
}
