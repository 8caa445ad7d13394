import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkProcedure } from '../../runner/check/lint.ts';
import { createReadOnlyShims, readOnlyPrelude, REFUSED_EXIT } from '../../runner/execute/readonly.ts';
import { parseProcedure } from '../../runner/format/parse.ts';
import { loadShellParser } from '../../runner/shell/parser.ts';
import {
  READ_ONLY_TOOLS,
  READ_ONLY_VERBS,
  refusedVerb,
  verbSpec,
  type ReadOnlyTool,
} from '../../runner/shell/readonly.ts';
import { testInventory } from '../helpers/inventory.ts';
import { argvLine, inScript, spellings } from './shell-arbitraries.ts';

/**
 * Property: `check` steps are read-only in fact, not by label.
 * (a) check flags every write in a check step: redirections into files, commands that change
 *     things, kubectl/helm/k3s verbs outside the read lists, through wrappers and nested scripts.
 * (b) At run time the prelude makes kubectl, helm and k3s refuse those verbs (exit 3, the tool
 *     never runs) however the step reaches them, and pass reads through untouched.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

beforeAll(() => loadShellParser());

// ---------------------------------------------------------------- (a) the lint rule

function checkDiagnostics(code: string, flags = 'check') {
  const fence = '```';
  const body = code.endsWith('\n') ? code : `${code}\n`;
  const page = `---\ntitle: t\n---\n\n${fence}bash step=verify ${flags}\n${body}${fence}\n`;
  return checkProcedure(parseProcedure(page, 'p.mdx'), testInventory()).filter(
    (d) => d.rule.startsWith('check-writes') || d.rule.startsWith('destructive'),
  );
}
/** File line of the step's code line 0. */
const FIRST_CODE_LINE = 6;

const KUBECTL_WRITES: string[][] = [
  ['apply', '-f', 'x.yaml'],
  ['create', 'ns', 'x'],
  ['edit', 'cm/x'],
  ['patch', 'node', 'n', '-p', '{}'],
  ['label', 'node', 'n', 'a=b'],
  ['annotate', 'pod', 'p', 'a=b'],
  ['taint', 'node', 'n', 'k=v:NoSchedule'],
  ['uncordon', 'n'],
  ['rollout', 'restart', 'deploy/x'],
  ['rollout', 'undo', 'deploy/x'],
  ['rollout', 'pause', 'deploy/x'],
  ['rollout', 'resume', 'deploy/x'],
  ['set', 'image', 'deploy/x', 'a=b'],
  ['expose', 'deploy', 'x', '--port=80'],
  ['run', 'tmp', '--image=busybox'],
  ['autoscale', 'deploy', 'x', '--max=3'],
  ['cp', 'a', 'pod:/b'],
  ['scale', 'deploy/x', '--replicas=2'],
  ['config', 'use-context', 'other'],
  ['--dry-run=server', 'apply', '-f', 'x'],
  ['debug', 'node/n', '-it', '--image=busybox'],
  ['certificate', 'approve', 'csr-1'],
  ['auth', 'reconcile', '-f', 'x'],
  ['kustomize', '.', '-o', 'out.yaml'],
  ['kustomize', 'overlays/lab', '--output=out.yaml'],
  ['kustomize', '-oout.yaml'],
  ['--log-file=/tmp/k.log', 'get', 'pods'],
];
const HELM_WRITES: string[][] = [
  ['install', 'x', 'chart'],
  ['upgrade', '--install', 'x', 'chart'],
  ['repo', 'add', 'x', 'https://example.org'],
  ['repo', 'remove', 'x'],
  ['test', 'x'],
  ['plugin', 'install', 'p'],
  ['pull', 'chart'],
  ['upgrade', 'x', 'chart', '--dry-run'],
  ['template', 'x', 'chart', '--output-dir', 'out'],
  ['template', 'x', 'chart', '--output-dir=out'],
];
const K3S_WRITES: string[][] = [
  ['etcd-snapshot', 'save'],
  ['server'],
  ['agent'],
  ['token', 'create'],
  ['secrets-encrypt', 'rotate-keys'],
  ['kubectl', 'apply', '-f', 'x'],
  ['kubectl', 'kustomize', '.', '-o', 'o.yaml'],
  ['completion', 'bash', '-i'],
  ['crictl', 'rmi', '--prune'],
  ['crictl', 'config', '--set', 'timeout=5'],
  ['crictl', 'exec', '-it', 'c', 'sh'],
  ['ctr', 'images', 'rm', 'x'],
  ['ctr', '-n', 'k8s.io', 'containers', 'delete', 'x'],
  ['ctr', 'tasks', 'kill', 't'],
];
/** crictl and ctr run alone (k3s installs them as links to itself) are held to the same lists. */
const CRICTL_WRITES: string[][] = [
  ['rmi', '--prune'],
  ['rm', '-f', 'x'],
  ['stopp', 'p'],
  ['pull', 'busybox'],
  ['config', '--set', 'a=b'],
  ['--runtime-endpoint', 'unix:///run/k3s/containerd/containerd.sock', 'rmp', '-a'],
  ['exec', 'c', 'sh'],
  ['checkpoint', 'c'],
];
const CTR_WRITES: string[][] = [
  ['images', 'rm', 'x'],
  ['-n', 'k8s.io', 'images', 'pull', 'docker.io/x'],
  ['c', 'rm', 'x'],
  ['run', 'img', 'id'],
  ['snapshots', 'rm', 's'],
  ['namespaces', 'create', 'n'],
  ['--namespace=k8s.io', 'i', 'import', 'x.tar'],
];
const OTHER_WRITES: string[][] = [
  ['cp', 'a', 'b'],
  ['mv', 'a', 'b'],
  ['mkdir', '-p', 'd'],
  ['touch', 'f'],
  ['chmod', '600', 'f'],
  ['chown', 'u', 'f'],
  ['ln', '-s', 'a', 'b'],
  ['sed', '-i', 's/a/b/', 'f'],
  ['sed', '--in-place=.bak', 's/a/b/', 'f'],
  ['sed', '-ni', 'p', 'f'],
  ['tee', 'out.txt'],
  ['tee', '-a', '/etc/hosts'],
  ['apt-get', 'install', '-y', 'jq'],
  ['systemctl', 'restart', 'k3s'],
  ['systemctl', '--now', 'enable', 'x'],
  ['curl', '-sfo', 'f', 'https://example.org'],
  ['curl', '-X', 'DELETE', 'https://example.org/x'],
  ['wget', 'https://example.org/f'],
  ['git', 'pull'],
  ['mount', '/dev/sdb1', '/mnt'],
  ['iptables', '-F'],
  ['sysctl', '-w', 'a=1'],
  ['install', '-m', '0755', 'a', '/usr/local/bin/a'],
];
const WRITING_COMMANDS = [
  ...KUBECTL_WRITES.map((a) => ['kubectl', ...a]),
  ...HELM_WRITES.map((a) => ['helm', ...a]),
  ...K3S_WRITES.map((a) => ['k3s', ...a]),
  ...CRICTL_WRITES.map((a) => ['crictl', ...a]),
  ...CTR_WRITES.map((a) => ['ctr', ...a]),
  ...OTHER_WRITES,
];

