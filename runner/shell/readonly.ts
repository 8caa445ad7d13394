/**
 * What a `check` step may run: read-only verbs of kubectl, helm, k3s, crictl and ctr (an allowlist:
 * a verb not listed, a plugin included, is refused), and commands that write on this machine (a
 * denylist: there is no closed set of harmless commands). The lint rule `check-writes` and the
 * run-time shims (execute/readonly.ts) read the same data, so `check` and `run` refuse the same things.
 *
 * Decisions: `--dry-run` does not make a mutating verb read-only (kubectl's server-side dry run
 * still runs admission webhooks, and a typo such as `--dry-run=none` mutates); `helm repo update`
 * is allowed (it refreshes the local chart index only); `kubectl exec` is allowed, and the command
 * it runs in the container is checked by the lint rule only (no shim can reach into a pod).
 */
import type { Invocation } from './analyse.ts';
import { DESTRUCTIVE } from './destructive.ts';
import { globToRegExp, isGlob } from './glob.ts';
import { parseOptions, type OptionSyntax, type ParsedArgs } from './options.ts';
import { matchesPattern, namesFile, sqlTextsOf, type CommandPattern } from './patterns.ts';
import { withoutComments } from './sql.ts';
import { syntaxOf } from './syntax.ts';
import { literal, type Word } from './words.ts';

export const READ_ONLY_TOOLS = ['kubectl', 'helm', 'k3s', 'crictl', 'ctr'] as const;
export type ReadOnlyTool = (typeof READ_ONLY_TOOLS)[number];

/** How a read verb may be used; every condition given must hold. */
export interface VerbSpec {
  /** Only these sub-verbs (not the verb alone). */
  subs?: readonly string[];
  /** The words after the verb are a line of this tool (`k3s kubectl …`, `k3s crictl …`). */
  tool?: ReadOnlyTool;
  /** Any of these options makes the line a write (`kubectl kustomize -o out.yaml`). */
  writes?: readonly string[];
  /** The line reads only with one of these options (`crictl config --get key`). */
  needs?: readonly string[];
}
/** `true`: any sub-verb; a list: only these sub-verbs; else a VerbSpec. */
export type VerbRule = true | readonly string[] | VerbSpec;

export function verbSpec(rule: VerbRule): VerbSpec {
  if (rule === true) return {};
  return Array.isArray(rule) ? { subs: rule } : (rule as VerbSpec);
}

/** ctr's groups: each reads only through these sub-verbs. */
const CTR_READS = ['ls', 'list', 'info', 'version'];
const ctrGroups = (...names: string[]) => Object.fromEntries(names.map((n) => [n, CTR_READS]));

/** The empty verb is the tool run with options only (`kubectl --help`, `k3s --version`). */
export const READ_ONLY_VERBS: Record<ReadOnlyTool, Record<string, VerbRule>> = {
  kubectl: {
    '': true,
    get: true,
    describe: true,
    logs: true,
    top: true,
    explain: true,
    'api-resources': true,
    'api-versions': true,
    version: true,
    'cluster-info': true,
    events: true,
    diff: true,
    wait: true,
    exec: true,
    'port-forward': true,
    completion: true,
    help: true,
    kustomize: { writes: ['-o', '--output'] },
    options: true,
    auth: ['can-i', 'whoami'],
    config: ['view', 'get-contexts', 'get-clusters', 'get-users', 'current-context'],
    rollout: ['status', 'history'],
    apply: ['view-last-applied'],
    plugin: ['list'],
  },
  helm: {
    '': true,
    get: true,
    list: true,
    ls: true,
    status: true,
    history: true,
    hist: true,
    show: true,
    inspect: true,
    template: { writes: ['--output-dir'] },
    lint: true,
    search: true,
    version: true,
    env: true,
    verify: true,
    completion: true,
    help: true,
    repo: ['list', 'ls', 'update', 'up'],
    dependency: ['list', 'ls'],
    dep: ['list', 'ls'],
    plugin: ['list', 'ls'],
  },
  k3s: {
    '': true,
    kubectl: { tool: 'kubectl' },
    crictl: { tool: 'crictl' },
    ctr: { tool: 'ctr' },
    'check-config': true,
    completion: { writes: ['-i', '--i', '--install'] },
    help: true,
    'etcd-snapshot': ['ls', 'list'],
    token: ['list'],
    certificate: ['check'],
    'secrets-encrypt': ['status'],
  },
  crictl: {
    '': true,
    ps: true,
    pods: true,
    images: true,
    img: true,
    inspect: true,
    inspecti: true,
    inspectp: true,
    logs: true,
    info: true,
    version: true,
    stats: true,
    statsp: true,
    imagefsinfo: true,
    help: true,
    h: true,
    completion: true,
    config: { needs: ['--get', '--list'] },
  },
  ctr: {
    '': true,
    version: true,
    info: true,
    help: true,
    h: true,
    ...ctrGroups(
      'containers',
      'container',
      'c',
      'content',
      'images',
      'image',
      'i',
      'leases',
      'namespaces',
      'namespace',
      'ns',
      'plugins',
      'plugin',
      'snapshots',
      'snapshot',
      'tasks',
      'task',
      't',
      'sandboxes',
      'sandbox',
      'sb',
    ),
  },
};

