import type { StepInstance, Target } from '../plan/plan.ts';

/**
 * The contract between the run loop and the places a step can run
 * (the local shell, a node over SSH). One request is one attempt on one target;
 * retries, expect-matching, masking and recording belong to the run loop.
 */
export interface ExecRequest {
  instance: StepInstance;
  target: Target;
  /** Bash text to run under `set -euo pipefail`; apply steps on nodes arrive wrapped (applyScript); local ones go to the API (execute/apply.ts). */
  script: string;
  /** Params and per-instance variables (NODE, NODE_ADDRESS), exported for the script. Never put on a command line. */
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Aborting means Ctrl-C: the executor sends SIGINT, then SIGTERM and SIGKILL after a grace period. */
  signal: AbortSignal;
  /** Output as it arrives (stdout and stderr interleaved), unmasked: the caller masks before printing. */
  onOutput: (chunk: string) => void;
}

export interface ExecResult {
  exitCode: number | null;
  /** The signal that ended the process, if any. */
  signal: string | null;
  timedOut: boolean;
  interrupted: boolean;
  /** Tail of the combined output, capped by the executor (unmasked). */
  output: string;
  /** A failure to start or reach the target (not a non-zero exit), said plainly: "k3s-master (192.168.2.20:22): connection refused". */
  error?: string;
}

export interface Executor {
  exec(request: ExecRequest): Promise<ExecResult>;
  /** Releases connections, sockets and temp dirs; safe to call twice. */
  close(): Promise<void>;
}

/** Output kept per step in records and results. */
export const OUTPUT_TAIL_BYTES = 64 * 1024;

/**
 * Wraps a yaml manifest so it is applied with kubectl, reading it from a quoted heredoc (no expansion):
 * how an apply step runs on a node (that node's kubectl and credentials). Local apply steps use the API.
 */
export function applyScript(manifest: string): string {
  let tag = 'RUNBOOK_MANIFEST';
  while (manifest.includes(tag)) tag += '_';
  return `kubectl apply -f - <<'${tag}'\n${manifest}\n${tag}\n`;
}

/** The longest delay a Node timer holds (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
