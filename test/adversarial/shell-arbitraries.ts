/**
 * fast-check arbitraries for shell spellings: a command line given as the argv it must produce,
 * spelled in any of the ways bash reads as that argv (quoting, escapes, paths, a glob for the path,
 * brace expansion of the first words), wrapped in 0–3 wrappers (sudo, env, timeout, xargs, bash -c,
 * ssh, kubectl exec, source <(echo …), bash < <(echo …), trap --, env -S'…', an alias, …) and set in
 * a context (lists, pipelines, groups, loops, $(…), functions, comments, continuation lines).
 *
 * Words are handled as texts valid at one shell level: `spell(value)` gives a text bash reads as
 * `value`, so wrapping in `bash -c` or `ssh` quotes the inner text once more.
 */
import fc from 'fast-check';

const SAFE = /^[A-Za-z0-9_./=:,+@%^-]+$/;

/** Spellings bash reads as exactly `value` (outside quotes, one word). */
export function spellings(value: string, isCommandName = false): string[] {
  if (value === '') return ["''", '""'];
  const out: string[] = [];
  if (SAFE.test(value)) out.push(value);
  if (!value.includes("'")) out.push(`'${value}'`);
  out.push(`"${value.replace(/["$`\\]/g, '\\$&')}"`);
  out.push(value.replace(/[^A-Za-z0-9_./=:,+@%^-]/g, (c) => (c === '\n' ? `$'\\n'` : `\\${c}`)));
  if (value.length > 1) {
    const k = Math.max(1, Math.floor(value.length / 2));
    const a = value.slice(0, k);
    const b = value.slice(k);
    if (!a.includes("'")) out.push(`'${a}'"${b.replace(/["$`\\]/g, '\\$&')}"`);
    // r\m: a backslash before a plain letter is just that letter.
    if (isCommandName && /^[a-z]/i.test(b)) out.push(`${a.replace(/[^A-Za-z0-9_./-]/g, '\\$&')}\\${b}`);
  }
  return out;
}

export const spell = (value: string, isCommandName = false) => fc.constantFrom(...spellings(value, isCommandName));

/** A glob bash may resolve to the path: `/usr/bin/r[m]`, `/bin/r?` (its last letter as a class or `?`). */
export function globbed(path: string): string[] {
  const last = path.at(-1)!;
  if (!/[a-z0-9]/i.test(last)) return [];
  const head = path.slice(0, -1).replace(/[^A-Za-z0-9_./-]/g, '\\$&');
  return [`${head}[${last}]`, `${head}?`];
}

/** A command name as it may be invoked: plain, quoted, escaped, by a path, or by a glob naming that path. */
export function commandWord(name: string): fc.Arbitrary<string> {
  const paths = name.endsWith('.sh')
    ? [name, `/usr/local/bin/${name}`, `./${name}`]
    : [name, `/usr/bin/${name}`, `/bin/${name}`, `/usr/local/bin/${name}`];
  const globs = paths.flatMap(globbed);
  return fc.oneof(
    { arbitrary: fc.constantFrom(...paths).chain((p) => spell(p, true)), weight: 4 },
    ...(globs.length ? [{ arbitrary: fc.constantFrom(...globs), weight: 1 }] : []),
  );
}

/** A command line in the making: texts valid at the current shell level. */
export interface Line {
  words: string[];
  /** Text the command reads on stdin, attached once wrapping is done. */
  stdin?: { form: 'heredoc' | 'herestring' | 'echo'; text: string };
  /** The words already read stdin (`bash < <(echo …)`): xargs may not wrap them. */
  readsStdin?: boolean;
  /** Lines that must come before the command (an alias definition). */
  before?: string;
}

/** The argv (values) of a command, spelled word by word, sometimes brace-joined (`{rm,-rf,x}`). */
export function argvLine(argv: string[], stdin?: Line['stdin']): fc.Arbitrary<Line> {
  const [name, ...rest] = argv;
  return fc
    .tuple(commandWord(name!), ...rest.map((w) => spell(w)))
    .chain((words) => braced(words))
    .map((words) => ({ words, ...(stdin ? { stdin } : {}) }));
}

