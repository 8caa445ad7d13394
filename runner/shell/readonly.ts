/**
 * What a `check` step may run: read-only verbs of kubectl, helm and k3s (an allowlist: a verb not
 * listed, a plugin included, is refused), and commands that write on this machine (a denylist:
 * there is no closed set of harmless commands). The lint rule `check-writes` and the run-time
 * shims (execute/readonly.ts) read the same data, so `check` and `run` refuse the same things.
 *
 * Decisions: `--dry-run` does not make a mutating verb read-only (kubectl's server-side dry run
 * still runs admission webhooks, and a typo such as `--dry-run=none` mutates); `helm repo update`
 * is allowed (it refreshes the local chart index only); `kubectl exec` is allowed, and the command
 * it runs in the container is checked by the lint rule only (no shim can reach into a pod).
 */
import { parseOptions } from './options.ts';
import type { CommandPattern } from './patterns.ts';
import { syntaxOf } from './syntax.ts';
import { literal, type Word } from './words.ts';

/** `true`: any sub-verb; a list: only these sub-verbs (not the verb alone); `kubectl`: a kubectl line follows. */
export type VerbRule = true | readonly string[] | 'kubectl';

export const READ_ONLY_TOOLS = ['kubectl', 'helm', 'k3s'] as const;
export type ReadOnlyTool = (typeof READ_ONLY_TOOLS)[number];

/** The empty verb is the tool run with options only (`kubectl --help`, `k3s --version`). */
export const READ_ONLY_VERBS: Record<ReadOnlyTool, Record<string, VerbRule>> = {
  kubectl: {
    '': true, get: true, describe: true, logs: true, top: true, explain: true, 'api-resources': true,
    'api-versions': true, version: true, 'cluster-info': true, events: true, diff: true, wait: true,
    exec: true, 'port-forward': true, completion: true, help: true, kustomize: true, options: true,
    auth: ['can-i', 'whoami'], config: ['view', 'get-contexts', 'get-clusters', 'get-users', 'current-context'],
    rollout: ['status', 'history'], apply: ['view-last-applied'], plugin: ['list'],
  },
  helm: {
    '': true, get: true, list: true, ls: true, status: true, history: true, hist: true, show: true, inspect: true,
    template: true, lint: true, search: true, version: true, env: true, verify: true, completion: true, help: true,
    repo: ['list', 'ls', 'update', 'up'], dependency: ['list', 'ls'], dep: ['list', 'ls'], plugin: ['list', 'ls'],
  },
  k3s: {
    '': true, kubectl: 'kubectl', crictl: true, ctr: true, 'check-config': true, completion: true, help: true,
    'etcd-snapshot': ['ls', 'list'], token: ['list'], certificate: ['check'], 'secrets-encrypt': ['status'],
  },
};

/**
 * The words naming what was refused (`kubectl rollout restart`), or undefined when the line only
 * reads. With words known only at run time, a verb that cannot be read is `unknown`.
 */
export function refusedVerb(tool: ReadOnlyTool, args: readonly (string | Word)[]): string | undefined | 'unknown' {
  const words = args.map((a) => (typeof a === 'string' ? literal(a, 0) : a));
  const [verbWord, subWord] = parseOptions(words, syntaxOf(tool)).operands;
  if (verbWord && verbWord.value === undefined) return 'unknown';
  const verb = verbWord?.value ?? '';
  const rule = Object.hasOwn(READ_ONLY_VERBS[tool], verb) ? READ_ONLY_VERBS[tool][verb] : undefined;
  if (rule === undefined) return `${tool} ${verb}`;
  if (rule === 'kubectl') return refusedVerb('kubectl', words.slice(words.indexOf(verbWord!) + 1));
  if (rule === true) return undefined;
  if (subWord === undefined) return `${tool} ${verb}`;
  if (subWord.value === undefined) return 'unknown';
  return rule.includes(subWord.value) ? undefined : `${tool} ${verb} ${subWord.value}`;
}

const PACKAGE_VERBS = [
  'install', 'remove', 'purge', 'upgrade', 'dist-upgrade', 'full-upgrade', 'autoremove', 'update', 'reinstall', 'clean',
  'autoclean', 'erase', 'downgrade', 'makecache', 'add', 'del', 'fix', 'refresh', 'uninstall',
].join('|');

/** Commands that change this machine (or whatever they are pointed at): none may run in a check step. */
export const MUTATING: readonly CommandPattern[] = [
  {
    what: 'a file-changing command',
    // rmdir is not here: it removes empty directories only (the scratch dir of a check, made by mktemp -d).
    commands: [
      'cp', 'mv', 'rm', 'mkdir', 'touch', 'chmod', 'chown', 'chgrp', 'ln', 'install', 'unlink', 'rsync', 'scp',
      'patch', 'chattr', 'setfacl',
    ],
    example: 'cp a b',
  },
  { what: 'sed -i', commands: ['sed'], anyOption: ['-i', '--in-place'], example: "sed -i 's/a/b/' f" },
  { what: 'perl -i', commands: ['perl'], anyOption: ['-i'], example: "perl -pi -e 's/a/b/' f" },
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
    what: 'a package manager change',
    commands: ['apt', 'apt-get', 'aptitude', 'dnf', 'yum', 'zypper', 'apk', 'snap', 'pip', 'pip3'],
    verbs: [PACKAGE_VERBS],
    example: 'apt-get install -y jq',
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
      'start|restart|reload|try-restart|reload-or-restart|try-reload-or-restart|enable|reenable|unmask|daemon-reload|'
        + 'daemon-reexec|set-property|edit|preset|preset-all|link|revert|reset-failed|set-default|set-environment|'
        + 'unset-environment|import-environment|freeze|thaw|clean|bind|mount-image|default|exit|switch-root|'
        + 'add-wants|add-requires',
    ],
    example: 'systemctl restart k3s',
  },
  {
    what: 'journalctl vacuum/rotate',
    commands: ['journalctl'],
    anyOption: [
      '--vacuum-size', '--vacuum-time', '--vacuum-files', '--rotate', '--flush', '--sync', '--relinquish-var',
      '--setup-keys', '--update-catalog',
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
      '-A', '--append', '-I', '--insert', '-D', '--delete', '-R', '--replace', '-F', '--flush', '-X',
      '--delete-chain', '-P', '--policy', '-N', '--new-chain', '-Z', '--zero', '-E', '--rename-chain',
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
      'add|commit|push|pull|merge|rebase|reset|checkout|switch|restore|clean|stash|tag|fetch|rm|mv|cherry-pick|revert|'
        + 'am|apply|init|clone|gc|prune',
    ],
    example: 'git pull',
  },
  {
    what: 'velero change',
    commands: ['velero'],
    verbs: [
      '* create|delete|patch|set|add|remove|pause|unpause|download',
      'create|delete|install|uninstall|patch|set|add|remove *', 'install|uninstall',
    ],
    example: 'velero backup create x',
  },
  {
    what: 'container change',
    commands: ['crictl'],
    verbs: ['rm|rmi|rmp|stop|stopp|runp|create|start|pull|update'],
    example: 'crictl rmi --prune',
  },
];
