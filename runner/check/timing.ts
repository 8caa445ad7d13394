/**
 * Phase timings of `runbook check` for profiling (scripts/bench-check --profile):
 * with RUNBOOK_CHECK_TIMING=1 each phase's end is printed to stderr, in ms since
 * the process started. Costs nothing otherwise.
 */
const enabled = process.env.RUNBOOK_CHECK_TIMING === '1';
const marks: Array<[string, number]> = [];

export function mark(phase: string): void {
  if (enabled) marks.push([phase, performance.now()]);
}

export function printTimings(): void {
  if (!enabled) return;
  let last = 0;
  for (const [phase, at] of marks) {
    process.stderr.write(`timing ${phase.padEnd(24)} ${(at - last).toFixed(1).padStart(8)} ms  (at ${at.toFixed(1)} ms)\n`);
    last = at;
  }
}
