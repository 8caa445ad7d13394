import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Step } from '../../runner/format/model.ts';
import { checkProcedure } from '../../runner/check/lint.ts';
import { DESTRUCTIVE, findDestructive } from '../../runner/check/rules/destructive.ts';
import { parseProcedure } from '../../runner/format/parse.ts';
import { analyseShell } from '../../runner/shell/analyse.ts';
import { expandBraces } from '../../runner/shell/braces.ts';
import { globToRegExp } from '../../runner/shell/glob.ts';
import { loadShellParser } from '../../runner/shell/parser.ts';
import { parseOptions } from '../../runner/shell/options.ts';
import { COMMAND_SYNTAX, syntaxOf } from '../../runner/shell/syntax.ts';
import { goInteger } from '../../runner/shell/values.ts';
import { literal } from '../../runner/shell/words.ts';
import type { CommandPattern } from '../../runner/shell/patterns.ts';
import { testInventory } from '../helpers/inventory.ts';
import { argvLine, inScript, scriptOf, spellings, wrapped, type Line } from './shell-arbitraries.ts';

/**
 * Property: destructive commands are recognised by what they do, however they are spelled.
 * For every entry of the DESTRUCTIVE table, generated spellings (option clusters and orders,
 * long options and their GNU prefixes, `--`, quoting, paths, 0–3 wrappers, bash -c, ssh,
 * kubectl exec, pipelines, lists, groups, functions, comments, continuation lines) are found,
 * at the line they are on; near misses (harmless cousins, the same words as data) are not.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

beforeAll(() => loadShellParser());

function shellStep(code: string, attrs: Partial<Step['attrs']> = {}): Step {
  return {
    id: 's',
    lang: 'bash',
    kind: 'shell',
    code,
    meta: '',
    hash: '',
    position: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
    attrs: {
      on: 'local',
      timeoutMs: 1,
      retries: 0,
      retryDelayMs: 0,
      confirm: false,
      check: false,
      continueOnError: false,
      parallel: 1,
      apply: false,
      ...attrs,
    },
  };
}

const found = (code: string) => findDestructive(shellStep(code));
const whats = (code: string) => found(code).map((f) => f.what);

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
/** Some of `items`, in any order. */
const someOf = <T>(items: T[], min = 0) => fc.shuffledSubarray(items, { minLength: min });
const node = pick('k3s-worker-01', 'agent-2');
const kubeGlobals = fc
  .shuffledSubarray(
    [
      ['-n', 'kube-system'],
      ['--namespace=db'],
      ['--context', 'homelab'],
      ['--kubeconfig=/etc/rancher/k3s/k3s.yaml'],
      ['-v', '4'],
      ['--request-timeout', '30s'],
    ],
    { maxLength: 2 },
  )
  .map((gs) => gs.flat());
const helmGlobals = fc
  .shuffledSubarray(
    [['-n', 'kube-system'], ['--kube-context', 'homelab'], ['--namespace=traefik'], ['--kubeconfig', '/x']],
    { maxLength: 2 },
  )
  .map((g) => g.flat());
/** Globals and the verb's own options interleaved with its operands, as pflag allows. */
const kubectl = (verbWords: fc.Arbitrary<string[]>, rest: fc.Arbitrary<string[]>) =>
  fc
    .tuple(kubeGlobals, verbWords, rest, fc.boolean())
    .map(([g, v, r, globalsLast]) => (globalsLast ? ['kubectl', ...v, ...r, ...g] : ['kubectl', ...g, ...v, ...r]));

/**
 * DROP/TRUNCATE as SQL lets it be written: any case, and between the keywords any run of blanks,
 * newlines or comments (`drop/**\/table`, `drop-- x⏎table`), also before the statement.
 */
function destroyingSql(moreSeparators: string[] = [], dashFirst = true) {
  return fc
    .tuple(
      pick(
        ['DROP', 'DATABASE app'],
        ['drop', 'table users;'],
        ['DROP', 'SCHEMA s CASCADE'],
        ['dRoP', 'TaBlE t'],
        ['TRUNCATE', 'events'],
        ['truncate', 'table t;'],
      ),
      // A tab only in the corner cases below: tree-sitter ends a here-string at an escaped tab.
      pick(' ', '  ', '\n', '/**/', '/* why */', '-- note\n', '\n  /*\n*/ ', ...moreSeparators),
      // An operand that starts with a dash is an option to sqlite3.
      pick('', '/* c */ ', 'SELECT 1; ', ...(dashFirst ? ['-- first\n'] : [])),
    )
    .map(([[a, b], sep, lead]) => `${lead}${a}${sep}${b}`);
}