/** A word bash can hold inside `{…,…}` as one item: no comma, brace or blank even when quoted. */
const BRACEABLE = /^[^,{}\s]+$/;

/** Sometimes the command word and the next k words as one brace expression, which bash expands back to them. */
function braced(words: string[]): fc.Arbitrary<string[]> {
  let n = 0;
  while (n < words.length && BRACEABLE.test(words[n]!) && !words[n]!.includes("''")) n++;
  if (n === 0) return fc.constant(words);
  return fc.oneof(
    { arbitrary: fc.constant(words), weight: 3 },
    fc.integer({ min: 1, max: n }).map((k) => {
      // One item alone needs an empty second one (`{rm,}`): an empty item expands to no word.
      const group = k === 1 ? `{${words[0]},}` : `{${words.slice(0, k).join(',')}}`;
      return [group, ...words.slice(k)];
    }),
  );
}

const joinLine = (l: Line) => l.words.join(' ');

type Wrapper = (l: Line) => fc.Arbitrary<Line>;

/** Wrappers that take the command as words after their own. */
const PREFIX: Record<string, fc.Arbitrary<string[]>> = {
  sudo: fc.constantFrom(
    ['sudo'],
    ['sudo', '-u', 'root'],
    ['sudo', '-E'],
    ['sudo', '-n', '--'],
    ['sudo', '--user=root', '-H'],
    ['sudo', 'A=1'],
  ),
  env: fc.constantFrom(['env'], ['env', 'A=1'], ['env', '-i', 'PATH=/usr/bin:/bin'], ['env', '-u', 'HOME', 'B=2']),
  command: fc.constant(['command']),
  nohup: fc.constant(['nohup']),
  nice: fc.constantFrom(['nice'], ['nice', '-n', '10'], ['nice', '--adjustment=5']),
  ionice: fc.constantFrom(['ionice', '-c', '3'], ['ionice', '-c2', '-n7']),
  timeout: fc.constantFrom(
    ['timeout', '5m'],
    ['timeout', '-s', 'KILL', '30'],
    ['timeout', '--kill-after=5', '1h'],
    ['timeout', '-k5', '10s'],
  ),
  stdbuf: fc.constantFrom(['stdbuf', '-oL'], ['stdbuf', '-o', '0', '-e', '0']),
  time: fc.constantFrom(['time'], ['time', '-p']),
  setsid: fc.constant(['setsid']),
  exec: fc.constant(['exec']),
};

function prefixWrapper(name: string): Wrapper {
  return (l) =>
    PREFIX[name]!.chain((pre) => fc.tuple(...pre.map((w, i) => (i === 0 ? commandWord(w) : spell(w))))).map((pre) => ({
      ...l,
      words: [...pre, ...l.words],
    }));
}

/** `bash -c '…'` and friends: the command becomes one word of script text. */
const shellC: Wrapper = (l) =>
  fc
    .tuple(
      fc.constantFrom(
        ['bash', '-c'],
        ['sh', '-c'],
        ['bash', '-ec'],
        ['bash', '-euo', 'pipefail', '-c'],
        ['dash', '-c'],
      ),
      spell(scriptOf(l)),
    )
    .map(([pre, script]) => ({ words: [...pre, script] }));

/** `ssh [opts] host …`: the remote command as one word, or as words the remote shell re-reads. */
const ssh: Wrapper = (l) =>
  fc
    .tuple(
      fc.constantFrom(
        ['ssh'],
        ['ssh', '-p', '22'],
        ['ssh', '-o', 'BatchMode=yes'],
        ['ssh', '-tt', '-i', 'key'],
        ['ssh', '-J', 'jump'],
      ),
      fc.constantFrom('k3s-master', 'root@k3s-worker-01', 'node-2'),
      fc.boolean(),
    )
    .chain(([pre, host, oneWord]) => {
      if (oneWord) return spell(scriptOf(l)).map((w) => ({ words: [...pre, host, w] }));
      // Split words: the local shell removes one level of quoting, the remote shell the next; stdin stays local.
      return fc.tuple(...l.words.map((w) => spell(w))).map((words) => ({ ...l, words: [...pre, host, ...words] }));
    });