/** Options that write a file whatever the verb (kubectl's log and profile files). */
export const WRITING_OPTIONS: Record<ReadOnlyTool, readonly string[]> = {
  kubectl: ['--log-file', '--log-dir', '--profile', '--profile-output'],
  helm: [],
  k3s: [],
  crictl: [],
  ctr: [],
};

/**
 * crictl and ctr (urfave/cli, Go flag rules): the global options that take a value, so the verb
 * is found. Kept here rather than in syntax.ts while that file is being changed elsewhere.
 */
const TOOL_SYNTAX: Partial<Record<ReadOnlyTool, OptionSyntax>> = {
  crictl: {
    values: [
      '-c',
      '--config',
      '-i',
      '--image-endpoint',
      '-r',
      '--runtime-endpoint',
      '-t',
      '--timeout',
      '--tracing-endpoint',
      '--tracing-sampling-rate-per-million',
    ],
    style: 'go',
  },
  ctr: { values: ['-a', '--address', '--timeout', '--connect-timeout', '-n', '--namespace'], style: 'go' },
};

/** The tool a command name runs: the name, or one a glob command word (`k3[s]`) matches. */
export function readOnlyToolOf(name: string | undefined): ReadOnlyTool | undefined {
  if (name === undefined) return undefined;
  return READ_ONLY_TOOLS.find((t) => t === name || (isGlob(name) && globToRegExp(name).test(t)));
}

export function readOnlySyntax(tool: ReadOnlyTool): OptionSyntax {
  return TOOL_SYNTAX[tool] ?? syntaxOf(tool);
}

/**
 * The words naming what was refused (`kubectl rollout restart`, `kubectl kustomize -o`), or
 * undefined when the line only reads. With words known only at run time, a verb that cannot be
 * read is `unknown`. The shim (execute/readonly.ts) decides in the same order.
 */
export function refusedVerb(tool: ReadOnlyTool, args: readonly (string | Word)[]): string | undefined | 'unknown' {
  const words = args.map((a) => (typeof a === 'string' ? literal(a, 0) : a));
  const parsed = parseOptions(words, readOnlySyntax(tool));
  const [verbWord, subWord] = parsed.operands;
  if (verbWord && verbWord.value === undefined) return 'unknown';
  const verb = verbWord?.value ?? '';
  const rule = Object.hasOwn(READ_ONLY_VERBS[tool], verb) ? READ_ONLY_VERBS[tool][verb] : undefined;
  if (rule === undefined) return `${tool} ${verb}`;
  const global = firstOption(parsed, WRITING_OPTIONS[tool]);
  if (global) return `${tool} ${global}`;
  const spec = verbSpec(rule);
  if (spec.tool) return refusedVerb(spec.tool, words.slice(words.indexOf(verbWord!) + 1));
  const writes = firstOption(parsed, spec.writes ?? []);
  if (writes) return `${tool} ${verb} ${writes}`;
  if (spec.needs && !firstOption(parsed, spec.needs)) return `${tool} ${verb}`;
  if (!spec.subs) return undefined;
  if (subWord === undefined) return `${tool} ${verb}`;
  if (subWord.value === undefined) return 'unknown';
  return spec.subs.includes(subWord.value) ? undefined : `${tool} ${verb} ${subWord.value}`;
}

