import type { Target } from '../plan/plan.ts';
import type { Executor } from './types.ts';
import { createLocalExecutor, type LocalExecutorOptions } from './local.ts';

/**
 * Maps a step's target to the executor that runs it. Node targets wait for the
 * SSH executor (runner/execute/ssh/): until it is wired in here, a plan with
 * remote steps is refused before anything runs.
 */

/** Why this runner cannot reach `target`, or undefined when it can. Checked for every step before the first one runs. */
export function unsupportedTarget(target: Target): string | undefined {
  return target.kind === 'node' ? `runs on ${target.node} over SSH, and this runner has no SSH executor yet` : undefined;
}

/** The executors of one run, one per kind of target, closed together at the end. */
export interface Executors {
  get(target: Target): Executor;
  close(): Promise<void>;
}

export function createExecutors(options: LocalExecutorOptions = {}): Executors {
  const local = createLocalExecutor(options);
  return {
    get(target) {
      if (target.kind === 'local') return local;
      throw new Error(`no executor for ${target.node}: ${unsupportedTarget(target)}`);
    },
    close: () => local.close(),
  };
}
