/**
 * Phase timings of `runbook check` for profiling (scripts/bench-check --profile):
 * with RUNBOOK_CHECK_TIMING=1 each phase's end is printed to stderr, in ms since
 * the process started. Costs nothing otherwise.
 */
const enabled = process.env.RUNBOOK_CHECK_TIMING === '1';
const marks: Array<[phase: string, wall: number, cpu: number]> = [];

export function mark(phase: string): void {
  if (!enabled) return;
  const { user, system } = process.cpuUsage();
  marks.push([phase, performance.now(), (user + system) / 1000]);
}

/** Wall and CPU time of each phase (CPU of this process: all its threads, not the bash children). */
export function printTimings(): void {
  if (!enabled) return;
  let [lastWall, lastCpu] = [0, 0];
  for (const [phase, wall, cpu] of marks) {
    process.stderr.write(
      `timing ${phase.padEnd(20)} ${(wall - lastWall).toFixed(1).padStart(7)} ms wall ${(cpu - lastCpu).toFixed(1).padStart(7)} ms cpu  (at ${wall.toFixed(1)} ms)\n`,
    );
    [lastWall, lastCpu] = [wall, cpu];
  }
}
