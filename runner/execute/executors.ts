import type { Target } from '../plan/plan.ts';
import type { Executor } from './types.ts';
import { createLocalExecutor } from './local.ts';
import { createWatchdog } from './watchdog.ts';
import { escalate, runLeftovers, terminateStages } from './process-group.ts';
import { createSshExecutor, sshClientMissing } from './ssh/executor.ts';

/**
 * Maps a step's target to the executor that runs it: local steps to bash here,
 * node steps to the system OpenSSH client (runner/execute/ssh/).
 */

/** Why this runner cannot reach `target`, or undefined when it can. Checked for every step before the first one runs. */
export function unsupportedTarget(target: Target): string | undefined {
  return target.kind === 'node' && sshClientMissing()
    ? `runs on ${target.node} over SSH, and no ssh client is installed here (install openssh-client)`
    : undefined;
}

/** The executors of one run, one per kind of target, closed together at the end. */
export interface Executors {
  get(target: Target): Executor;
  close(): Promise<void>;
}

export interface ExecutorsOptions {
  interruptGraceMs?: number;
  killGraceMs?: number;
  /** Marks every step process (RUNBOOK_RUN_ID), so `resume` can tell whether any is still alive. */
  runId?: string;
}

export function createExecutors(options: ExecutorsOptions = {}): Executors {
  const { runId, ...grace } = options;
  // One watchdog for the run: it ends what the steps left if the runner dies (watchdog.ts).
  const watchdog = createWatchdog({
    ...(runId ? { runId } : {}),
    ...(grace.killGraceMs ? { graceMs: grace.killGraceMs } : {}),
  });
  const local = createLocalExecutor({ ...grace, watchdog });
  // Connects (and makes its private dir) on the first node step only.
  const ssh = createSshExecutor({ ...grace, watchdog });
  return {
    get: (target) => (target.kind === 'local' ? local : ssh),
    close: async () => {
      await Promise.all([local.close(), ssh.close()]);
      await escalate(runLeftovers(watchdog.runId), terminateStages(grace.killGraceMs ?? 2000));
      watchdog.close();
    },
  };
}
