import { spawn, type SpawnOptions } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { which } from 'zx/core';
import { UsageError } from '../errors.ts';

/**
 * Where local steps run during a rehearsal: inside the lab twin's operator machine, a network and
 * mount namespace the sandbox made (scripts/sandbox-lib/twin/operator.ts), entered with nsenter.
 * Outside a rehearsal (RUNBOOK_STEP_NAMESPACE unset) local steps run on this machine.
 */

/** Names the namespace file of the lab twin's operator machine (scripts/sandbox env exports it for a rehearsal). */
export const STEP_NAMESPACE_VAR = 'RUNBOOK_STEP_NAMESPACE';

/** A network and mount namespace to run local steps in: the lab twin's operator machine. */
export interface StepNamespace {
  /** The file RUNBOOK_STEP_NAMESPACE names (<state>/twin/operator/namespace.json). */
  file: string;
  /** Host pid of the namespace's pid 1; its /proc/<pid>/ns/{net,mnt} are entered. */
  pid: number;
  nsenter: string;
}

/**
 * RUNBOOK_STEP_NAMESPACE, checked: undefined when unset. The file is the twin's
 * (scripts/sandbox-lib/twin/operator.ts) and names the pid of its namespace; that
 * pid must still be the twin's, i.e. run exactly `bash <the init.sh beside the
 * file>`, in a network namespace that is not this process's. Anything else is a
 * UsageError naming the variable: a stale or foreign pid would run the steps
 * in the wrong place, and the network rule of a rehearsal would not hold.
 */
export function stepNamespace(env: NodeJS.ProcessEnv = process.env): StepNamespace | undefined {
  const value = env[STEP_NAMESPACE_VAR];
  if (!value) return undefined;
  const file = resolve(value);
  const refuse = (
    why: string,
    todo = `start the sandbox again and eval "$(scripts/sandbox env)", or unset ${STEP_NAMESPACE_VAR} to run local steps on this machine`,
  ) => new UsageError(`${STEP_NAMESPACE_VAR}=${value}: ${why}; ${todo}`);
  if (process.platform !== 'linux')
    throw refuse(
      "local steps run in a Linux namespace (the lab twin's operator machine), and this is not Linux",
      `unset ${STEP_NAMESPACE_VAR}`,
    );
  if (process.getuid?.() !== 0) {
    throw refuse(
      "entering the lab twin's operator namespace (nsenter) needs root",
      `run the runbook as root, as the twin runs, or unset ${STEP_NAMESPACE_VAR} to run local steps on this machine`,
    );
  }
  const nsenter = which.sync('nsenter', { nothrow: true });
  if (!nsenter) throw refuse('nsenter (util-linux) is not installed', 'install util-linux');
  let ns: { pid?: unknown; init?: unknown };
  try {
    ns = JSON.parse(readFileSync(file, 'utf8')) as typeof ns;
  } catch (err) {
    throw refuse(
      `cannot read the lab twin's namespace file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const init = join(dirname(file), 'init.sh');
  const pid = Number(ns?.pid);
  if (!Number.isInteger(pid) || pid <= 1 || ns.init !== init)
    throw refuse('the file is not a lab twin namespace file (it names no pid and init.sh beside it)');
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    throw refuse(`process ${pid}, the lab twin's operator namespace, is gone`);
  }
  if (argv.length !== 2 || basename(argv[0]!) !== 'bash' || argv[1] !== init) {
    const runs = argv.join(' ');
    throw refuse(
      `process ${pid} is not the lab twin's operator namespace of ${resolve(dirname(file), '..', '..')} (it runs ${runs.length > 100 ? `${runs.slice(0, 100)}…` : runs || 'nothing'})`,
    );
  }
  let same: boolean;
  try {
    same = readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net');
  } catch (err) {
    throw refuse(`cannot read the namespaces of process ${pid} (${(err as NodeJS.ErrnoException).code})`);
  }
  if (same) throw refuse(`process ${pid} shares this machine's network namespace: it is not the twin's isolated one`);
  return { file, pid, nsenter };
}

/**
 * zx's spawn, with bash started by `nsenter --net --mount` (no --fork: nsenter
 * execs bash in place, so the pid, process group, environment marks and
 * detached session are the ones the executor and the watchdog track). The
 * working directory is set again after entering: setns resets it to the root.
 */
export function spawnInNamespace(ns: StepNamespace): typeof spawn {
  const wrapped = (command: string, args: readonly string[], options: SpawnOptions) => {
    const shell = typeof options.shell === 'string' ? options.shell : 'bash';
    const cwd = resolve(String(options.cwd ?? process.cwd()));
    return spawn(
      ns.nsenter,
      [
        `--net=/proc/${ns.pid}/ns/net`,
        `--mount=/proc/${ns.pid}/ns/mnt`,
        `--wd=${cwd}`,
        '--',
        shell,
        '-c',
        [command, ...args].join(' '),
      ],
      { ...options, cwd, shell: false },
    );
  };
  return wrapped as unknown as typeof spawn;
}
