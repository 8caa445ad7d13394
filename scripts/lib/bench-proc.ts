// Whole-process timing for the benchmarks: wall time and CPU time (user + system of the child and
// everything it waited for), programs alternated round by round so that a load change on a shared
// machine hits every program alike, medians and ratios computed from the same rounds.
import { readFileSync } from 'node:fs';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Sample {
  wall: number;
  cpu: number;
}

/** CPU time (ms) of this process's waited-for children so far (cutime + cstime of /proc/self/stat, 100 ticks/s). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** Runs a command to its end; throws with its stderr when it exits other than `okCodes`. */
export function timeProcess(
  cmd: string,
  args: string[],
  options: SpawnSyncOptions & { okCodes?: number[] } = {},
): Sample {
  const { okCodes = [0], ...spawn } = options;
  const cpu0 = childrenCpuMs();
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...spawn });
  const wall = performance.now() - t;
  if (r.error || !okCodes.includes(r.status ?? -1))
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.status}): ${r.stderr}`);
  return { wall, cpu: childrenCpuMs() - cpu0 };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Each program once per round, `rounds` rounds (after one untimed warm-up round), then the medians of each. */
export function alternate<K extends string>(rounds: number, programs: Record<K, () => Sample>): Record<K, Sample> {
  const names = Object.keys(programs) as K[];
  for (const n of names) programs[n]();
  const samples = Object.fromEntries(names.map((n) => [n, [] as Sample[]])) as unknown as Record<K, Sample[]>;
  for (let i = 0; i < rounds; i++) {
    // Rotated start, so no program always runs right after the same other one.
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]!;
      samples[n].push(programs[n]());
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, { wall: median(samples[n].map((s) => s.wall)), cpu: median(samples[n].map((s) => s.cpu)) }]),
  ) as Record<K, Sample>;
}

export const ms = (x: number) => `${x.toFixed(1)} ms`;
export const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '-');