/** rm with -r somewhere: clusters, separate flags, long names and their unambiguous prefixes, any order. */
const rmRecursive = fc
  .tuple(
    pick('r', 'R'),
    someOf(['f', 'v', 'I']),
    pick('cluster', 'separate', 'long', 'prefix'),
    pick('--rec', '--recu', '--recursiv'),
    fc.array(pick('/var/lib/rancher/k3s', '/tmp/x y', '*.log', '-weird'), { minLength: 1, maxLength: 2 }),
    fc.boolean(),
  )
  .chain(([r, others, style, prefix, paths, operandsFirst]) => {
    const flags =
      style === 'cluster'
        ? [`-${[r, ...others].join('')}`]
        : style === 'separate'
          ? [`-${r}`, ...others.map((o) => `-${o}`)]
          : [style === 'long' ? '--recursive' : prefix, ...others.map((o) => (o === 'f' ? '--force' : `-${o}`))];
    // A path that starts with a dash must follow `--`; GNU rm takes options after operands otherwise.
    const operands = paths.some((p) => p.startsWith('-')) ? ['--', ...paths] : paths;
    return fc
      .shuffledSubarray(flags, { minLength: flags.length })
      .map((opts) => (operandsFirst && operands[0] !== '--' ? [...operands, ...opts] : [...opts, ...operands]))
      .map((args) => ['rm', ...args]);
  });

