/**
 * Commands that run another command: what runs inside `sudo -u x env A=1 timeout 5 nohup rm -rf d`,
 * `xargs rm`, `find … -exec rm {} +`, `bash -c '…'`, `ssh host 'cmd'`, `kubectl exec pod -- cmd`.
 * Each wrapper yields either the inner argv or a script text to parse again.
 *
 * Decisions:
 * - `ssh host words…`: the remote command is the words joined by spaces, as sshd hands them to the
 *   remote shell; with no words, the remote shell reads stdin (a here-document is then the script).
 * - `kubectl exec/debug/run … -- cmd` and `k3s kubectl …`: the inner command runs in the cluster
 *   (a container, a node), so it is matched like any other: deleting a database in a pod is as
 *   destructive as on the operator's machine. kubectl exec itself only reads.
 * - A command word known only at run time (`"$SUDO" rm -rf d`) may be a wrapper or empty: the
 *   words after it are also matched as a command.
 * - `command -v`, `sudo -l`, `ionice -p` and the like run nothing.
 * - A shell or `source`/`.` given a script file runs that file: `<(echo …)` holds the text echo prints,
 *   `/dev/stdin` holds the command's stdin (`bash /dev/stdin <<< '…'`), and a path runs that script,
 *   so `source ./k3s-killall.sh` counts as running k3s-killall.sh.
 * - `alias x='rm -rf'`: the body is shell code, read like `bash -c` (analyse.ts also reads later uses of x).
 */
import type { Stdin } from './commands.ts';
import { globToRegExp, isGlob } from './glob.ts';
import { parseOptions, type ParsedArgs } from './options.ts';
import { syntaxOf } from './syntax.ts';
import { commandName, type Word } from './words.ts';

export interface Inner {
  /** The inner command line, or a script to parse (bash -c, ssh, eval, …). */
  argv?: Word[];
  script?: { text: string; line: number };
  /** How it was reached, for messages: `sudo`, `ssh k3s-master`, `kubectl exec`. */
  via: string;
  /** Runs on another host or in the cluster rather than on this machine. */
  remote?: boolean;
  stdin?: Stdin;
}

/** Placeholder for a word known only at run time inside a joined command line: parses as an expansion. */
const UNKNOWN = '"${__runbook_unknown_word}"';

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
/** Files that are the reading process's stdin. */
const STDIN_FILES = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);
const SHELLS = new Set(['bash', 'sh', 'dash', 'zsh', 'ksh']);
const SIMPLE = new Set([
  'sudo',
  'doas',
  'env',
  'nice',
  'nohup',
  'setsid',
  'exec',
  'command',
  'builtin',
  'time',
  'stdbuf',
  'unbuffer',
  'chroot',
  'flock',
  'chrt',
  'taskset',
  'timeout',
  'ionice',
  'xargs',
]);

/** Every command innerCommands looks into, for a glob command word (`/usr/bin/sud?`) to be read as. */
const WRAPPER_NAMES = [
  ...SIMPLE,
  ...SHELLS,
  'eval',
  'watch',
  'trap',
  'source',
  'alias',
  'ssh',
  'kubectl',
  'k3s',
  'find',
  'coproc',
];

function wrapperName(name: string | undefined): string | undefined {
  if (name === undefined || !isGlob(name)) return name;
  const glob = globToRegExp(name);
  return WRAPPER_NAMES.find((w) => glob.test(w)) ?? name;
}

export function innerCommands(argv: Word[], stdin: Stdin | undefined): Inner[] {
  const name = wrapperName(commandName(argv[0]));
  const args = argv.slice(1);
  if (name === undefined) {
    return argv.length > 1 && argv[0]?.value === undefined ? [{ argv: args, via: argv[0]!.text, stdin }] : [];
  }
  // tree-sitter reads `! { a; }` as a command named `{`, and `coproc cmd` as a command named coproc.
  if (name === '{' || name === '!' || name === 'coproc') return [{ argv: args, via: name, stdin }];
  if (SIMPLE.has(name)) return simpleWrapper(name, args, stdin);
  if (SHELLS.has(name)) return shell(name, args, stdin);
  switch (name) {
    case 'eval':
    case 'watch':
      return joined(name, name === 'watch' ? parseOptions(args, syntaxOf('watch')).rest : args, stdin);
    case 'trap': {
      // `trap -- 'cmd' SIG`: `--` ends the options; -p and -l print and set nothing.
      const first = args[0]?.value === '--' ? args[1] : args[0];
      if (!first || first.value === '-' || (first !== args[1] && first.value?.startsWith('-'))) return [];
      return first.value === undefined ? [] : [{ script: { text: first.value, line: first.line }, via: 'trap' }];
    }
    case 'source':
    case '.': {
      const file = args[0]?.value === '--' ? args[1] : args[0];
      return file ? scriptFile(name, file, args.slice(args.indexOf(file) + 1), stdin) : [];
    }
    case 'alias':
      return args.flatMap((w) => {
        const eq = w.value?.indexOf('=') ?? -1;
        return eq > 0 ? [{ script: { text: w.value!.slice(eq + 1), line: w.line }, via: 'alias' }] : [];
      });
    case 'ssh':
      return ssh(args, stdin);
    case 'kubectl':
      return kubectlInner(args, stdin);
    case 'k3s': {
      const parsed = parseOptions(args, syntaxOf('k3s'));
      const i = args.indexOf(parsed.operands[0]!);
      return parsed.operands[0]?.value === 'kubectl' ? [{ argv: args.slice(i), via: 'k3s', stdin }] : [];
    }
    case 'find':
      return findExec(args);
    default:
      return [];
  }
}