/** An argv (and the SQL it reads on stdin, if any) that a family of writing commands produces. */
interface Cmd {
  argv: string[];
  stdin?: { form: 'heredoc' | 'herestring' | 'echo'; text: string };
}
const cmd = (...argv: string[]): Cmd => ({ argv });
const file = pick('f', 'backup.tgz', '/var/lib/x', 'dir/a b');
/** Short options as separate words or clustered into one (`-k -9` / `-k9`). */
const shorts = (letters: string[]) =>
  fc.boolean().map((joined) => {
    if (letters.length === 0) return [];
    return joined ? [`-${letters.join('')}`] : letters.map((l) => `-${l}`);
  });
const mixedCase = (text: string) =>
  fc
    .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
    .map((up) => [...text].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

const crictlVerbs = fc.constantFrom(
  ['rmi', '--prune'],
  ['rm', '-f', 'c'],
  ['rmp', '-a'],
  ['stop', 'c'],
  ['stopp', 'p'],
  ['pull', 'busybox'],
  ['runp', 'p.json'],
  ['create', 'p', 'c.json', 'p.json'],
  ['start', 'c'],
  ['update', '--memory', '1G', 'c'],
  ['exec', 'c', 'sh'],
  ['config', '--set', 'timeout=5'],
  ['checkpoint', 'c'],
  ['attach', 'c'],
);
const crictlReads = fc.constantFrom(
  ['ps', '-a'],
  ['pods', '--name', 'x'],
  ['images'],
  ['img', '-q'],
  ['inspect', 'c'],
  ['inspecti', 'i'],
  ['inspectp', 'p'],
  ['logs', '--tail', '5', 'c'],
  ['info'],
  ['version'],
  ['stats'],
  ['statsp'],
  ['imagefsinfo'],
  ['config', '--get', 'runtime-endpoint'],
  ['--version'],
);
const ctrGroup = pick('images', 'image', 'i', 'containers', 'c', 'tasks', 't', 'snapshots', 'content', 'namespaces');
const ctrWrite = fc
  .tuple(
    ctrGroup,
    pick(
      'rm',
      'delete',
      'del',
      'remove',
      'pull',
      'import',
      'export',
      'create',
      'kill',
      'prune',
      'tag',
      'label',
      'mount',
      'unpack',
      'start',
      'pause',
    ),
  )
  .map(([g, v]) => [g, v, 'x']);
const ctrRead = fc.oneof(
  fc.tuple(ctrGroup, pick('ls', 'list', 'info')).map(([g, v]) => [g, v]),
  fc.constant(['version']),
);
const ctrGlobals = fc.constantFrom(
  [],
  ['-n', 'k8s.io'],
  ['--namespace=k8s.io'],
  ['-a', '/run/k3s/containerd/containerd.sock'],
);

const tarWrite = fc
  .tuple(pick('x', 'c'), fc.subarray(['z', 'v', 'p']), pick('dash', 'old', 'split', 'long'), file)
  .map(([mode, flags, style, f]) => {
    const rest = mode === 'c' ? ['dir'] : ['-C', '/tmp/out'];
    const long = mode === 'x' ? '--extract' : '--create';
    if (style === 'dash') return cmd('tar', `-${mode}${flags.join('')}f`, f, ...rest);
    if (style === 'old') return cmd('tar', `${mode}${flags.join('')}f`, f, ...rest);
    if (style === 'split') return cmd('tar', `-${mode}`, ...flags.map((l) => `-${l}`), '-f', f, ...rest);
    return cmd('tar', long, `--file=${f}`, ...rest);
  });
const tarRead = fc.tuple(pick('-tzf', '-tvf', 'tf', '-xOf', '-xzOf'), file).map(([o, f]) => cmd('tar', o, f));
const COMPRESSORS = ['gzip', 'gunzip', 'bzip2', 'bunzip2', 'xz', 'unxz', 'zstd', 'pigz'];
const compressWrite = fc
  .tuple(pick(...COMPRESSORS), fc.subarray(['k', '9', 'd', 'f', 'v', 'q']), file)
  .chain(([c, letters, f]) => shorts(letters).map((o) => cmd(c, ...o, f)));
const compressRead = fc
  .tuple(pick(...COMPRESSORS), fc.subarray(['d', 'v', 'q']), pick('c', 't', 'l'), file)
  .chain(([c, letters, read, f]) => shorts([...letters, read]).map((o) => cmd(c, ...o, f)));
const opensslCmd = pick(
  ['genrsa', '2048'],
  ['req', '-new', '-x509', '-nodes'],
  ['x509', '-in', 'c.pem'],
  ['rand', '-hex', '16'],
  ['enc', '-aes-256-cbc', '-in', 'f'],
  ['pkey', '-in', 'k.pem'],
);
const opensslWrite = fc.tuple(opensslCmd, pick('-out', '-keyout'), file).map(([c, o, f]) => cmd('openssl', ...c, o, f));
const opensslRead = fc
  .tuple(opensslCmd, pick([], ['-noout', '-text'], ['-out', '/dev/null'], ['-out', '-']))
  .map(([c, o]) => cmd('openssl', ...c, ...o));
const awkPattern = pick('', 'NR > 1 ', '$2 != "True" ', '/x|y/ ', 'END ');
const awkWrite = fc
  .tuple(
    awkPattern,
    pick(
      'print > "/tmp/f"',
      'print $1 >> out',
      'printf "%s\\n", $0 > ("/tmp/" $1)',
      'print | "sh"',
      'print $1 |& "cat"',
      'system("rm x")',
      '"date" | getline d',
      'print "a" > "/dev/stdout"; print > "f"',
    ),
    pick([], ['-F:'], ['-v', 'n=1']),
  )
  .map(([pat, body, o]) => cmd('awk', ...o, `${pat}{ ${body} }`, 'in'));
const awkRead = fc
  .tuple(
    awkPattern,
    pick(
      'print $1',
      'print $1, $NF',
      'print ($1 > 5)',
      'print "err" > "/dev/stderr"',
      'printf "%s|%s\\n", $1, $2',
      'bad = 1',
      'x = $1 > 2',
      'print "a > b | c"',
      'exit !bad',
    ),
    pick([], ['-F:'], ['-v', 'n=1']),
  )
  .map(([pat, body, o]) => cmd('awk', ...o, `${pat}{ ${body} }`, 'in'));
const sedWrite = fc
  .tuple(
    pick('w /tmp/f', '1w out', '/x/w out', 's/a/b/w out', 's|a|b|gw out', '$W out', '1e date', 's/a/b/e', 'p;w out'),
    pick('operand', '-e', '-n', '--expression'),
  )
  .map(([script, how]) =>
    how === 'operand'
      ? cmd('sed', script, 'f')
      : how === '-n'
        ? cmd('sed', '-n', script, 'f')
        : how === '-e'
          ? cmd('sed', '-e', script, 'f')
          : cmd('sed', `--expression=${script}`, 'f'),
  );
const sedRead = fc
  .tuple(
    pick('1p', 's/a/b/g', '/x/d', 's|w|x|', 'y/w/x/', 's/a/b/w /dev/stdout', '/^token:/p', '$!d'),
    pick([], ['-n'], ['-E'], ['-e']),
  )
  .map(([script, o]) => cmd('sed', ...o, script, 'f'));
const SQL_WRITES = [
  'INSERT INTO t VALUES (1)',
  'UPDATE t SET a = 1',
  'DELETE FROM t',
  'CREATE TABLE x (a int)',
  'ALTER TABLE t ADD b int',
  'GRANT ALL ON t TO u',
  'REVOKE ALL ON t FROM u',
  "COPY t FROM '/tmp/x'",
  'VACUUM',
  'REINDEX TABLE t',
  'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
];
const SQL_READS = [
  'SELECT 1',
  "SELECT 'a; delete from t'",
  'SELECT replace(a, b, c) FROM t',
  'COPY t TO STDOUT',
  'COPY (SELECT * FROM t) TO STDOUT',
  'SHOW DATABASES',
  'EXPLAIN SELECT * FROM t',
  'SELECT count(*) FROM pg_stat_activity',
];
/** SQL as a client reads it: mixed case, a comment where a space was, after a harmless statement. */
const sqlText = (statements: string[], separators: string[]) =>
  fc
    .tuple(pick(...statements), pick(...separators), fc.boolean())
    .chain(([st, sep, after]) => mixedCase(st).map((s) => `${after ? 'SELECT 1; ' : ''}${s.replace(' ', sep)}`));
const sqlClient = (sql: fc.Arbitrary<string>) =>
  fc.tuple(sql, fc.nat(6)).map(([q, how]): Cmd => {
    switch (how) {
      case 0:
        return cmd('psql', '-c', q);
      case 1:
        return cmd('psql', '-U', 'postgres', '-Atc', q);
      case 2:
        return cmd('psql', `--command=${q}`);
      case 3:
        return cmd('mysql', '-uroot', '-e', q);
      case 4:
        return cmd('sqlite3', 'app.db', q);
      case 5:
        return { argv: ['psql', '-U', 'postgres'], stdin: { form: 'heredoc', text: `\\c app\n${q};` } };
      default:
        return { argv: ['mysql', 'app'], stdin: { form: 'echo', text: q } };
    }
  });
const pid = pick('1', '$pid', '"$(cat /run/x.pid)"', '%1');
const killWrite = fc.oneof(
  fc
    .tuple(pick([], ['-HUP'], ['-9'], ['-SIGKILL'], ['-s', 'TERM'], ['-n', '15'], ['--signal', 'USR1']), pid)
    .map(([sig, p]) => cmd('kill', ...sig, p)),
  fc
    .tuple(pick('pkill', 'killall'), pick([], ['-HUP'], ['-9'], ['--signal', 'KILL'], ['-f']), pick('k3s', 'nginx'))
    .map(([c, sig, name]) => cmd(c, ...sig, name)),
);
const killRead = fc.oneof(
  fc
    .tuple(pick(['-0'], ['-s', '0'], ['-n', '0'], ['--signal', '0'], ['-SIG0']), pid)
    .map(([sig, p]) => cmd('kill', ...sig, p)),
  fc.constantFrom(
    cmd('kill', '-l'),
    cmd('kill', '-l', '9'),
    cmd('kill', '-L'),
    cmd('killall', '-0', 'k3s'),
    cmd('pkill', '-0', 'nginx'),
    cmd('killall', '-l'),
  ),
);
const pkgWrite = fc
  .tuple(
    pick('npm', 'pnpm', 'yarn'),
    pick('install', 'i', 'add', 'ci', 'uninstall', 'remove', 'update'),
    fc.boolean(),
    pick([], ['--save-dev'], ['x'], ['x@1.2.3', '-D']),
  )
  .map(([m, v, global, rest]) => cmd(m, ...(global ? ['-g'] : []), v, ...rest));
const pkgRead = fc
  .tuple(pick('npm', 'pnpm', 'yarn'), pick('ls', 'list', 'view', 'info', 'outdated', '--version'))
  .map(([m, v]) => cmd(m, v));

/** Families of writing commands, each with read cousins that must stay clean (check --strict stays at 0/0). */
const FAMILIES: Record<string, { writes: fc.Arbitrary<Cmd>; reads: fc.Arbitrary<Cmd> }> = {
  'k3s crictl / crictl': {
    writes: fc.tuple(pick(['k3s', 'crictl'], ['crictl']), crictlVerbs).map(([pre, v]) => cmd(...pre, ...v)),
    reads: fc.tuple(pick(['k3s', 'crictl'], ['crictl']), crictlReads).map(([pre, v]) => cmd(...pre, ...v)),
  },
  'k3s ctr / ctr': {
    writes: fc.tuple(pick(['k3s', 'ctr'], ['ctr']), ctrGlobals, ctrWrite).map(([pre, g, v]) => cmd(...pre, ...g, ...v)),
    reads: fc.tuple(pick(['k3s', 'ctr'], ['ctr']), ctrGlobals, ctrRead).map(([pre, g, v]) => cmd(...pre, ...g, ...v)),
  },
  'output-file options of read verbs': {
    writes: fc.oneof(
      fc
        .tuple(
          pick(['kubectl'], ['k3s', 'kubectl']),
          pick(['-o', 'out.yaml'], ['--output', 'o'], ['-oout.yaml'], ['--output=o.yaml'], ['-o=o.yaml']),
        )
        .map(([pre, o]) => cmd(...pre, 'kustomize', 'overlays/lab', ...o)),
      pick(['--output-dir', 'out'], ['--output-dir=out']).map((o) => cmd('helm', 'template', 'x', 'chart', ...o)),
      pick('--log-file=/tmp/k.log', '--profile-output=/tmp/p').map((o) => cmd('kubectl', o, 'get', 'pods')),
    ),
    reads: fc.oneof(
      pick(['-o', 'yaml'], ['-o', 'wide'], ['--output=json']).map((o) => cmd('kubectl', 'get', 'pods', ...o)),
      fc.constantFrom(
        cmd('kubectl', 'kustomize', 'overlays/lab'),
        cmd('helm', 'template', 'x', 'chart'),
        cmd('helm', 'template', 'x', 'chart', '-n', 'y'),
      ),
    ),
  },
  'package managers': { writes: pkgWrite, reads: pkgRead },
  service: {
    writes: fc
      .tuple(pick('service', 'rc-service'), pick('k3s', 'nginx'), pick('start', 'stop', 'restart', 'reload'))
      .map(([c, u, v]) => cmd(c, u, v)),
    reads: fc.constantFrom(cmd('service', 'k3s', 'status'), cmd('service', '--status-all')),
  },
  tar: { writes: tarWrite, reads: tarRead },
  unzip: {
    writes: fc.tuple(pick([], ['-o'], ['-q'], ['-d', 'out'], ['-n']), file).map(([o, f]) => cmd('unzip', ...o, f)),
    reads: fc.tuple(pick(['-l'], ['-t'], ['-qq', '-l'], ['-p']), file).map(([o, f]) => cmd('unzip', ...o, f)),
  },
  compressors: { writes: compressWrite, reads: compressRead },
  openssl: { writes: opensslWrite, reads: opensslRead },
  awk: { writes: awkWrite, reads: awkRead },
  sed: { writes: sedWrite, reads: sedRead },
  SQL: {
    writes: sqlClient(sqlText(SQL_WRITES, [' ', '/**/', '\n', ' -- note\n', '\t', '  '])),
    reads: sqlClient(sqlText(SQL_READS, [' ', '\n', '/**/'])),
  },
  signals: { writes: killWrite, reads: killRead },
};

/** Redirections that write a file, in every operator bash has. */
const REDIRECT_WRITES = fc
  .tuple(
    pick('>', '>>', '&>', '&>>', '>|', '1>', '2>', '2>>', '<>', '>&'),
    pick('out.txt', '/etc/hosts', '"$OUT"', '/tmp/x'),
  )
  .map(([op, f]) => `kubectl get pods ${op} ${f}`);

describe('check-writes: a check step that writes is an error, on its line', () => {
  it('commands that change something, in any spelling, wrapper and context', () => {
    const arb = fc.constantFrom(...WRITING_COMMANDS).chain((argv) => inScript(argvLine(argv), 2));
    fc.assert(
      fc.property(arb, (s) => {
        const ds = checkDiagnostics(s.code);
        expect(ds.length, s.code).toBeGreaterThan(0);
        expect(
          ds.some((d) => d.line - FIRST_CODE_LINE >= s.start && d.line - FIRST_CODE_LINE <= s.end),
          `${JSON.stringify(ds)}\n${s.code}`,
        ).toBe(true);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  for (const [family, { writes, reads }] of Object.entries(FAMILIES)) {
    it(`${family}: writes are flagged on their line in any spelling and context; the read cousins pass`, () => {
      fc.assert(
        fc.property(
          writes.chain((c) => inScript(argvLine(c.argv, c.stdin), 2)),
          (s) => {
            const ds = checkDiagnostics(s.code).filter((d) => d.line - FIRST_CODE_LINE >= s.start);
            expect(
              ds.some((d) => d.line - FIRST_CODE_LINE <= s.end),
              `${JSON.stringify(ds)}\n${s.code}`,
            ).toBe(true);
          },
        ),
        { numRuns: RUNS * 2 },
      );
      fc.assert(
        fc.property(
          reads.chain((c) => inScript(argvLine(c.argv, c.stdin), 1)),
          (s) => {
            expect(checkDiagnostics(s.code), s.code).toEqual([]);
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('redirections into files, however the operator is spelled, and inside $(…) or bash -c', () => {
    const quoted = (cmd: string) => `'${cmd.replaceAll("'", "'\\''")}'`;
    const arb = REDIRECT_WRITES.chain((c) =>
      pick(c, `x="$(${c})"`, `bash -c ${quoted(c)}`, `{ ${c}; }`, `ssh h ${quoted(c)}`),
    );
    fc.assert(
      fc.property(arb, (code) => {
        expect(
          checkDiagnostics(code).map((d) => d.rule),
          code,
        ).toContain('check-writes');
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('reads stay clean: /dev/null or stderr, fd duplication, read verbs, scratch dirs, read-only mounts', () => {
    const reads = [
      'kubectl get pods -o wide >/dev/null',
      'kubectl get nodes 2>&1 | grep -q Ready',
      'echo "not ready" >&2',
      'kubectl version 2>/dev/null',
      'kubectl logs deploy/x | tee /dev/stderr',
      'kubectl describe node n 1>&2',
      'exec 3>&-',
      'kubectl auth can-i get pods',
      'kubectl rollout status deploy/x',
      'kubectl config view --minify',
      'kubectl exec pg-0 -- cat /etc/hosts',
      'k3s kubectl get nodes',
      'k3s etcd-snapshot ls',
      'k3s check-config',
      'helm list -A',
      'helm status traefik',
      'helm repo update',
      'helm get values x -n y',
      'curl -s -o /dev/null -w "%{http_code}" https://x',
      'd="$(mktemp -d)"\nmount -t nfs -o ro nas:/backups "$d"\ntrap \'umount "$d" && rmdir "$d"\' EXIT\nls "$d"',
      'systemctl status k3s --no-pager',
      'kubectl get --raw /readyz',
      'cat <<EOF\nkubectl apply -f x\nEOF',
      '# kubectl delete pod x',
      'grep -c x <<< "$(kubectl get pods)"',
      'journalctl -u k3s --since -1h | tail',
      'velero backup get',
      'crictl ps',
      'ufw status',
      'git log -1',
      'sed -n 1p f',
    ];
    for (const code of reads) expect(checkDiagnostics(code), code).toEqual([]);
  });

  it('a destructive command in a check step is reported once, as destructive-check', () => {
    expect(checkDiagnostics('kubectl delete pod x').map((d) => d.rule)).toEqual(['destructive-check']);
  });

  it('an apply step marked check is a write', () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }';
    const page = `---\ntitle: t\n---\n\n\`\`\`yaml step=m apply check\n${manifest}\n\`\`\`\n`;
    expect(checkProcedure(parseProcedure(page, 'p.mdx'), testInventory()).map((d) => d.rule)).toContain('check-writes');
  });

  it('steps without the check flag may write', () => {
    expect(checkDiagnostics('kubectl apply -f x.yaml > out.txt', '')).toEqual([]);
  });
});

// ---------------------------------------------------------------- (b) run-time enforcement

const root = mkdtempSync(join(tmpdir(), 'runbook-readonly-'));
const fakeBin = join(root, 'fake-bin');
const logs = join(root, 'logs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Fake tools: record argv (NUL-separated) and stdin, exit with $FAKE_EXIT. */
beforeAll(() => {
  mkdirSync(fakeBin);
  mkdirSync(logs);
  for (const tool of READ_ONLY_TOOLS) {
    writeFileSync(
      join(fakeBin, tool),
      [
        '#!/bin/bash',
        `log="$FAKE_LOG/${tool}"`,
        ': > "$log.argv"',
        `for a in "$@"; do printf '%s\\0' "$a" >> "$log.argv"; done`,
        'cat > "$log.stdin"',
        'exit "${FAKE_EXIT:-0}"',
        '',
      ].join('\n'),
    );
    chmodSync(join(fakeBin, tool), 0o755);
  }
});
beforeEach(() => {
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs);
});

const BASH = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  invoked: (tool: string) => { argv: string[]; stdin: string } | undefined;
}

/** Runs a check step as the executors do: `set -euo pipefail`, the prelude, the step; args become "$@". */
function runStep(
  step: string,
  opts: { args?: string[]; stdin?: string; exit?: number; path?: string; viaStdin?: boolean } = {},
): Ran {
  const script = `set -euo pipefail; ${readOnlyPrelude()}${step}`;
  const env = {
    PATH: opts.path ?? `${fakeBin}:/usr/bin:/bin`,
    FAKE_LOG: logs,
    FAKE_EXIT: String(opts.exit ?? 0),
    HOME: root,
    TMPDIR: root,
  };
  // viaStdin: as the SSH executor sends it, a script on bash's stdin.
  const r = opts.viaStdin
    ? spawnSync(BASH, ['-s', '--', ...(opts.args ?? [])], { input: script, env, encoding: 'utf8', timeout: 10_000 })
    : spawnSync(BASH, ['-c', script, 'step', ...(opts.args ?? [])], {
        input: opts.stdin ?? '',
        env,
        encoding: 'utf8',
        timeout: 10_000,
      });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    invoked: (tool) => {
      const f = join(logs, `${tool}.argv`);
      if (!existsSync(f)) return undefined;
      return {
        argv: readFileSync(f, 'utf8').split('\0').slice(0, -1),
        stdin: readFileSync(join(logs, `${tool}.stdin`), 'utf8'),
      };
    },
  };
}

/** Argument words that stress quoting: spaces, quotes, globs, newlines, dashes, `=`. */
const argWord = fc.oneof(
  pick(
    'pods',
    'deploy/web',
    '-o',
    'wide',
    '-n',
    'kube-system',
    '--all-namespaces',
    '-o=jsonpath={.items[*].metadata.name}',
    '--',
    '-l',
    'app in (a,b)',
  ),
  fc.string({ unit: fc.constantFrom('a', ' ', "'", '"', '*', '$', '\n', '-', '=', '\\'), maxLength: 8 }),
);
const globals = (tool: ReadOnlyTool) =>
  fc
    .shuffledSubarray(
      tool === 'helm'
        ? [['--kube-context', 'c'], ['-n', 'x'], ['--namespace=y']]
        : tool === 'k3s'
          ? [['--debug'], ['--data-dir', '/d']]
          : tool === 'crictl'
            ? [['--runtime-endpoint', 'unix:///x'], ['-D'], ['-t', '5s']]
            : tool === 'ctr'
              ? [['-n', 'k8s.io'], ['--address=/run/x.sock'], ['--debug']]
              : [['--context', 'c'], ['-n', 'x'], ['--kubeconfig=/k'], ['-v', '3']],
      { maxLength: 2 },
    )
    .map((g) => g.flat());

/** A read: a verb from the read list (with a listed sub-verb where it needs one), options, free arguments. */
const readArgv = (tool: Exclude<ReadOnlyTool, 'k3s'>) =>
  fc
    .tuple(
      globals(tool),
      fc.constantFrom(...Object.entries(READ_ONLY_VERBS[tool]).filter(([v]) => v !== '')),
      fc.array(argWord, { maxLength: 4 }),
    )
    .map(([g, [verb, rule], rest]) => {
      const sub = verbSpec(rule).subs?.slice(0, 1) ?? [];
      return [...g, verb, ...sub, ...rest.filter((w) => !w.startsWith('-') || w.length > 2)];
    });

describe('at run time kubectl, helm and k3s in a check step refuse writes and pass reads untouched', () => {
  it('reads reach the real tool with identical argv, stdin and exit code', () => {
    fc.assert(
      fc.property(pick<'kubectl' | 'helm'>('kubectl', 'helm'), fc.nat(5), fc.string(), (tool, rc, text) =>
        fc.assert(
          fc.property(readArgv(tool), (args) => {
            fc.pre(refusedVerb(tool, args) === undefined);
            const r = runStep(`${tool} "$@"`, { args, stdin: text, exit: rc });
            expect(r.stderr).toBe('');
            expect(r.code).toBe(rc);
            expect(r.invoked(tool)).toEqual({ argv: args, stdin: text });
          }),
          { numRuns: 3 },
        ),
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  const writes: Array<[ReadOnlyTool, string[], string]> = [
    ...KUBECTL_WRITES.map((a): [ReadOnlyTool, string[], string] => ['kubectl', a, refusedVerb('kubectl', a) as string]),
    ...HELM_WRITES.map((a): [ReadOnlyTool, string[], string] => ['helm', a, refusedVerb('helm', a) as string]),
    ...K3S_WRITES.map((a): [ReadOnlyTool, string[], string] => ['k3s', a, refusedVerb('k3s', a) as string]),
    ...CRICTL_WRITES.map((a): [ReadOnlyTool, string[], string] => ['crictl', a, refusedVerb('crictl', a) as string]),
    ...CTR_WRITES.map((a): [ReadOnlyTool, string[], string] => ['ctr', a, refusedVerb('ctr', a) as string]),
  ];
  /** Every way a step can reach a tool that looks it up on PATH. */
  const ROUTES: Array<[string, (cmd: string) => string]> = [
    ['directly', (c) => c],
    ['bash -c', (c) => `bash -c '${c}'`],
    ['sh -c', (c) => `sh -c '${c}'`],
    ['env', (c) => `env A=1 ${c}`],
    ['command', (c) => `command ${c}`],
    ['xargs', (c) => `echo | xargs ${c}`],
    ['timeout', (c) => `timeout 5 ${c}`],
    ['find -exec', (c) => `find . -maxdepth 0 -exec ${c} \\;`],
    ['a reset PATH', (c) => `PATH=${fakeBin}:/usr/bin:/bin ${c}`],
    ['an exported PATH', (c) => `export PATH=${fakeBin}:/usr/bin:/bin; ${c}`],
    ['$(…)', (c) => `x="$(${c})"`],
  ];

  it('writes are refused with exit 3 and a clear message, and the tool never runs, by every route', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...writes),
        fc.constantFrom(...ROUTES),
        fc.boolean(),
        ([tool, args, refused], [name, route], viaStdin) => {
          const words = args.map((a) => spellings(a)[0]).join(' ');
          const r = runStep(route(`${tool} ${words}`), { viaStdin });
          expect(r.stderr, `${route(`${tool} ${words}`)}`).toContain(
            `runbook: check step is read-only: ${refused} refused\n`,
          );
          // find's exit status does not report an -exec … \; that failed; every other route fails the step.
          if (name !== 'find -exec') expect(r.code).not.toBe(0);
          expect(r.invoked(tool)).toBeUndefined();
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('the exit code of a direct refusal is 3', () => {
    const r = runStep('kubectl apply -f x.yaml');
    expect(r.code).toBe(REFUSED_EXIT);
    expect(r.stderr).toBe('runbook: check step is read-only: kubectl apply refused\n');
  });

  it('--dry-run does not make a mutating verb a read', () => {
    const steps = [
      'kubectl --dry-run=server apply -f x',
      'kubectl apply --dry-run=client -f x',
      'helm upgrade x c --dry-run',
    ];
    for (const step of steps) {
      expect(runStep(step).code, step).toBe(REFUSED_EXIT);
    }
  });

  it('the lint verdict and the shim verdict agree on any kubectl/helm/k3s/crictl/ctr line', () => {
    /** Every verb, sub-verb and option the tables name, and some they do not. */
    const words = (tool: ReadOnlyTool) => [
      ...Object.keys(READ_ONLY_VERBS[tool]).filter(Boolean),
      ...Object.values(READ_ONLY_VERBS[tool]).flatMap((r) => {
        const spec = verbSpec(r);
        return [...(spec.subs ?? []), ...(spec.writes ?? []), ...(spec.needs ?? [])];
      }),
      'apply',
      'delete',
      'rollout',
      'install',
      'restart',
      'rm',
      'rmi',
      'x',
    ];
    const arb = fc
      .constantFrom(...READ_ONLY_TOOLS)
      .chain((tool) =>
        fc.tuple(
          fc.constant(tool),
          globals(tool),
          fc.array(
            pick(
              ...words(tool),
              ...words('kubectl'),
              ...words('crictl'),
              ...words('ctr'),
              'status',
              'view',
              '-o',
              'wide',
              '--',
              '-nfoo',
              '--namespace',
              'x',
              '-oout.yaml',
              '--output=o',
              '--output-dir=d',
              '--log-file=/l',
              '--get=false',
              '-i',
            ),
            { maxLength: 6 },
          ),
        ),
      );
    fc.assert(
      fc.property(arb, ([tool, g, rest]) => {
        const args = [...g, ...rest];
        const r = runStep(`${tool} "$@"`, { args });
        const lint = refusedVerb(tool, args);
        expect(r.code === REFUSED_EXIT, `${tool} ${args.join(' ')}: lint says ${lint}, shim: ${r.stderr}`).toBe(
          lint !== undefined,
        );
        if (lint !== undefined) expect(r.stderr).toBe(`runbook: check step is read-only: ${lint} refused\n`);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('k3s crictl and k3s ctr refuse writes with exit 3 and pass reads through unchanged; so do crictl and ctr', () => {
    for (const [step, refused] of [
      ['k3s crictl rmi --prune', 'crictl rmi'],
      ['k3s ctr images rm x', 'ctr images rm'],
      ['crictl rmi --prune', 'crictl rmi'],
      ['ctr -n k8s.io i rm x', 'ctr i rm'],
    ]) {
      const r = runStep(step!);
      expect(r.code, step).toBe(REFUSED_EXIT);
      expect(r.stderr, step).toBe(`runbook: check step is read-only: ${refused} refused\n`);
      expect(r.invoked('k3s') ?? r.invoked('crictl') ?? r.invoked('ctr'), step).toBeUndefined();
    }
    const ps = runStep('k3s crictl ps -a --name "web x"');
    expect(ps.code).toBe(0);
    expect(ps.stderr).toBe('');
    expect(ps.invoked('k3s')?.argv).toEqual(['crictl', 'ps', '-a', '--name', 'web x']);
    const ls = runStep('env A=1 ctr -n k8s.io images ls -q');
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.invoked('ctr')?.argv).toEqual(['-n', 'k8s.io', 'images', 'ls', '-q']);
  });

  it('a read verb given an option that writes a file is refused (kustomize -o, template --output-dir)', () => {
    for (const [step, refused] of [
      ['kubectl kustomize . -o out.yaml', 'kubectl kustomize -o'],
      ['k3s kubectl kustomize --output=out.yaml .', 'kubectl kustomize --output'],
      ['helm template x chart --output-dir out', 'helm template --output-dir'],
      ['kubectl --log-file=/tmp/k.log get pods', 'kubectl --log-file'],
    ]) {
      const r = runStep(step!);
      expect(r.code, step).toBe(REFUSED_EXIT);
      expect(r.stderr).toBe(`runbook: check step is read-only: ${refused} refused\n`);
    }
    expect(runStep('kubectl kustomize overlays/lab').invoked('kubectl')?.argv).toEqual(['kustomize', 'overlays/lab']);
  });

  it('k3s kubectl is held to kubectl’s list; other k3s reads pass', () => {
    expect(runStep('k3s kubectl -n x delete pod y').code).toBe(REFUSED_EXIT);
    const r = runStep('k3s kubectl get nodes -o wide');
    expect(r.code).toBe(0);
    expect(r.invoked('k3s')?.argv).toEqual(['kubectl', 'get', 'nodes', '-o', 'wide']);
    expect(runStep('k3s etcd-snapshot ls').invoked('k3s')?.argv).toEqual(['etcd-snapshot', 'ls']);
  });

  it('gaps the shim cannot close are caught by check-writes instead: an absolute path, env -i', () => {
    const abs = runStep(`${fakeBin}/kubectl apply -f x`);
    expect(abs.invoked('kubectl')?.argv).toEqual(['apply', '-f', 'x']);
    expect(checkDiagnostics('/usr/local/bin/kubectl apply -f x').map((d) => d.rule)).toEqual(['check-writes']);
    expect(checkDiagnostics('env -i kubectl apply -f x').map((d) => d.rule)).toEqual(['check-writes']);
  });

  it('a prelude inside a prelude, or next to a shim directory, does not loop', () => {
    const inner = readOnlyPrelude().replaceAll("'", "'\\''");
    const r = runStep(`bash -c '${inner}kubectl get pods'`);
    expect(r.code).toBe(0);
    expect(r.invoked('kubectl')?.argv).toEqual(['get', 'pods']);
    const { pathPrefix } = createReadOnlyShims(join(root, 'shims'));
    const both = runStep('kubectl get ns; kubectl delete ns x', { path: `${pathPrefix}:${fakeBin}:/usr/bin:/bin` });
    expect(both.code).toBe(REFUSED_EXIT);
    expect(both.invoked('kubectl')?.argv).toEqual(['get', 'ns']);
  });

  it('createReadOnlyShims alone (a shim directory first on PATH) enforces the same', () => {
    const { pathPrefix } = createReadOnlyShims(join(root, 'shims-only'));
    // HOME: bash under node's socket stdio would read ~/.bashrc as if started by sshd.
    const env = { PATH: `${pathPrefix}:${fakeBin}:/usr/bin:/bin`, FAKE_LOG: logs, HOME: root };
    const refused = spawnSync('bash', ['-c', 'xargs helm <<< "uninstall traefik"'], { env, encoding: 'utf8' });
    expect(refused.stderr).toBe('runbook: check step is read-only: helm uninstall refused\n');
    const read = spawnSync('bash', ['-c', 'env helm list -A'], { env, encoding: 'utf8' });
    expect(read.status).toBe(0);
    expect(readFileSync(join(logs, 'helm.argv'), 'utf8').split('\0').slice(0, -1)).toEqual(['list', '-A']);
  });

  it('the prelude keeps the step’s line numbers, leaves nothing behind, and a missing tool is 127', () => {
    const r = runStep('echo "$LINENO:$RUNBOOK_READONLY_DIR"');
    const [line, dir] = r.stdout.trim().split(':');
    expect(line).toBe('1');
    expect(existsSync(dir!)).toBe(false);
    // A PATH with what the prelude needs and no kubectl at all.
    const tools = join(root, 'tools');
    mkdirSync(tools, { recursive: true });
    for (const t of ['bash', 'mktemp', 'chmod', 'ln', 'rm']) {
      const real = spawnSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      if (!existsSync(join(tools, t))) symlinkSync(real, join(tools, t));
    }
    const missing = runStep('kubectl get pods', { path: tools });
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe('runbook: kubectl: command not found\n');
  });
});