/** `kubectl exec … -- cmd`: the command runs in a pod and is matched there. */
const kubectlExec: Wrapper = (l) =>
  fc
    .constantFrom(
      ['kubectl', 'exec', 'pg-0', '--'],
      ['kubectl', '-n', 'db', 'exec', '-it', 'deploy/pg', '--'],
      ['kubectl', 'exec', '--namespace=db', '-c', 'main', 'pod/x', '--'],
    )
    .map((pre) => ({ ...l, words: [...pre, ...l.words] }));

/** Shell code handed over as one text: to a shell or source through `<(echo …)`, stdin, trap, env -S, alias. */
const scriptText: Wrapper = (l) =>
  spell(scriptOf(l)).chain((s) =>
    fc.constantFrom<Line>(
      { words: ['source', `<(echo ${s})`] },
      { words: ['.', `<(echo ${s})`] },
      { words: ['bash', `<(echo ${s})`] },
      { words: ['bash', `<(printf '%s\\n' ${s})`] },
      { words: ['bash', '<', `<(echo ${s})`], readsStdin: true },
      { words: ['sh', '-s', '<', `<(echo ${s})`], readsStdin: true },
      { words: ['bash', '/dev/stdin', '<<<', s], readsStdin: true },
      { words: ['trap', '--', s, 'EXIT'] },
      { words: ['trap', s, 'EXIT'] },
      { words: ['env', `-S${s}`] },
      { words: ['flock', '/tmp/lock', '-c', s] },
      { words: ['flock', `-c${s}`, '/tmp/lock'] },
    ),
  );

/** `alias name='…'` on a line before, then `name rest…`: bash expands the alias as the command word. */
export const aliased: Wrapper = (l) =>
  fc.tuple(fc.nat(Math.max(0, l.words.length - 1)), fc.constantFrom('rb', 'cleanup_all', 'k')).chain(([k, name]) =>
    spell(l.words.slice(0, k + 1).join(' ')).map((body) => ({
      ...l,
      words: [name, ...l.words.slice(k + 1)],
      before: `${l.before ? `${l.before}\n` : ''}shopt -s expand_aliases\nalias ${name}=${body}`,
    })),
  );

/** xargs runs its command with words from stdin appended: the argv we know still runs. */
const xargs: Wrapper = (l) =>
  fc
    .constantFrom(['xargs'], ['xargs', '-0'], ['xargs', '-n', '1'], ['xargs', '-r', '-P', '4'])
    .map((pre) => ({ words: [...pre, ...l.words] }));

/** A script text for a line, with its stdin inline (so it can travel inside bash -c or ssh). */
export function scriptOf(l: Line): string {
  const before = l.before ? `${l.before}\n` : '';
  return before + commandOf(l);
}

function commandOf(l: Line): string {
  const cmd = joinLine(l);
  if (!l.stdin) return cmd;
  if (l.stdin.form === 'heredoc') return `${cmd} <<'SQL'\n${l.stdin.text}\nSQL`;
  if (l.stdin.form === 'herestring') return `${cmd} <<< ${spellings(l.stdin.text)[1] ?? spellings(l.stdin.text)[0]}`;
  return `echo ${spellings(l.stdin.text)[1] ?? spellings(l.stdin.text)[0]} | ${cmd}`;
}

const WRAPPERS: Record<string, Wrapper> = {
  ...Object.fromEntries(Object.keys(PREFIX).map((k) => [k, prefixWrapper(k)])),
  shellC,
  ssh,
  kubectlExec,
  xargs,
  scriptText,
};