/** One argv generator per table entry (by `what` and first command); a new entry without one fails the suite. */
type Spec = string[] | (NonNullable<Line['stdin']> & { argv: string[] });
const SPELLINGS: Record<string, fc.Arbitrary<Spec>> = {
  'rm -r|rm': rmRecursive,
  'find -delete|find': fc
    .tuple(
      pick('/var/log', '.', '/backups'),
      someOf([
        ['-name', '*.gz'],
        ['-type', 'f'],
        ['-mtime', '+7'],
        ['-maxdepth', '2'],
      ]),
      pick([], ['-print']),
    )
    .map(([d, preds, tail]) => ['find', d, ...preds.flat(), '-delete', ...tail]),
  'find -exec rm|find': fc
    .tuple(
      pick('/backups', '.'),
      someOf([
        ['-name', '*.tar'],
        ['-mtime', '+30'],
      ]),
      pick('-exec', '-execdir', '-ok'),
      pick(['rm'], ['rm', '-f'], ['/bin/rm', '-v'], ['shred', '-u']),
      pick(';', '+'),
    )
    .map(([d, preds, exec, cmd, end]) => ['find', d, ...preds.flat(), exec, ...cmd, '{}', end]),
  'shred|shred': fc
    .tuple(someOf([['-u'], ['-n', '3'], ['-z'], ['--remove']]), pick('/root/token', 'disk.img'))
    .map(([o, f]) => ['shred', ...o.flat(), f]),
  'truncate|truncate': fc
    .tuple(pick(['-s', '0'], ['-s0'], ['--size=0'], ['--size', '0']), pick('/var/log/syslog', 'x.log'))
    .map(([o, f]) => ['truncate', ...o, f]),
  'dd|dd': fc
    .shuffledSubarray(['if=/dev/zero', 'bs=1M', 'count=10', 'status=progress', 'conv=fsync'], { maxLength: 3 })
    .chain((ops) => fc.nat(ops.length).map((k) => ['dd', ...ops.slice(0, k), 'of=/dev/sdb', ...ops.slice(k)])),
  'mkfs|mkfs': pick(
    ['mkfs', '-t', 'ext4', '/dev/sdb1'],
    ['mkfs.ext4', '-F', '/dev/sdb1'],
    ['mkfs.xfs', '-f', '/dev/nvme0n1p2'],
    ['mke2fs', '-t', 'ext4', '/dev/sdc'],
    ['mkfs.vfat', '/dev/sdd1'],
  ),
  'wipefs|wipefs': pick(
    ['wipefs', '-a', '/dev/sdb'],
    ['wipefs', '--all', '/dev/sdb'],
    ['wipefs', '-af', '/dev/sdb'],
    ['wipefs', '-fa', '/dev/sdb'],
    ['wipefs', '/dev/sdb', '--all', '--force'],
    ['wipefs', '-o', '0x438', '/dev/sdb'],
    ['wipefs', '--offset=0x438', '/dev/sdb'],
    ['wipefs', '--al', '/dev/sdb'],
  ),
  'blkdiscard|blkdiscard': pick(['blkdiscard', '/dev/nvme0n1'], ['blkdiscard', '-f', '/dev/sdb']),
  'reboot/shutdown|reboot': pick(
    ['reboot'],
    ['reboot', '-f'],
    ['shutdown', '-r', 'now'],
    ['shutdown', '-h', '+5'],
    ['poweroff'],
    ['halt', '-p'],
    ['shutdown', 'now'],
  ),
  'reboot/shutdown|init': pick(['init', '6'], ['init', '0'], ['telinit', '6']),
  'systemctl stop/disable/mask|systemctl': fc
    .tuple(
      pick('stop', 'disable', 'mask', 'kill', 'reboot', 'poweroff', 'halt', 'isolate'),
      someOf([['--now'], ['-q'], ['--no-block'], ['-s', 'KILL'], ['--signal=TERM'], ['--job-mode', 'replace']], 0),
      pick(['k3s'], ['k3s-agent.service'], ['k3s', 'containerd'], []),
      fc.boolean(),
    )
    .map(([verb, opts, units, optsFirst]) =>
      optsFirst ? ['systemctl', ...opts.flat(), verb, ...units] : ['systemctl', verb, ...units, ...opts.flat()],
    ),
  'kubectl delete|kubectl': kubectl(
    fc.constant(['delete']),
    pick(
      ['pod', 'web-0'],
      ['-f', 'x.yaml'],
      ['pods', '--all', '--grace-period=0', '--force'],
      ['ns', 'drill', '--wait=false'],
      ['-l', 'app=x', 'deploy'],
    ),
  ),
  'kubectl drain|kubectl': kubectl(
    fc.constant(['drain']),
    fc
      .tuple(node, someOf(['--ignore-daemonsets', '--delete-emptydir-data', '--timeout=5m', '--force']))
      .map(([n, o]) => [n, ...o]),
  ),
  'kubectl cordon|kubectl': kubectl(
    fc.constant(['cordon']),
    node.map((n) => [n]),
  ),
  'kubectl replace --force|kubectl': kubectl(
    fc.constant(['replace']),
    fc
      .shuffledSubarray([['-f', 'pod.yaml'], ['--force'], ['--grace-period=0']], { minLength: 2 })
      .filter((xs) => xs.some((x) => x[0] === '--force'))
      .map((xs) => xs.flat()),
  ),
  'kubectl scale to zero|kubectl': kubectl(
    fc.constant(['scale']),
    fc
      .tuple(
        pick(['deploy/web'], ['statefulset', 'pg'], ['--all', 'deploy']),
        // pflag reads ints as Go's ParseInt in base 0: a sign, 0x/0b/0o, a leading 0 and underscores.
        pick('0', '00', '+0', '-0', '0x0', '0X00', '0b0', '0o0', '0_0', '-0x_0').chain((n) =>
          pick([`--replicas=${n}`], ['--replicas', n]),
        ),
        someOf([['--current-replicas=2'], ['--timeout', '1m']]),
      )
      .map(([t, r, o]) => [...t, ...r, ...o.flat()]),
  ),
  'helm uninstall|helm': fc
    .tuple(
      helmGlobals,
      pick('uninstall', 'delete', 'del', 'un'),
      someOf([['--wait'], ['--keep-history'], ['--timeout', '5m']]),
    )
    .map(([g, v, o]) => ['helm', ...g, v, 'traefik', ...o.flat()]),
  'helm rollback|helm': fc
    .tuple(helmGlobals, pick(['traefik'], ['traefik', '3']), someOf([['--wait'], ['--timeout', '5m']]))
    .map(([g, r, o]) => ['helm', ...g, 'rollback', ...r, ...o.flat()]),
  'k3s etcd-snapshot delete/prune|k3s': fc
    .tuple(
      pick([], ['--data-dir', '/var/lib/rancher/k3s'], ['-d', '/data']),
      pick(
        ['delete', 'snap-1'],
        ['prune'],
        ['prune', '--snapshot-retention', '5'],
        ['rm', 'snap-2'],
        ['delete', '--s3', 'snap-3'],
      ),
    )
    .map(([g, rest]) => ['k3s', 'etcd-snapshot', ...g, ...rest]),
  'k3s server --cluster-reset|k3s': pick(
    ['k3s', 'server', '--cluster-reset'],
    ['k3s', 'server', '-cluster-reset'],
    ['k3s', 'server', '--cluster-reset=true'],
    ['k3s', 'server', '--cluster-reset', '--cluster-reset-restore-path=/snap'],
    ['k3s', '--debug', 'server', '--cluster-reset'],
  ),
  'k3s token rotate|k3s': pick(
    ['k3s', 'token', 'rotate'],
    ['k3s', 'token', 'rotate', '--token', 'x', '--new-token', 'y'],
    ['k3s', 'token', '--data-dir', '/x', 'rotate'],
  ),
  'k3s certificate rotate|k3s': pick(
    ['k3s', 'certificate', 'rotate'],
    ['k3s', 'certificate', 'rotate', '--service', 'api-server'],
    ['k3s', 'certificate', 'rotate-ca', '--path', '/x'],
  ),
  'k3s kill/uninstall script|k3s-uninstall.sh': pick(
    ['k3s-uninstall.sh'],
    ['k3s-agent-uninstall.sh'],
    ['k3s-killall.sh'],
    ['sh', '/usr/local/bin/k3s-uninstall.sh'],
    ['bash', '-x', '/usr/local/bin/k3s-killall.sh'],
  ),
  'velero restore|velero': fc
    .tuple(
      pick([], ['-n', 'velero'], ['--kubecontext', 'homelab']),
      pick(['restore', 'create'], ['create', 'restore']),
      pick(['drill-1', '--from-backup', 'nightly'], ['--from-schedule', 'daily', '--wait']),
    )
    .map(([g, v, r]) => ['velero', ...g, ...v, ...r]),
  'velero delete|velero': fc
    .tuple(
      pick([], ['-n', 'velero']),
      pick(['backup', 'delete'], ['schedule', 'delete'], ['restore', 'delete'], ['delete', 'backup']),
      pick(['nightly', '--confirm'], ['--all', '--confirm']),
    )
    .map(([g, v, r]) => ['velero', ...g, ...v, ...r]),
  'DROP/TRUNCATE (SQL)|psql': fc.oneof(
    fc
      .tuple(
        someOf([['-h', 'db'], ['-U', 'postgres'], ['-Upostgres'], ['-d', 'app']]),
        destroyingSql(),
        pick(
          (q: string) => ['-c', q],
          (q: string) => ['--command', q],
          (q: string) => [`-c${q}`],
          (q: string) => [`--command=${q}`],
        ),
      )
      .map(([o, sql, c]) => ['psql', ...o.flat(), ...c(sql)]),
    fc
      .tuple(
        someOf([['-U', 'postgres'], ['app']]),
        destroyingSql(),
        pick<'heredoc' | 'herestring' | 'echo'>('heredoc', 'herestring', 'echo'),
      )
      .map(([o, sql, form]) => ({ argv: ['psql', ...o.flat()], form, text: sql })),
  ),
  'DROP/TRUNCATE (SQL)|mysql': fc
    .tuple(
      pick('mysql', 'mariadb'),
      pick([], ['-u', 'root'], ['-uroot'], ['-proot', '-h', 'db']),
      destroyingSql(['#x\n']),
      pick(
        (q: string) => ['-e', q],
        (q: string) => [`-e${q}`],
        (q: string) => [`--execute=${q}`],
      ),
    )
    .map(([c, o, sql, e]) => [c, ...o, ...e(sql)]),
  'DROP/TRUNCATE (SQL)|sqlite3': fc
    .tuple(pick('app.db', '/var/lib/app.db'), destroyingSql([], false))
    .map(([db, sql]) => ['sqlite3', db, sql]),
  'pg_restore --clean|pg_restore': fc
    .tuple(
      pick(['--clean'], ['-c'], ['-Cc'], ['-cC'], ['--clean', '--if-exists']),
      someOf([['-d', 'app'], ['-j', '4'], ['-U', 'postgres'], ['--dbname=app']]),
    )
    .chain(([c, o]) =>
      fc
        .shuffledSubarray([...c.map((x) => [x]), ...o], { minLength: c.length + o.length })
        .map((xs) => ['pg_restore', ...xs.flat(), 'dump.pgc']),
    ),
};

