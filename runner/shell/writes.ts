import type { Invocation } from './analyse.ts';
import { DESTRUCTIVE } from './destructive.ts';
import { globToRegExp, isGlob } from './glob.ts';
import { matchesPattern, sqlTextsOf, type CommandPattern } from './patterns.ts';
import { sqlWrites } from './sql.ts';
import { awkWrites, opensslWrites, sedScripts, sedWrites, signalsProcesses, tarWrites } from './write-programs.ts';

/**
 * Commands that write on this machine or on what they are pointed at: the denylist a `check` step is
 * held to. Over 300 lines because it is one table (MUTATING), kept whole so that a review of what a
 * check may not do reads one list; the program-text detectors it calls are in ./write-programs.ts.
 */

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
