import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { RUN_ID_VAR, STEP_MARK_VAR, WATCHDOG_NAME } from './process-group.ts';

/**
 * No step outlives its run, even when the runner is killed with -9 and can do
 * nothing about it. One small bash per run watches the runner: it holds the other
 * end of a pipe whose only writer is the runner, so it reads EOF the moment the
 * runner is gone, however it died. Then it ends every process group the runner
 * said was running and every process carrying the run's mark (SIGTERM, SIGKILL
 * after the grace). It lives in its own session, so neither a Ctrl-C on the
 * terminal nor a hang-up reaches it, and it ignores INT, TERM and HUP.
 *
 * One per run rather than one per step: a step pays two short writes on the pipe,
 * not a process. Bash rather than node: it starts in milliseconds and is what
 * the steps run in anyway.
 */

const SCRIPT = `
trap '' INT TERM HUP
run=$1 pattern=$2 grace=$3
declare -A groups=()
dirs=()
while IFS= read -r line; do
  case $line in
    +[0-9]*) groups[\${line#+}]=1 ;;
    -[0-9]*) unset "groups[\${line#-}]" ;;
    "dir "/*/runbook-ssh-*) dirs+=("\${line#dir }") ;;
    quit) exit 0 ;;
  esac
done
# ssh control masters rename themselves (their environment is gone from /proc), but their
# command line names the run's control directory: end them, then remove the directory.
masters() {
  local d f p
  for d in "\${dirs[@]}"; do
    while IFS= read -r f; do
      p=\${f#/proc/}; p=\${p%/cmdline}
      [[ $p != "$$" ]] && kill -s "$1" "$p" 2>/dev/null
    done < <(grep -lF -- "$d/" /proc/[0-9]*/cmdline 2>/dev/null)
  done
}
trap 'masters KILL; for d in "\${dirs[@]}"; do rm -rf -- "$d"; done' EXIT
masters TERM
# EOF: the runner is gone. Both return 1 once nothing was left to signal.
marked() {
  local f p left=1
  while IFS= read -r f; do
    p=\${f#/proc/}; p=\${p%/environ}
    [[ $p != "$$" ]] && kill -s "$1" "$p" 2>/dev/null && left=0
  done < <(grep -lz -- "$pattern" /proc/[0-9]*/environ 2>/dev/null)
  return $left
}
sweep() {
  local g left=1
  for g in "\${!groups[@]}"; do kill -s "$1" -- "-$g" 2>/dev/null && left=0; done
  marked "$1" && left=0
  return $left
}
sweep TERM || exit 0
sweep CONT
sleep "$grace"
sweep KILL || exit 0
# Killed group members may stay zombies (kill still reaches them); a zombie's environment
# is empty, so from here only the marked processes count, while any of them keep forking.
for _ in 1 2 3 4 5 6 7 8 9 10; do marked KILL || exit 0; sleep 0.2; done
`;

export interface StepMarks {
  /** Added to the step's environment: RUNBOOK_RUN_ID and a step mark unique to this attempt. */
  env: Record<string, string>;
  /** The environment entry (`RUNBOOK_STEP_MARK=…`) that finds the step's processes. */
  mark: string;
}

export interface Watchdog {
  readonly runId: string;
  /** Marks for one step attempt. */
  stepMarks(): StepMarks;
  /** Marks for helpers that outlive a step (ssh control masters): swept only when the runner dies. */
  helperMarks(): Record<string, string>;
  /** The runner started (or ended) a process group that must not outlive it. */
  track(pgid: number): void;
  untrack(pgid: number): void;
  /** The run's private ssh directory: if the runner dies, its masters are ended and it is removed. */
  ownDir(path: string): void;
  /** The run ended in order: the watchdog exits without sweeping. */
  close(): void;
}

export interface WatchdogOptions {
  /** The run the steps belong to; a throwaway id when an executor runs on its own (tests, benchmarks). */
  runId?: string;
  graceMs?: number;
  bash?: string;
}

export function createWatchdog(options: WatchdogOptions = {}): Watchdog {
  const runId = options.runId ?? `adhoc-${randomBytes(4).toString('hex')}`;
  const token = randomBytes(6).toString('hex');
  const graceS = ((options.graceMs ?? 2000) / 1000).toFixed(3);
  let child: ChildProcess | undefined;
  let closed = false;
  let seq = 0;

  const send = (line: string) => {
    if (closed) return;
    child ??= start(options.bash ?? 'bash', runId, `^${STEP_MARK_VAR}=${token}\\.`, graceS);
    if (child.stdin?.writable) child.stdin.write(`${line}\n`);
  };

  return {
    runId,
    stepMarks() {
      const value = `${token}.${++seq}`;
      return { env: { [RUN_ID_VAR]: runId, [STEP_MARK_VAR]: value }, mark: `${STEP_MARK_VAR}=${value}` };
    },
    helperMarks: () => ({ [RUN_ID_VAR]: runId, [STEP_MARK_VAR]: `${token}.helpers` }),
    track: (pgid) => send(`+${pgid}`),
    ownDir: (path) => send(`dir ${path}`),
    untrack: (pgid) => send(`-${pgid}`),
    close() {
      if (child && !closed) child.stdin?.end('quit\n');
      closed = true;
    },
  };
}

function start(bash: string, runId: string, pattern: string, graceS: string): ChildProcess {
  const child = spawn(bash, ['-c', SCRIPT, WATCHDOG_NAME, runId, pattern, graceS], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // It must not keep the runner alive, and a watchdog that died must not crash it.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  return child;
}
