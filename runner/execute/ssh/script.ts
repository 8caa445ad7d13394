/**
 * The text sent on stdin to `bash -s` on a node. Everything secret travels
 * inside it (never on a command line, where `ps` and shell history would show it).
 *
 * Two layers:
 * - the step script: `export` lines for params, `set -euo pipefail`, the step;
 * - a wrapper around it that runs the step in its own session and process group
 *   (`setsid`) and keeps a watchdog on the ssh channel's stdin, which the runner
 *   holds open for the whole step. A line on stdin names a signal for the step's
 *   group (the runner's Ctrl-C and timeout path); EOF on stdin means the runner is
 *   gone or the connection dropped, and the group is ended (TERM, then KILL).
 *   Leftover background jobs are ended the same way when the step exits, as the
 *   local executor does, so nothing a step started outlives it. "The group" is
 *   the step's process group plus every process on the node whose environment
 *   carries the step's mark (RUNBOOK_STEP_MARK, see process-group.ts): that also
 *   reaches descendants that left the group with setsid, a double fork or nohup.
 *
 * Bash reads a script from a pipe byte by byte and runs the wrapper only once it
 * has parsed the whole `{ … }` block, so whatever follows on stdin is left for the
 * watchdog. The step itself reads its text from a here-document on fd 7 and gets
 * /dev/null as stdin, so a command in it that reads stdin cannot swallow anything.
 */

/** Seconds between TERM and KILL when the remote watchdog ends a step's group. */
export const REMOTE_KILL_GRACE_S = 2;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes a value for bash: single quotes, with embedded single quotes spliced in. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `export NAME='value'` lines; a name that is not an environment variable name is a bug upstream. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!ENV_NAME.test(name)) throw new Error(`cannot export "${name}": not an environment variable name`);
      return `export ${name}=${shellQuote(value)}\n`;
    })
    .join('');
}

/** The step as the node's bash runs it: params, strict mode, the optional cwd, the script. */
export function stepScript(script: string, env: Record<string, string>, cwd?: string): string {
  return [
    // Report this shell's pid (= its process group) to the watchdog, then drop the plumbing fds.
    `{ echo "$$" >&8; } 2>/dev/null || true; exec 8>&- 7<&-`,
    // One stream, so the output keeps its real order (ssh carries stderr separately).
    'exec 2>&1',
    exportLines(env).trimEnd(),
    'set -euo pipefail',
    cwd ? `cd -- ${shellQuote(cwd)}` : '',
    script.replace(/\n$/, ''),
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * Lines the wrapper writes on the channel's stderr (which the step cannot reach:
 * its stderr goes to stdout) so the runner can tell ssh's own exit 255 from the
 * step's, and a lost connection from a finished step.
 */
export function markers(nonce: string) {
  const started = `runbook-${nonce} started`;
  const exit = new RegExp(`^runbook-${nonce} exit (\\d+)$`);
  return {
    started,
    exitLine: (rc: string) => `runbook-${nonce} exit ${rc}`,
    /** 'started', the exit code, or undefined for an ordinary line. */
    parse(line: string): 'started' | number | undefined {
      if (line === started) return 'started';
      const m = exit.exec(line);
      return m ? Number(m[1]) : undefined;
    },
  };
}

/**
 * The whole text for stdin: the wrapper with the step script as a quoted here-document.
 * `stepMark` is the step's `RUNBOOK_STEP_MARK=…` entry (also exported through `env`).
 */
export function remoteScript(
  script: string,
  env: Record<string, string>,
  cwd: string | undefined,
  nonce: string,
  stepMark?: string,
): string {
  const body = stepScript(script, env, cwd);
  const mark = markers(nonce);
  let tag = 'RUNBOOK_STEP';
  while (body.split('\n').includes(tag)) tag += '_';
  return `{
echo '${mark.started}' >&2
exec 3<&0 0</dev/null
__runbook_mark=${shellQuote(stepMark ?? '')}
# Signals the step's group and every process carrying its mark; fails once nothing was left.
__runbook_sweep() {
  local left=1 f p
  kill -s "$1" -- "-$2" 2>/dev/null && left=0
  [ -n "$__runbook_mark" ] || return $left
  while IFS= read -r f; do
    p=\${f#/proc/}; p=\${p%/environ}
    kill -s "$1" "$p" 2>/dev/null && left=0
  done < <(grep -lzxF -- "$__runbook_mark" /proc/[0-9]*/environ 2>/dev/null)
  return $left
}
__runbook_end() {
  __runbook_sweep TERM "$1" || return 0
  sleep ${REMOTE_KILL_GRACE_S}
  __runbook_sweep KILL "$1" || true
}
__runbook_watch() {
  local pid sig
  IFS= read -r pid || exit 0
  trap '__runbook_end "$pid"; exit 0' TERM
  while IFS= read -r -u 3 sig; do __runbook_sweep "$sig" "$pid" || true; done
  __runbook_end "$pid"
}
# exec, not a redirection of the call: bash would keep copies of the channel's stdout open for it.
exec 8> >(exec >/dev/null 2>&1; __runbook_watch)
__runbook_watchdog=$!
setsid -w bash /dev/fd/7 3<&- 7<<'${tag}'
${body}
${tag}
__runbook_rc=$?
exec 8>&-
kill -s TERM "$__runbook_watchdog" 2>/dev/null
echo "${mark.exitLine('$__runbook_rc')}" >&2
exit "$__runbook_rc"
}
`;
}