/** The first option of the line, in argv order, that is one of `names`. */
function firstOption(parsed: ParsedArgs, names: readonly string[]): string | undefined {
  return parsed.options.find((o) => names.includes(o.name))?.name;
}

/**
 * A write pattern; `writes` tests what a CommandPattern cannot say (a program's text, a signal),
 * given the command the invocation runs (a glob command word resolved).
 */
export interface WritePattern extends CommandPattern {
  writes?: (inv: Invocation, command: string) => boolean;
}

export function matchesWrite(p: WritePattern, inv: Invocation): boolean {
  if (!matchesPattern(p, inv)) return false;
  if (!p.writes) return true;
  const name = inv.name!;
  const command = isGlob(name) ? (p.commands.find((c) => globToRegExp(name).test(c)) ?? name) : name;
  return p.writes(inv, command);
}

const PACKAGE_VERBS = [
  'install',
  'remove',
  'purge',
  'upgrade',
  'dist-upgrade',
  'full-upgrade',
  'autoremove',
  'update',
  'reinstall',
  'clean',
  'autoclean',
  'erase',
  'downgrade',
  'makecache',
  'add',
  'del',
  'fix',
  'refresh',
  'uninstall',
].join('|');
const JS_PACKAGE_VERBS = [
  'install',
  'i',
  'in',
  'isntall',
  'add',
  'ci',
  'uninstall',
  'un',
  'remove',
  'rm',
  'r',
  'unlink',
  'update',
  'up',
  'upgrade',
  'link',
  'ln',
  'prune',
  'dedupe',
  'ddp',
  'rebuild',
  'rb',
  'publish',
  'unpublish',
  'import',
].join('|');

/** The arguments of `inv`, parsed with `syntax` (for commands syntax.ts does not describe). */
const parse = (inv: Invocation, syntax: OptionSyntax) => parseOptions(inv.argv.slice(1), syntax);
const value = (w: Word | undefined) => w?.value ?? w?.text ?? '';

