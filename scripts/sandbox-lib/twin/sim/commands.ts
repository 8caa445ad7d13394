// The simulator's ONE command table: every command a twin node answers differently from
// the host, what the twin does for it, and the real paths the twin machine bind-mounts the
// simulator over (empty for the K3s files, which live in the node's own /usr/local/bin,
// written by the install script stand-in and prepareNodeRoot). This table is also the
// documentation: `twin-sim --table` prints it as Markdown.
//
// Loading this module loads no handler: main.ts imports the one a call needs.
import type { Node } from './node.ts';

export interface CommandEntry {
  name: string;
  paths: string[];
  summary: string;
}

export const COMMAND_TABLE: ReadonlyArray<CommandEntry> = [
  {
    name: 'k3s',
    paths: [],
    summary:
      'the installed K3s "binary" (/usr/local/bin/k3s, a stand-in naming its version): --version, kubectl, etcd-snapshot save|ls|prune|delete, token rotate, server --cluster-reset [--cluster-reset-restore-path], certificate check|rotate, secrets-encrypt status; anything else refused',
  },
  {
    name: 'kubectl',
    paths: [],
    summary:
      'symlink to k3s made by the install script (/usr/local/bin/kubectl): the sandbox kubectl with /etc/rancher/k3s/k3s.yaml (https://127.0.0.1:6443 inside the node)',
  },
  { name: 'crictl', paths: [], summary: 'symlink to k3s: refused (the twin runs no containers)' },
  { name: 'ctr', paths: [], summary: 'symlink to k3s: refused (the twin runs no containers)' },
  {
    name: 'k3s-killall.sh',
    paths: [],
    summary: 'written by the install script: stops every k3s unit (the node turns NotReady)',
  },
  {
    name: 'k3s-uninstall.sh',
    paths: [],
    summary:
      'written by the install script (also k3s-agent-uninstall.sh): stops K3s and removes its unit, env file, binary, links, /etc/rancher/k3s and /var/lib/rancher/k3s',
  },
  {
    name: 'systemctl',
    paths: ['/usr/bin/systemctl', '/bin/systemctl'],
    summary:
      "start|stop|restart|try-restart|status|is-active|is-enabled|enable|disable|show [-p …] [--value]|daemon-reload for k3s and k3s-agent (stop → NotReady; start → Ready at the installed binary's version after the ready delay), reboot; other units refused",
  },
  {
    name: 'journalctl',
    paths: ['/usr/bin/journalctl', '/bin/journalctl'],
    summary:
      "-u k3s|k3s-agent [--since …] [-n N] [--no-pager] [-xe]: the unit's log as the simulator wrote it (starts, stops, failures, faults); -f refused",
  },
  {
    name: 'systemd-run',
    paths: ['/usr/bin/systemd-run', '/bin/systemd-run'],
    summary:
      '--on-active=N [--unit=U] systemctl reboot: a reboot N seconds later (k3s down, new boot id, enabled k3s units start again); any other command refused',
  },
  {
    name: 'reboot',
    paths: ['/usr/sbin/reboot', '/sbin/reboot'],
    summary: 'reboots the twin node now (as systemctl reboot)',
  },
  { name: 'shutdown', paths: ['/usr/sbin/shutdown', '/sbin/shutdown'], summary: '-r [now]: reboot; power-off refused' },
  {
    name: 'curl',
    paths: ['/usr/bin/curl'],
    summary:
      'serves https://get.k3s.io (the install script stand-in) and https://github.com/k3s-io/k3s/releases/download/<v>/{sha256sum-amd64.txt,k3s}; -s -S -f -L -o -w; every other URL refused (exit 7) with a message naming the twin',
  },
  {
    name: 'k3s-install',
    paths: [],
    summary:
      'what the served install script runs: INSTALL_K3S_VERSION/EXEC/SKIP_START/SKIP_ENABLE/SKIP_DOWNLOAD/FORCE_RESTART/SYMLINK/TYPE/NAME, K3S_URL/K3S_TOKEN; rewrites the unit and env file, installs the binary at that version, restarts the unit (fault install-fails)',
  },
  {
    name: 'mount',
    paths: ['/usr/bin/mount', '/bin/mount'],
    summary:
      "-t nfs [-o ro] <nas>:<export> <dir>: binds the NAS twin's export dir onto <dir> inside the node's mount namespace (fault nas-unreachable: times out); no arguments: lists mounts; other filesystems refused",
  },
  {
    name: 'mount.nfs',
    paths: ['/usr/sbin/mount.nfs', '/sbin/mount.nfs'],
    summary: '<nas>:<export> <dir> [-o …]: as mount -t nfs (its presence is what `command -v mount.nfs` checks)',
  },
  {
    name: 'umount',
    paths: ['/usr/bin/umount', '/bin/umount'],
    summary: '<dir>: undoes a simulated NFS mount; "not mounted" otherwise',
  },
  {
    name: 'showmount',
    paths: ['/usr/sbin/showmount', '/sbin/showmount'],
    summary: "-e <nas>: the NAS twin's exports (fault nas-unreachable: RPC timed out)",
  },
  {
    name: 'ip',
    paths: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'],
    summary:
      "address|link|route [get]|neigh (show, -br): the twin's model of the node's LAN (eth0 on its stand-in address, gateway .254, the other twin machines as neighbours); changes refused",
  },
  {
    name: 'ping',
    paths: ['/usr/bin/ping', '/bin/ping'],
    summary:
      "replies from the twin's machines (this node, the gateway, the other nodes and devices by stand-in address); anything else: Network is unreachable",
  },
  {
    name: 'arping',
    paths: ['/usr/bin/arping', '/usr/sbin/arping'],
    summary:
      '-D -I eth0 <address>: duplicate address detection finds no other claimant; [-c N] [-w S] -I eth0 <address>: unicast replies with the MAC of the twin machine that has the address, or for a LoadBalancer address of the MetalLB announcer (the first node by name with a Ready speaker; that node itself hears none); else 0 responses, exit 1',
  },
  {
    name: 'apt-get',
    paths: ['/usr/bin/apt-get'],
    summary:
      'update, upgrade, dist-upgrade (nothing to upgrade, recorded), install of nfs-common/curl/open-iscsi (already installed); anything else refused',
  },
  {
    name: 'unattended-upgrade',
    paths: ['/usr/bin/unattended-upgrade', '/usr/bin/unattended-upgrades'],
    summary:
      "[-v] [-d] [--dry-run]: installs the security updates the node's archive offers (libssl3, openssl, a kernel), logs to /var/log/unattended-upgrades/, and for those that ask writes /var/run/reboot-required(.pkgs) (a reboot clears them); Automatic-Reboot \"true\" in apt.conf.d reboots; the lab's apt.conf.d (20auto-upgrades, 50unattended-upgrades, 52unattended-upgrades-local) is the node's own, read by the host's apt-config",
  },
  { name: 'ufw', paths: ['/usr/sbin/ufw'], summary: 'status: inactive; changes refused' },
  {
    name: 'timedatectl',
    paths: ['/usr/bin/timedatectl'],
    summary: 'show [-p NTPSynchronized] [--value], status: the clock is synchronised; changes refused',
  },
  {
    name: 'df',
    paths: ['/usr/bin/df', '/bin/df'],
    summary: "the node's disk from the inventory's hardware facts (97% used under a disk pressure fault)",
  },
  {
    name: 'free',
    paths: ['/usr/bin/free'],
    summary: "the node's memory from the inventory's hardware facts (96% used under a memory pressure fault)",
  },
  { name: 'lsblk', paths: ['/usr/bin/lsblk', '/bin/lsblk'], summary: 'refused: the twin has no block devices' },
  { name: 'growpart', paths: ['/usr/bin/growpart'], summary: 'refused: the twin has no block devices' },
  { name: 'pvresize', paths: ['/usr/sbin/pvresize', '/sbin/pvresize'], summary: 'refused: the twin has no LVM' },
  { name: 'lvextend', paths: ['/usr/sbin/lvextend', '/sbin/lvextend'], summary: 'refused: the twin has no LVM' },
  { name: 'vgs', paths: ['/usr/sbin/vgs', '/sbin/vgs'], summary: 'refused: the twin has no LVM' },
  { name: 'nvidia-smi', paths: ['/usr/bin/nvidia-smi'], summary: 'refused: the twin has no GPU' },
];