function simpleWrapper(name: string, args: Word[], stdin: Stdin | undefined): Inner[] {
  const parsed = parseOptions(args, syntaxOf(name));
  if (runsNothing(name, parsed)) return [];
  const out: Inner[] = [];
  const scriptOption = name === 'env' ? ['-S', '--split-string'] : name === 'flock' ? ['-c', '--command'] : [];
  const script = parsed.valueOf(...scriptOption);
  if (script?.value !== undefined) out.push({ script: { text: script.value, line: script.line }, via: name, stdin });
  let rest = parsed.rest;
  if (name === 'sudo' || name === 'env' || name === 'doas') {
    const skip = rest.findIndex((w) => !(w.value !== undefined && ASSIGNMENT.test(w.value)));
    rest = skip < 0 ? [] : rest.slice(skip);
  }
  // xargs appends words read from stdin: the command and its fixed words are what we know.
  if (rest.length) out.push({ argv: rest, via: name, ...(name === 'xargs' ? {} : { stdin }) });
  return out;
}

function runsNothing(name: string, parsed: ParsedArgs): boolean {
  switch (name) {
    case 'command':
      return parsed.has('-v', '-V');
    case 'sudo':
      // Editing, listing or validating credentials runs no command.
      return !parsed.rest.length || parsed.has('-e', '--edit', '-l', '--list', '-v', '--validate', '-K');
    case 'ionice':
      return parsed.has('-p', '--pid', '-P', '--pgid', '-u', '--uid');
    default:
      return false;
  }
}

function shell(name: string, args: Word[], stdin: Stdin | undefined): Inner[] {
  const parsed = parseOptions(args, { ...syntaxOf(name), operandsBeforeRest: 1 });
  const first = parsed.operands[0];
  if (parsed.has('-c')) {
    if (first?.value === undefined) return [];
    return [{ script: { text: first.value, line: first.line }, via: `${name} -c`, stdin }];
  }
  if (first && !parsed.has('-s')) return scriptFile(name, first, parsed.rest, stdin);
  return stdin ? [{ script: { text: stdin.text, line: stdin.line }, via: `${name} (stdin)` }] : [];
}

/** A shell or `source` running a script file: text we can read (`<(echo …)`, stdin), or the script by its path. */
function scriptFile(via: string, file: Word, args: Word[], stdin: Stdin | undefined): Inner[] {
  if (file.file) return [{ script: file.file, via: `${via} <(…)`, stdin }];
  if (file.value !== undefined && STDIN_FILES.has(file.value)) {
    return stdin ? [{ script: { text: stdin.text, line: stdin.line }, via: `${via} (stdin)` }] : [];
  }
  return [{ argv: [file, ...args], via, stdin }];
}

function joined(via: string, words: Word[], stdin: Stdin | undefined): Inner[] {
  if (!words.length) return [];
  const text = words.map((w) => w.value ?? UNKNOWN).join(' ');
  return [{ script: { text, line: words[0]!.line }, via, stdin }];
}

function ssh(args: Word[], stdin: Stdin | undefined): Inner[] {
  const parsed = parseOptions(args, syntaxOf('ssh'));
  const host = parsed.operands[0];
  if (!host) return [];
  const via = `ssh ${host.value ?? host.text}`;
  if (parsed.rest.length) return joined(via, parsed.rest, stdin).map((i) => ({ ...i, remote: true }));
  if (!stdin || parsed.has('-N', '-O', '-W', '-s')) return [];
  return [{ script: { text: stdin.text, line: stdin.line }, via, remote: true }];
}

/** `kubectl exec|debug|run … -- cmd`: the command after `--` (or, in exec's old form, after the pod). */
function kubectlInner(args: Word[], stdin: Stdin | undefined): Inner[] {
  if (!args.some((w) => w.value === 'exec' || w.value === 'debug' || w.value === 'run')) return [];
  const parsed = parseOptions(args, syntaxOf('kubectl'));
  const verb = parsed.operands[0]?.value;
  if (verb !== 'exec' && verb !== 'debug' && verb !== 'run') return [];
  const dash = args.findIndex((w) => w.value === '--');
  const inner = dash >= 0 ? args.slice(dash + 1) : verb === 'exec' ? parsed.operands.slice(2) : [];
  return inner.length ? [{ argv: inner, via: `kubectl ${verb}`, remote: true, stdin }] : [];
}

/** find's -exec/-execdir/-ok/-okdir run a command per match, up to `;` or `+`. */
function findExec(args: Word[]): Inner[] {
  const out: Inner[] = [];
  for (let i = 0; i < args.length; i++) {
    const v = args[i]!.value;
    if (v !== '-exec' && v !== '-execdir' && v !== '-ok' && v !== '-okdir') continue;
    const end = args.findIndex((w, j) => j > i && (w.value === ';' || w.value === '+'));
    const inner = args.slice(i + 1, end < 0 ? undefined : end);
    if (inner.length) out.push({ argv: inner, via: `find ${v}` });
    if (end < 0) break;
    i = end;
  }
  return out;
}