/** Commands that change this machine (or whatever they are pointed at): none may run in a check step. */
export const MUTATING: readonly WritePattern[] = [
  {
    what: 'a file-changing command',
    // rmdir is not here: it removes empty directories only (the scratch dir of a check, made by mktemp -d).
    commands: [
      'cp',
      'mv',
      'rm',
      'mkdir',
      'touch',
      'chmod',
      'chown',
      'chgrp',
      'ln',
      'install',
      'unlink',
      'rsync',
      'scp',
      'patch',
      'chattr',
      'setfacl',
    ],
    example: 'cp a b',
  },
  { what: 'sed -i', commands: ['sed'], anyOption: ['-i', '--in-place'], example: "sed -i 's/a/b/' f" },
  {
    what: 'sed writing a file or running a command (w, W, e, s///w)',
    commands: ['sed', 'gsed'],
    noneOption: ['--sandbox'],
    writes: (inv) => sedScripts(inv).some(sedWrites),
    example: "sed -n 'w /tmp/copy' f",
  },
  { what: 'perl -i', commands: ['perl'], anyOption: ['-i'], example: "perl -pi -e 's/a/b/' f" },
  {
    what: 'awk writing a file or running a command',
    commands: ['awk', 'gawk', 'mawk', 'nawk'],
    writes: (inv) => awkWrites(inv),
    example: `awk '{ print > "/tmp/f" }' in`,
  },
  { what: 'tee to a file', commands: ['tee'], fileOperand: true, example: 'tee out.txt' },
  {
    what: 'curl writing a file',
    commands: ['curl'],
    fileOption: ['-o', '--output'],
    example: 'curl -o f https://example.org',
  },
  {
    what: 'curl writing a file',
    commands: ['curl'],
    anyOption: ['-O', '--remote-name', '--remote-name-all', '-T', '--upload-file'],
    example: 'curl -O https://example.org/f',
  },
  {
    what: 'curl PUT/PATCH/DELETE',
    commands: ['curl'],
    optionValue: { names: ['-X', '--request'], values: ['PUT', 'PATCH', 'DELETE'] },
    example: 'curl -X DELETE https://example.org/x',
  },
  {
    what: 'wget writing a file',
    commands: ['wget'],
    fileOption: ['-O', '--output-document'],
    example: 'wget -O f https://example.org',
  },
  {
    what: 'wget writing a file',
    commands: ['wget'],
    noneOption: ['-O', '--output-document', '--spider'],
    example: 'wget https://example.org/f',
  },
  {
    what: 'tar extracting or writing an archive',
    commands: ['tar', 'bsdtar'],
    writes: (inv) => tarWrites(inv),
    example: 'tar -xzf backup.tgz',
  },
  {
    what: 'unzip extracting',
    commands: ['unzip'],
    minOperands: 1,
    noneOption: ['-l', '-v', '-t', '-p', '-c', '-Z', '-z'],
    example: 'unzip backup.zip',
  },
  {
    what: 'a compressor replacing files',
    commands: [
      'gzip',
      'gunzip',
      'pigz',
      'unpigz',
      'bzip2',
      'bunzip2',
      'xz',
      'unxz',
      'lzma',
      'unlzma',
      'zstd',
      'unzstd',
      'lz4',
      'unlz4',
    ],
    fileOperand: true,
    noneOption: ['-c', '--stdout', '--to-stdout', '-t', '--test', '-l', '--list'],
    example: 'gzip backup.sql',
  },
  { what: 'zstd -o', commands: ['zstd', 'unzstd'], anyOption: ['-o'], example: 'zstd -d x.zst -o x' },
  {
    what: 'openssl writing a file',
    commands: ['openssl'],
    writes: (inv) => opensslWrites(inv),
    example: 'openssl genrsa -out key.pem 2048',
  },
  {
    what: 'a signal to a process',
    commands: ['kill', 'pkill', 'killall'],
    writes: signalsProcesses,
    example: 'kill -HUP 1',
  },
  ...DESTRUCTIVE.filter((p) => p.sql).map(
    (p): WritePattern => ({
      what: 'SQL that writes (DML/DDL)',
      commands: p.commands,
      writes: (inv, command) => sqlTextsOf(p.sql!, inv, command).some(sqlWrites),
      example: `${p.commands[0]} ${p.sql!.options ? `${p.sql!.options[0]} ` : 'app.db '}"UPDATE t SET a = 1"`,
    }),
  ),
  {
    what: 'a package manager change',
    commands: ['apt', 'apt-get', 'aptitude', 'dnf', 'yum', 'zypper', 'apk', 'snap', 'pip', 'pip3'],
    verbs: [PACKAGE_VERBS],
    example: 'apt-get install -y jq',
  },
  {
    what: 'a package manager change',
    commands: ['npm', 'yarn', 'pnpm', 'bun'],
    verbs: [JS_PACKAGE_VERBS, `global ${JS_PACKAGE_VERBS}`],
    example: 'npm install -g x',
  },
  {
    what: 'dpkg install/remove',
    commands: ['dpkg'],
    anyOption: ['-i', '--install', '-r', '--remove', '-P', '--purge', '--configure', '--unpack'],
    example: 'dpkg -i x.deb',
  },
  {
    what: 'systemctl changing a unit',
    commands: ['systemctl'],
    verbs: [
      'start|restart|reload|try-restart|reload-or-restart|try-reload-or-restart|enable|reenable|unmask|daemon-reload|' +
        'daemon-reexec|set-property|edit|preset|preset-all|link|revert|reset-failed|set-default|set-environment|' +
        'unset-environment|import-environment|freeze|thaw|clean|bind|mount-image|default|exit|switch-root|' +
        'add-wants|add-requires',
    ],
    example: 'systemctl restart k3s',
  },
  {
    what: 'a service start/stop',
    commands: ['service', 'rc-service', 'invoke-rc.d'],
    verbs: ['* start|stop|restart|reload|force-reload|try-restart|condrestart|zap|pause|resume'],
    example: 'service k3s restart',
  },
  {
    what: 'journalctl vacuum/rotate',
    commands: ['journalctl'],
    anyOption: [
      '--vacuum-size',
      '--vacuum-time',
      '--vacuum-files',
      '--rotate',
      '--flush',
      '--sync',
      '--relinquish-var',
      '--setup-keys',
      '--update-catalog',
    ],
    example: 'journalctl --vacuum-time=2d',
  },
  // umount is allowed in a step that mounts read-only itself (its own clean-up): see rules/readonly.ts.
  { what: 'umount', commands: ['umount'], example: 'umount /mnt/data' },
  { what: 'a kernel or swap change', commands: ['swapoff', 'rmmod', 'insmod'], example: 'swapoff -a' },
  {
    what: 'a kernel module change',
    commands: ['modprobe'],
    noneOption: ['-n', '--dry-run', '-c', '--showconfig', '--show-config'],
    example: 'modprobe br_netfilter',
  },
  {
    what: 'a writable mount',
    commands: ['mount'],
    minOperands: 1,
    noneOption: ['-r', '--read-only'],
    noneOptionValue: { names: ['-o', '--options'], values: ['ro'] },
    example: 'mount /dev/sdb1 /mnt',
  },
  { what: 'a writable mount', commands: ['mount'], anyOption: ['-a', '--all'], example: 'mount -a' },
  { what: 'swapon', commands: ['swapon'], minOperands: 1, example: 'swapon /swapfile' },
  { what: 'swapon', commands: ['swapon'], anyOption: ['-a', '--all'], example: 'swapon -a' },
  {
    what: 'sysctl -w',
    commands: ['sysctl'],
    anyOption: ['-w', '--write', '-p', '--load', '--system'],
    example: 'sysctl -w vm.swappiness=10',
  },
  {
    what: 'firewall change',
    commands: ['iptables', 'ip6tables'],
    anyOption: [
      '-A',
      '--append',
      '-I',
      '--insert',
      '-D',
      '--delete',
      '-R',
      '--replace',
      '-F',
      '--flush',
      '-X',
      '--delete-chain',
      '-P',
      '--policy',
      '-N',
      '--new-chain',
      '-Z',
      '--zero',
      '-E',
      '--rename-chain',
    ],
    example: 'iptables -F',
  },
  { what: 'firewall change', commands: ['iptables-restore', 'ip6tables-restore'], example: 'iptables-restore < rules' },
  {
    what: 'firewall change',
    commands: ['ufw'],
    verbs: ['enable|disable|reset|reload|allow|deny|reject|limit|delete|insert|prepend|route|default|logging'],
    example: 'ufw allow 6443/tcp',
  },
  {
    what: 'firewall change',
    commands: ['nft'],
    verbs: ['add|delete|flush|create|insert|replace|reset|destroy|rename'],
    example: 'nft flush ruleset',
  },
  { what: 'firewall change', commands: ['nft'], anyOption: ['-f', '--file'], example: 'nft -f rules.nft' },
  {
    what: 'ip link/addr/route change',
    commands: ['ip'],
    verbs: ['* add|del|delete|set|flush|change|replace|append|prepend|restore'],
    example: 'ip link set eth0 down',
  },
  {
    what: 'a system setting',
    commands: ['hostnamectl', 'timedatectl', 'localectl'],
    verbs: ['set-*'],
    example: 'hostnamectl set-hostname x',
  },
  {
    what: 'a user or group change',
    commands: ['useradd', 'usermod', 'userdel', 'groupadd', 'groupmod', 'groupdel', 'passwd', 'chpasswd', 'gpasswd'],
    example: 'useradd x',
  },
  { what: 'crontab change', commands: ['crontab'], anyOption: ['-r', '-e', '-i'], example: 'crontab -r' },
  { what: 'crontab change', commands: ['crontab'], minOperands: 1, example: 'crontab jobs.txt' },
  {
    what: 'git changing a repository',
    commands: ['git'],
    verbs: [
      'add|commit|push|pull|merge|rebase|reset|checkout|switch|restore|clean|stash|tag|fetch|rm|mv|cherry-pick|revert|' +
        'am|apply|init|clone|gc|prune',
    ],
    example: 'git pull',
  },
  {
    what: 'velero change',
    commands: ['velero'],
    verbs: [
      '* create|delete|patch|set|add|remove|pause|unpause|download',
      'create|delete|install|uninstall|patch|set|add|remove *',
      'install|uninstall',
    ],
    example: 'velero backup create x',
  },
];