export type Handler = (node: Node, args: string[], out: (s: string) => void, name: string) => number | Promise<number>;

/** The handler of each table entry; loaded only when called. */
export async function handlerFor(name: string): Promise<Handler | undefined> {
  const refuseWith =
    (why: string): Handler =>
    async () => {
      const { refuse } = await import('./node.ts');
      return refuse(name, why);
    };
  switch (name) {
    case 'k3s':
      return async (n, a, o) => (await import('./k3s.ts')).k3s(n, a, o);
    case 'kubectl':
      return async (n, a) => (await import('./k3s.ts')).runKubectl(n, a);
    case 'crictl':
    case 'ctr':
      return refuseWith('the twin runs no containers (pods are simulated by kwok); use kubectl');
    case 'k3s-killall':
    case 'k3s-killall.sh':
      return async (n, _a, o) => (await import('./service.ts')).killall(n, o);
    case 'k3s-uninstall':
    case 'k3s-uninstall.sh':
    case 'k3s-agent-uninstall.sh':
      return async (n, a, o) =>
        (await import('./host.ts')).uninstall(n, a.length ? a : [name.replace(/-uninstall\.sh$/, '')], o);
    case 'systemctl':
      return async (n, a, o) => (await import('./service.ts')).systemctl(n, a, o);
    case 'journalctl':
      return async (n, a, o) => (await import('./journal.ts')).journalctl(n, a, o);
    case 'systemd-run':
      return async (n, a, o) => (await import('./service.ts')).systemdRun(n, a, o);
    case 'reboot':
    case 'shutdown':
    case 'poweroff':
    case 'halt':
      return async (n, a, _o, c) => (await import('./host.ts')).reboot(n, a, c);
    case 'curl':
      return async (n, a, o) => (await import('./install.ts')).curl(n, a, o);
    case 'k3s-install':
      return async (n, a) => (await import('./install.ts')).k3sInstall(n, a, process.env);
    case 'mount':
      return async (n, a, o) => (await import('./nfs.ts')).mount(n, a, o);
    case 'mount.nfs':
    case 'mount.nfs4':
      return async (n, a) => {
        const pos = a.filter((x, i) => !x.startsWith('-') && a[i - 1] !== '-o');
        const opts = a.flatMap((x, i) => (a[i - 1] === '-o' ? [x] : []));
        return (await import('./nfs.ts')).mountNfs(n, pos[0] ?? '', pos[1] ?? '', opts);
      };
    case 'umount':
      return async (n, a) => (await import('./nfs.ts')).umount(n, a);
    case 'showmount':
      return async (n, a, o) => (await import('./nfs.ts')).showmount(n, a, o);
    case 'ip':
      return async (n, a, o) => (await import('./host.ts')).ip(n, a, o);
    case 'ping':
      return async (n, a, o) => (await import('./host.ts')).ping(n, a, o);
    case 'arping':
      return async (n, a, o) => (await import('./host.ts')).arping(n, a, o);
    case 'apt-get':
      return async (n, a, o) => (await import('./host.ts')).aptGet(n, a, o);
    case 'unattended-upgrade':
    case 'unattended-upgrades':
      return async (n, a, o) => (await import('./apt.ts')).unattendedUpgrade(n, a, o);
    case 'ufw':
      return async (n, a, o) => (await import('./host.ts')).ufw(n, a, o);
    case 'timedatectl':
      return async (n, a, o) => (await import('./host.ts')).timedatectl(n, a, o);
    case 'df':
      return async (n, a, o) => (await import('./host.ts')).df(n, a, o);
    case 'free':
      return async (n, a, o) => (await import('./host.ts')).free(n, a, o);
    case 'lsblk':
    case 'growpart':
      return refuseWith('the twin has no block devices');
    case 'pvresize':
    case 'lvextend':
    case 'vgs':
      return refuseWith('the twin has no LVM');
    case 'nvidia-smi':
      return refuseWith('the twin has no GPU');
    default:
      return undefined;
  }
}

/** The table as Markdown (for the README / reference docs). */
export function tableMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| command | bind-mounted over | what it does on the twin |',
    '| --- | --- | --- |',
    ...COMMAND_TABLE.map(
      (c) =>
        `| \`${c.name}\` | ${c.paths.length ? c.paths.map((p) => `\`${p}\``).join(', ') : '(node root)'} | ${esc(c.summary)} |`,
    ),
  ].join('\n');
}