/**
 * The line inside 0–3 wrappers (xargs only where stdin is not the command's input), and sometimes an
 * alias as the outermost indirection.
 */
export function wrapped(line: fc.Arbitrary<Line>, maxDepth = 3): fc.Arbitrary<{ line: Line; wrappers: string[] }> {
  return fc
    .tuple(line, fc.array(fc.constantFrom(...Object.keys(WRAPPERS)), { maxLength: maxDepth }), fc.nat(5))
    .chain(([l, names, aliasRoll]) => {
      let acc: fc.Arbitrary<Line> = fc.constant(l);
      const used: string[] = [];
      for (const n of names) {
        used.push(n);
        acc = acc.chain((x) => {
          if (n === 'xargs' && (x.stdin || x.readsStdin)) return fc.constant(x);
          return WRAPPERS[n]!(x);
        });
      }
      if (aliasRoll === 0) {
        used.push('alias');
        acc = acc.chain(aliased);
      }
      return acc.map((x) => ({ line: x, wrappers: used }));
    });
}

/** Splits a one-line command across continuation lines between words, sometimes. */
function continued(l: Line): fc.Arbitrary<string> {
  if (l.words.length < 3 || l.before) return fc.constant(scriptOf(l));
  return fc.nat(l.words.length - 2).map((k) => {
    const cut = { ...l, words: [...l.words.slice(0, k + 1), `\\\n   ${l.words[k + 1]}`, ...l.words.slice(k + 2)] };
    return scriptOf(cut);
  });
}

const ONE_LINE_CONTEXTS = [
  (c: string) => c,
  (c: string) => `true && ${c}`,
  (c: string) => `${c} || true`,
  (c: string) => `false || ${c}`,
  (c: string) => `${c} | cat`,
  (c: string) => `( ${c} )`,
  (c: string) => `{ ${c}; }`,
  (c: string) => `x="$(${c})"`,
  (c: string) => `${c} # why: a note`,
  (c: string) => `! ${c}`,
  (c: string) => `for i in 1 2; do ${c}; done`,
  (c: string) => `case "$1" in *) ${c} ;; esac`,
  (c: string) => `if true; then ${c}; fi`,
];
const MULTI_LINE_CONTEXTS = [
  (c: string) => c,
  (c: string) => `if [ -n "\${X:-}" ]; then\n  echo first\nelse\n${c}\nfi`,
  (c: string) => `cleanup() {\n${c}\n}`,
  (c: string) => `(\n${c}\n)`,
  (c: string) => `while false; do\n${c}\ndone`,
];
const LEADING = ['# comment line', 'set -x', 'echo "starting"', 'kubectl get nodes -o wide', 'export A=1', ''];

export interface Script {
  code: string;
  /** 0-based lines the command spans in `code`. */
  start: number;
  end: number;
  wrappers: string[];
}

/** A full step text holding the command somewhere, with where it sits. */
export function inScript(line: fc.Arbitrary<Line>, maxDepth = 3): fc.Arbitrary<Script> {
  return wrapped(line, maxDepth).chain(({ line: l, wrappers }) => {
    const heredoc = scriptOf(l).includes('\n');
    const body = heredoc ? fc.constant(scriptOf(l)) : fc.oneof(fc.constant(scriptOf(l)), continued(l));
    const contexts = heredoc || l.stdin ? MULTI_LINE_CONTEXTS : ONE_LINE_CONTEXTS;
    return fc
      .tuple(body, fc.constantFrom(...contexts), fc.array(fc.constantFrom(...LEADING), { maxLength: 3 }))
      .map(([c, ctx, leading]) => {
        const text = ctx(c);
        const before = leading.length ? `${leading.join('\n')}\n` : '';
        const code = `${before}${text}\n`;
        const at = code.indexOf(c);
        const start = code.slice(0, at).split('\n').length - 1;
        return { code, start, end: start + c.split('\n').length - 1, wrappers };
      });
  });
}