// ------------------------------------------------------------------------------------------------
// Program texts. Hand-written: no maintained parser for sed or awk programs exists on npm, and only
// the few constructs that write need finding (a false alarm is a check the author rewrites).

const SED_SYNTAX = syntaxOf('sed');

/** The scripts sed runs: every -e, or the first operand; a script file (-f) cannot be read here. */
function sedScripts(inv: Invocation): string[] {
  const parsed = parse(inv, SED_SYNTAX);
  const scripts = parsed.options.filter((o) => o.name === '-e' || o.name === '--expression').map((o) => value(o.value));
  if (scripts.length || parsed.has('-f', '--file')) return scripts;
  return parsed.operands.length ? [value(parsed.operands[0])] : [];
}

/** Whether a sed script has a `w`/`W` command, an `s///w` flag (to a real file), or `e` (runs a command). */
export function sedWrites(script: string): boolean {
  let i = 0;
  const s = script;
  const restOfLine = () => {
    const end = s.indexOf('\n', i);
    const text = s.slice(i, end < 0 ? s.length : end).trim();
    i = end < 0 ? s.length : end;
    return text;
  };
  const writesTo = (file: string) => !['/dev/stdout', '/dev/stderr'].includes(file);
  /** Skips a delimited part (`/re/`, `s/a/b/`), honouring backslash escapes. */
  const skipDelimited = (delim: string, parts: number) => {
    for (let n = 0; n < parts && i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === delim) n++;
    }
  };
  while (i < s.length) {
    const c = s[i]!;
    if (/[\s;{}!,]/.test(c) || /[\d$~+]/.test(c)) {
      i++;
      continue;
    }
    if (c === '/') {
      i++;
      skipDelimited('/', 1);
      while (/[IM]/.test(s[i] ?? '')) i++;
      continue;
    }
    if (c === '\\') {
      const d = s[i + 1] ?? '';
      i += 2;
      skipDelimited(d, 1);
      continue;
    }
    i++;
    if (c === '#' || c === ':' || 'aicrRbtT'.includes(c)) {
      if ('bt:T'.includes(c)) {
        // A label ends at a newline or (GNU) a semicolon.
        while (i < s.length && !/[\n;]/.test(s[i]!)) i++;
      } else restOfLine();
      continue;
    }
    if (c === 'w' || c === 'W') {
      if (writesTo(restOfLine())) return true;
      continue;
    }
    if (c === 'e') return true;
    if (c === 's' || c === 'y') {
      const d = s[i] ?? '';
      i++;
      skipDelimited(d, 2);
      if (c === 'y') continue;
      while (i < s.length && /[gpiImMe\d w]/.test(s[i]!) && s[i] !== '\n') {
        const f = s[i++]!;
        if (f === 'e') return true;
        if (f === 'w') {
          if (writesTo(restOfLine())) return true;
          break;
        }
        if (f === ' ') break;
      }
    }
  }
  return false;
}