const keyOf = (p: CommandPattern) => `${p.what}|${p.commands[0]}`;

function lineOf(spec: Spec): fc.Arbitrary<Line> {
  if (Array.isArray(spec)) return argvLine(spec);
  return argvLine(spec.argv, { form: spec.form, text: spec.text });
}

describe('destructive commands are recognised by what they do, however they are spelled', () => {
  it('every entry of the table has a spelling generator here', () => {
    expect(DESTRUCTIVE.map(keyOf).filter((k) => !SPELLINGS[k])).toEqual([]);
  });

  for (const p of DESTRUCTIVE) {
    it(`${keyOf(p)}: every generated spelling is found, on its line`, () => {
      const arb = SPELLINGS[keyOf(p)]!.chain((spec) => inScript(lineOf(spec)));
      fc.assert(
        fc.property(arb, (s) => {
          const hits = found(s.code).filter((f) => f.what === p.what);
          expect(hits.length, s.code).toBeGreaterThan(0);
          expect(
            hits.some((h) => h.line >= s.start && h.line <= s.end),
            `line ${JSON.stringify(hits.map((h) => h.line))} not in ${s.start}-${s.end}\n${s.code}`,
          ).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('the examples the reference page shows are each found as their own entry', () => {
    for (const p of DESTRUCTIVE) expect(whats(p.example), p.example).toContain(p.what);
  });

  it('the generators write valid bash that bash itself reads as the intended argv', () => {
    // One bash per sample: a fake command prints the argv it receives, NUL-separated.
    // Globbing off (set -f): a glob command word stays as written and must match the name; braces still expand.
    const argvs = fc.sample(fc.oneof(...Object.values(SPELLINGS)).filter(Array.isArray) as fc.Arbitrary<string[]>, 40);
    const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
    for (const argv of argvs) {
      const [line] = fc.sample(argvLine(argv), 1);
      const words = line!.words.join(' ');
      const r = spawnSync('bash', ['-c', `set -f; printf '%s\\0' ${words}`], { encoding: 'utf8' });
      expect(r.status, words).toBe(0);
      const [name, ...args] = r.stdout.split('\0').slice(0, -1);
      expect(globToRegExp(base(name!)).test(base(argv[0]!)), `${name} names ${argv[0]}`).toBe(true);
      expect(args, words).toEqual(argv.slice(1));
    }
    for (const s of fc.sample(
      fc.oneof(...Object.values(SPELLINGS)).chain((spec) => inScript(lineOf(spec))),
      60,
    )) {
      expect(spawnSync('bash', ['-n'], { input: s.code }).status, s.code).toBe(0);
    }
  });
});

/** Commands that look like a destructive one but are not, or carry its words as data. */
const NEAR_MISSES: fc.Arbitrary<string>[] = [
  fc
    .tuple(
      pick('rm', '/bin/rm', "'rm'"),
      pick('-f', '-i', '-v', '-fv', '--force', '--', '-- -r', '--interactive=never'),
      pick('file', '/tmp/a b', '"$F"'),
    )
    .map((w) => w.join(' ')),
  pick(
    'echo rm -rf /',
    "printf '%s\\n' 'rm -rf /'",
    'echo "kubectl delete pod x"',
    "msg='helm uninstall traefik'",
    'MSG="kubectl drain n"',
    'echo DROP DATABASE app',
  ),
  pick(
    'kubectl get pods | grep delete',
    'kubectl get events --field-selector reason=Killing',
    'kubectl describe node n | grep -i drain',
    'kubectl logs deploy/x | grep -c cordon',
    'kubectl get pod delete-me -o name',
    'kubectl scale deploy/x --replicas=3',
    'kubectl replace -f x.yaml',
    'kubectl get --help',
  ),
  pick('# rm -rf /', 'echo ok # rm -rf /', ': kubectl delete pod x', 'true # helm uninstall x', '  # systemctl reboot'),
  pick(
    "cat <<'EOF' > notes.txt\nrm -rf /\nkubectl delete ns x\nEOF",
    'cat <<EOF\nsystemctl reboot\nEOF',
    "kubectl apply -f - <<'EOF'\nkind: ConfigMap\ndata:\n  run: rm -rf /tmp/x\nEOF",
    'grep -q "wipefs -a" <<< "$notes"',
  ),
  pick(
    'systemctl status k3s',
    'systemctl is-active k3s',
    'systemctl restart k3s',
    'systemctl list-units --state=failed',
    'systemctl show -p ActiveState k3s',
  ),
  pick(
    'helm list -A',
    'helm status traefik',
    'helm history traefik',
    'helm upgrade traefik traefik/traefik',
    'helm get values traefik',
  ),
  pick(
    'dd if=/dev/sda bs=512 count=1 | xxd',
    'find . -name x -print',
    'find . -exec ls {} +',
    'wipefs /dev/sdb',
    'wipefs -n -a /dev/sdb',
    'shutdown -c',
    "psql -c 'SELECT 1'",
    'pg_dump --clean app > app.sql',
    'pg_restore -l dump.pgc',
    'pg_restore -d app dump.pgc',
  ),
  pick(
    'velero backup get',
    'velero restore get',
    'velero backup describe nightly',
    'velero backup create nightly',
    'k3s etcd-snapshot save',
    'k3s etcd-snapshot ls',
    'k3s server',
    'k3s token list',
    'k3s certificate check',
    'k3s kubectl get nodes',
  ),
  pick(
    'ls -R /',
    'cp -r a b',
    'grep -rf patterns .',
    'chmod -R 755 x',
    'kubectl exec pg-0 -- ls /',
    'ssh k3s-master uptime',
    "ssh k3s-master 'echo rm -rf /'",
    'command -v rm',
    'sudo -l rm',
    'type reboot',
    'man shred',
  ),
  // The new indirections, carrying harmless code.
  pick(
    'echo {a,b}',
    'echo {rm,-rf,x}',
    'ls /bin/r?',
    '/bin/l? -la',
    '/bin/r[!m] -rf x',
    "alias ll='ls -la'",
    'source ./env.sh',
    '. /etc/os-release',
    "bash <(echo 'ls -la')",
    "source <(echo 'echo rm -rf /')",
    "trap -- 'echo bye' EXIT",
    'trap -p EXIT',
    "env -S'echo rm -rf /'",
    "mysql -uroot -e'SELECT 1'",
    "psql -c'SELECT 1'",
    "psql -c 'select drop_table_stats() /* drop */'",
    'kubectl scale deploy/x --replicas=0x1',
    'kubectl scale deploy/x --replicas=010',
    'kubectl scale deploy/x --replicas=1_0',
    'kubectl scale deploy/x --replicas=+3',
    "bash /dev/stdin <<< 'uptime'",
    "bash < <(printf '%s\\n' 'df -h')",
    'find . -name "*.log" -print',
  ),
];

describe('near misses are not flagged', () => {
  it('harmless cousins and destructive words as data, in any wrapper and context', () => {
    const arb = fc.oneof(...NEAR_MISSES).chain((cmd) => {
      const multiLine = cmd.includes('\n');
      // Wrap single-line cousins; data in here-documents and comments stays as written.
      if (multiLine || cmd.trimStart().startsWith('#')) return fc.constant(cmd);
      return wrapped(fc.constant({ words: [cmd] }), 2).map((w) => scriptOf(w.line));
    });
    fc.assert(
      fc.property(arb, (code) => {
        expect(whats(code), code).toEqual([]);
      }),
      { numRuns: RUNS * 8 },
    );
  });
});

describe('grammar corners, one by one', () => {
  const cases: Array<[string, string, number?]> = [
    ['rm >/dev/null -rf x', 'rm -r'],
    ['rm 2>&1 -r x', 'rm -r'],
    ['! { rm -rf a; }', 'rm -r'],
    ['coproc rm -rf x', 'rm -r'],
    ['trap \'rm -rf "$d"\' EXIT', 'rm -r'],
    ['eval "rm -rf /x"', 'rm -r'],
    ['x=$(cat <<EOF\n$(rm -rf /x)\nEOF\n)', 'rm -r', 1],
    ["echo 'DROP TABLE x' | psql", 'DROP/TRUNCATE (SQL)'],
    ['cat <<EOF | ssh k3s-master bash -s\nk3s-killall.sh\nEOF', 'k3s kill/uninstall script', 1],
    ["ssh k3s-master <<'EOF'\nsudo rm -rf /var/lib/rancher\nEOF", 'rm -r', 1],
    ['kubectl -n db exec -i pg-0 -- psql <<SQL\nDROP DATABASE app;\nSQL', 'DROP/TRUNCATE (SQL)'],
    ['"$SUDO" rm -R /srv', 'rm -r'],
    ['env -S "rm -rf /x"', 'rm -r'],
    ['echo a\nfoo() {\n  kubectl \\\n    delete pod x\n}', 'kubectl delete', 2],
    ['watch -n 5 systemctl stop k3s', 'systemctl stop/disable/mask'],
    ['k3s kubectl --kubeconfig /x drain n', 'kubectl drain'],
    ['kubectl run tmp --rm -i --image=postgres -- psql -c "drop database app"', 'DROP/TRUNCATE (SQL)'],
    // The probe's findings, as it wrote them.
    ["shopt -s expand_aliases; alias x='rm -rf'; x $T/canary/a", 'rm -r'],
    ["shopt -s expand_aliases\nalias x='ls'\nalias y=rm\ny -rf /x", 'rm -r', 3],
    ["source <(echo 'rm -rf $T/canary/b')", 'rm -r'],
    [". <(echo 'rm -rf x')", 'rm -r'],
    ['{rm,-rf,$T/canary/c}', 'rm -r'],
    ['x="$({rm,-rf,x})"', 'rm -r'],
    ['/usr/bin/r[m] -rf $T/canary/d', 'rm -r'],
    ['/bin/r? -rf x', 'rm -r'],
    ['/usr/bin/sud? rm -rf x', 'rm -r'],
    ["bash /dev/stdin <<< 'rm -rf /x'", 'rm -r'],
    ["bash < <(echo 'rm -rf /x')", 'rm -r'],
    ["bash <(echo 'rm -rf /x')", 'rm -r'],
    ["trap -- 'rm -rf /x' EXIT", 'rm -r'],
    ["env -S'rm -rf /x'", 'rm -r'],
    ["mysql -uroot -e'DROP DATABASE x'", 'DROP/TRUNCATE (SQL)'],
    ["psql -c 'drop/**/table x'", 'DROP/TRUNCATE (SQL)'],
    ["psql -c'drop--x\ntable x'", 'DROP/TRUNCATE (SQL)'],
    ['source /usr/local/bin/k3s-killall.sh', 'k3s kill/uninstall script'],
    ['. ./k3s-killall.sh', 'k3s kill/uninstall script'],
    ['kubectl scale deploy/x --replicas=+0', 'kubectl scale to zero'],
    ['kubectl scale deploy/x --replicas=0b0', 'kubectl scale to zero'],
    ['mysql -e DROP\\\tDATABASE\\ app', 'DROP/TRUNCATE (SQL)'],
    ["sqlite3 x drop$'\\n'\\ \\ /\\*$'\\n'\\*/\\ table t", 'DROP/TRUNCATE (SQL)'],
    ['! sh -s < <(echo rm -rf /x)', 'rm -r'],
    ['case "$1" in *) timeou[t] 1h rm -rf x ;; esac', 'rm -r'],
    ['{ stdbu[f] -oL /usr/bin/k3? token rotate; }', 'k3s token rotate'],
    ['[r]m -rf x', 'rm -r'],
    ['hel[m] del traefik # a note', 'helm uninstall'],
  ];
  for (const [code, what, line] of cases) {
    it(`${JSON.stringify(code)} runs ${what}`, () => {
      const hit = found(code).find((f) => f.what === what);
      expect(hit, JSON.stringify(found(code))).toBeDefined();
      if (line !== undefined) expect(hit!.line).toBe(line);
    });
  }

  it('array subscripts in arithmetic are not read as glob command words (no damage, no redirect)', () => {
    const analysis = analyseShell('k=$(( A[2] * 1000 + A[3] ))\nif (( k > t_key )); then echo new; fi\na[1]=x');
    expect(analysis.damaged).toBe(false);
    expect(analysis.redirects).toEqual([]);
  });

  it('a quoted here-document is data: $(…) in it does not run', () => {
    expect(whats("cat <<'EOF'\n$(rm -rf /x)\nEOF")).toEqual([]);
  });

  it('a step the grammar cannot read is still matched (coarse fallback); its syntax error is bash -n’s', () => {
    for (const code of ['cat <<EOF arg && rm -rf x\nbody\nEOF', 'cmd 1<>f; rm -rf /x', 'if then rm -rf /x; fi']) {
      expect(whats(code), code).toContain('rm -r');
    }
    const page = '---\ntitle: t\n---\n```bash step=s\nif then rm -rf /x; fi\n```\n';
    const rules = checkProcedure(parseProcedure(page, 'p.mdx'), testInventory()).map((d) => d.rule);
    expect(rules).toEqual(['destructive-unconfirmed']);
  });

  it('pathological nesting is read without a crash', () => {
    const deep = `${'$('.repeat(3000)}rm -rf /x${')'.repeat(3000)}`;
    expect(() => found(deep)).not.toThrow();
    const wide = Array.from({ length: 3000 }, (_, i) => `echo ${i} | grep -q x && rm -f f${i}`).join('\n');
    expect(whats(wide)).toEqual([]);
  });
});

describe('diagnostics point at the line of the step', () => {
  it('destructive-unconfirmed and destructive-check name the file line of the command', () => {
    const code = "echo one\nssh k3s-master \\\n  'sudo rm -rf /var/lib/rancher'";
    const page = (flags: string) => `---\ntitle: t\n---\n\n\`\`\`bash step=s ${flags}\n${code}\n\`\`\`\n`;
    const unconfirmed = checkProcedure(parseProcedure(page(''), 'p.mdx'), testInventory());
    expect(unconfirmed.map((d) => [d.rule, d.line])).toEqual([['destructive-unconfirmed', 8]]);
    expect(unconfirmed[0]!.message).toContain('rm -r through ssh k3s-master');
    const check = checkProcedure(parseProcedure(page('check'), 'p.mdx'), testInventory());
    expect(check.map((d) => [d.rule, d.line])).toEqual([['destructive-check', 8]]);
    expect(checkProcedure(parseProcedure(page('confirm'), 'p.mdx'), testInventory())).toEqual([]);
  });
});

describe('the expansions bash does before a command runs, as bash does them', () => {
  it('an attached short-option value reads as the separate one, for every value option of every command', () => {
    // Go's flag package (k3s) has no attached values: `-cfoo` is a flag named cfoo.
    const shorts = Object.entries(COMMAND_SYNTAX)
      .filter(([, syntax]) => syntax.style !== 'go')
      .flatMap(([name, syntax]) =>
        (syntax.values ?? []).filter((o) => /^-[A-Za-z0-9]$/.test(o)).map((o) => [name, o] as const),
      );
    fc.assert(
      fc.property(fc.constantFrom(...shorts), fc.string({ minLength: 1, maxLength: 12 }), ([name, opt], v) => {
        const syntax = syntaxOf(name);
        const attached = parseOptions([literal(`${opt}${v}`, 0)], syntax).valueOf(opt)?.value;
        const separate = parseOptions([literal(opt, 0), literal(v, 0)], syntax).valueOf(opt)?.value;
        // pflag reads `-n=x` as `-n x`; the others keep the `=`.
        expect(attached, `${name} ${opt}${v}`).toBe(syntax.style === 'pflag' && v.startsWith('=') ? v.slice(1) : v);
        expect(separate).toBe(v);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('brace expansion: bash with braces on and the expanded text with braces off print the same words', () => {
    const token = fc.constantFrom(
      'a',
      'rm',
      '-rf',
      ',',
      '{',
      '}',
      '{a,b}',
      "'x,y'",
      '"{p,q}"',
      '\\,',
      ' ',
      '$(echo {c,d})',
      '${v:-x}',
      'z{1,2}',
      '{,e}',
    );
    fc.assert(
      fc.property(
        fc.array(token, { minLength: 1, maxLength: 8 }).map((t) => t.join('')),
        (text) => {
          const run = (opts: string, t: string) =>
            spawnSync('bash', ['-c', `set -f ${opts}; printf '<%s>' ${t}`], { encoding: 'utf8' });
          const want = run('', text);
          fc.pre(want.status === 0);
          const got = run('+B', expandBraces(text));
          expect(got.stdout, `${text} → ${expandBraces(text)}`).toBe(want.stdout);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("pflag's integers: Go's ParseInt in base 0", () => {
    const cases: Array<[string, bigint | undefined]> = [
      ['0', 0n],
      ['00', 0n],
      ['+0', 0n],
      ['-0', 0n],
      ['0x0', 0n],
      ['0X_0', 0n],
      ['0b0', 0n],
      ['0o0', 0n],
      ['0_0', 0n],
      ['010', 8n],
      ['0x10', 16n],
      ['1_000', 1000n],
      ['-3', -3n],
      ['0b101', 5n],
      ['', undefined],
      ['_0', undefined],
      ['0__0', undefined],
      ['0_', undefined],
      ['08', undefined],
      ['1e3', undefined],
      ['0x', undefined],
      ['++0', undefined],
      [' 0', undefined],
    ];
    for (const [text, want] of cases) expect(goInteger(text), text).toBe(want);
  });
});

it('spellings() helper: every spelling bash reads back as the value', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'arm- \'"$\\*;{}\n`') }), (v) => {
      const texts = spellings(v);
      const r = spawnSync('bash', ['-c', `printf '%s\\0' ${texts.join(' ')}`], { encoding: 'utf8' });
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(texts.map(() => v));
    }),
    { numRuns: 40 },
  );
});