const AWK_SYNTAX: OptionSyntax = {
  values: [
    '-F',
    '--field-separator',
    '-v',
    '--assign',
    '-f',
    '--file',
    '-e',
    '--source',
    '-i',
    '--include',
    '-l',
    '--load',
    '-E',
    '--exec',
    '-W',
  ],
};

function awkWrites(inv: Invocation): boolean {
  const parsed = parse(inv, AWK_SYNTAX);
  // gawk -i inplace edits its input files.
  if (parsed.options.some((o) => ['-i', '--include'].includes(o.name) && /^inplace(\.awk)?$/.test(value(o.value)))) {
    return true;
  }
  const sources = parsed.options.filter((o) => o.name === '-e' || o.name === '--source').map((o) => value(o.value));
  if (!sources.length && !parsed.has('-f', '--file', '-E', '--exec') && parsed.operands[0]) {
    sources.push(value(parsed.operands[0]));
  }
  return sources.some(awkProgramWrites);
}

/**
 * Whether an awk program redirects print/printf (`> file`, `>> file`, `| cmd`, `|& cmd`), reads
 * from a command (`cmd | getline`) or calls system(). Strings and comments are blanked first; a
 * `>` inside parentheses is a comparison.
 */
export function awkProgramWrites(program: string): boolean {
  const code = program
    .replace(/"(?:[^"\\\n]|\\.)*"/g, (m) => (/^"\/dev\/std(?:out|err)"$/.test(m) ? m : '""'))
    .replace(/#[^\n]*/g, '');
  if (/\bsystem\s*\(/.test(code) || /\|&?\s*getline\b/.test(code)) return true;
  for (const m of code.matchAll(/\bprintf?\b/g)) {
    let depth = 0;
    for (let i = m.index + m[0].length; i < code.length; i++) {
      const c = code[i]!;
      if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (depth <= 0 && /[;}\n]/.test(c)) break;
      else if (depth <= 0 && c === '>') {
        if (!/^>>?\s*"\/dev\/std(?:out|err)"/.test(code.slice(i))) return true;
        break;
      } else if (depth <= 0 && c === '|' && code[i + 1] !== '|' && code[i - 1] !== '|') return true;
      if (depth < 0) break;
    }
  }
  return false;
}

const TAR_SYNTAX: OptionSyntax = {
  values: [
    '-f',
    '--file',
    '-C',
    '--directory',
    '-T',
    '--files-from',
    '-X',
    '--exclude-from',
    '-b',
    '--blocking-factor',
    '-H',
    '--format',
    '-V',
    '--label',
    '-g',
    '--listed-incremental',
    '-N',
    '--newer',
    '--exclude',
    '--transform',
    '--owner',
    '--group',
    '--mode',
    '-I',
    '--use-compress-program',
    '-K',
    '--starting-file',
    '-L',
    '--tape-length',
    '--strip-components',
  ],
  longs: [
    '--extract',
    '--get',
    '--create',
    '--append',
    '--update',
    '--catenate',
    '--concatenate',
    '--delete',
    '--to-stdout',
    '--list',
    '--file',
    '--directory',
  ],
};

/** tar -x writes the members (unless -O); -c/-r/-u/-A/--delete write the archive named by -f. */
function tarWrites(inv: Invocation): boolean {
  const args = inv.argv.slice(1);
  // The old style `tar xzf a.tgz`: a first word without a dash is a cluster of options.
  const first = args[0]?.value;
  if (first !== undefined && first !== '' && !first.startsWith('-')) args[0] = { ...args[0]!, value: `-${first}` };
  const parsed = parseOptions(args, TAR_SYNTAX);
  if (parsed.has('-x', '--extract', '--get')) return !parsed.has('-O', '--to-stdout');
  if (
    !parsed.has('-c', '--create', '-r', '--append', '-u', '--update', '-A', '--catenate', '--concatenate', '--delete')
  )
    return false;
  return parsed.has('-f', '--file') && namesFile(parsed.valueOf('-f', '--file'));
}

/** openssl's options that write a file (its options are single-dash words: getopt cannot read them). */
const OPENSSL_FILE_OPTIONS = ['-out', '-keyout', '-outdir', '-writerand', '-sess_out', '-keylogfile', '-msgfile'];

function opensslWrites(inv: Invocation): boolean {
  const args = inv.argv.slice(1);
  return args.some(
    (w, i) =>
      w.value === '-CAcreateserial' ||
      (OPENSSL_FILE_OPTIONS.includes(w.value ?? '') && (i + 1 >= args.length || namesFile(args[i + 1]))),
  );
}

/**
 * kill/pkill/killall send a signal unless it is 0 (a liveness test), they only list signals, or
 * they name no process (a usage error).
 */
function signalsProcesses(inv: Invocation, command: string): boolean {
  const kill = command === 'kill';
  const args = inv.argv.slice(1);
  const lists =
    command === 'pkill'
      ? ['-V', '--version', '-h', '--help']
      : ['-l', '-L', '--list', '--table', '-V', '--version', '-h', '--help', '-p', '--pid'];
  // pkill's -s is a session id, not a signal.
  const signalOptions = command === 'pkill' ? ['--signal'] : ['--signal', '-s', '-n'];
  let signal: string | undefined = 'TERM';
  const sends = () => !/^(SIG)?0+$/i.test(signal!);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.value;
    if (a === undefined) return args[i]!.text.startsWith('-') || sends();
    if (a === '--' || a === '-' || !a.startsWith('-')) return sends();
    if (lists.includes(a) || (kill && a.startsWith('-l'))) return false;
    if (signalOptions.includes(a)) signal = args[++i]?.value;
    else if (a.startsWith('--signal=')) signal = a.slice('--signal='.length);
    else if (kill || /^-(?:\d+|(?:SIG)?[A-Z][A-Z0-9+-]*)$/.test(a)) signal = a.slice(1);
    if (signal === undefined) return true;
  }
  return false;
}

/** SQL a client runs, from the options and operands its destructive pattern names, or its stdin. */
const SQL_WRITE_VERBS = [
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'UPSERT',
  'REPLACE',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'GRANT',
  'REVOKE',
  'VACUUM',
  'REINDEX',
  'CLUSTER',
  'COMMENT',
  'CALL',
  'DO',
  'RENAME',
  'REFRESH',
  'IMPORT',
  'LOAD',
  'RESTORE',
  'COPY\\s+[\\w."]+(?:\\s*\\([^)]*\\))?\\s+FROM',
].join('|');
/** A statement's start: EXPLAIN ANALYZE and a WITH clause run the statement they precede. */
const SQL_PREFIX = '(?:EXPLAIN\\s+(?:\\([^)]*\\)\\s*)?ANALY[SZ]E\\s+)?(?:WITH\\b[\\s\\S]*\\)\\s*)?';
const SQL_STATEMENT_WRITES = new RegExp(`^${SQL_PREFIX}(?:${SQL_WRITE_VERBS})(?![\\w.])`, 'i');

/**
 * Whether SQL (or a client's meta-commands) changes data or schema: a statement starting with a
 * writing verb, a data-changing CTE, COPY … FROM, INTO OUTFILE, psql's \copy … from, sqlite's
 * .import/.restore. Strings are blanked and comments removed in both orders (as sql.ts does for
 * DROP: a quote in a comment, or `--` in a string, must not hide a write), so `alter/**\/table`
 * counts and `SELECT 'x; delete'` does not.
 */
export function sqlWrites(sql: string): boolean {
  return statementsWrite(withoutComments(blankStrings(sql))) || statementsWrite(blankStrings(withoutComments(sql)));
}

const blankStrings = (sql: string) => sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, "''");

function statementsWrite(code: string): boolean {
  if (/\(\s*(?:INSERT|UPDATE|DELETE|MERGE)\s/i.test(code) || /\bINTO\s+(?:OUTFILE|DUMPFILE)\b/i.test(code)) return true;
  if (/^\s*(?:\\copy\b[^\n]*\bfrom\b|\.(?:import|restore|save|backup|output|once)\b)/im.test(code)) return true;
  // A meta-command line (psql's \c, sqlite's .tables) ends a statement as `;` does.
  const statements = code.replace(/^\s*[\\.][^\n]*$/gm, ';').split(';');
  return statements.some((statement) => SQL_STATEMENT_WRITES.test(statement.trim()));
}
