// The rest of a node as the runbooks see it: its network (ip, ping, arping), packages
// (apt-get), firewall (ufw), clock (timedatectl), disk and memory (df, free), reboot,
// and k3s-uninstall.sh. Each acts on the node's twin state; what the twin cannot do is
// refused naming the command. The node's netns has only `lo`, so every answer about the
// LAN comes from the twin's model: one interface eth0 on the node's stand-in address,
// a gateway at .254 of that /24, and the other twin machines as neighbours.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type Node, refuse } from './node.ts';
import { killall, scheduleReboot, stopUnit } from './service.ts';

const sim = '(lab twin simulation)';

function net(node: Node) {
  const addr = node.state.address;
  const prefix = addr.split('.').slice(0, 3).join('.');
  return { addr, gateway: `${prefix}.254`, cidr: `${prefix}.0/24` };
}

function mac(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `52:54:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

/** Addresses that answer on the twin's LAN: this node, the gateway, the other twin machines. */
function answers(node: Node): Map<string, string> {
  const m = new Map<string, string>([
    ['127.0.0.1', 'localhost'],
    [node.state.address, node.name],
    [net(node).gateway, 'gateway'],
  ]);
  for (const [a, n] of Object.entries(node.state.peers ?? {})) m.set(a, n);
  return m;
}

export function ip(node: Node, args: string[], out: (s: string) => void): number {
  const brief = args.includes('-br') || args.includes('-brief') || args.includes('--brief');
  const words = args.filter((a) => !a.startsWith('-'));
  const obj = words[0] ?? '';
  const { addr, gateway, cidr } = net(node);
  const is = (...names: string[]) => names.some((n) => n.startsWith(obj) && obj.length > 0);
  if (is('address', 'addr')) {
    if (words[1] && words[1] !== 'show') refuse(`ip ${args.join(' ')}`, "the twin's network is not configurable");
    if (brief)
      out(
        `lo               UNKNOWN        127.0.0.1/8 ::1/128\neth0             UP             ${addr}/24\nflannel.1        UNKNOWN        10.42.0.0/32\n`,
      );
    else
      out(
        `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n    inet 127.0.0.1/8 scope host lo\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP ${sim}\n    link/ether ${mac(node.name)} brd ff:ff:ff:ff:ff:ff\n    inet ${addr}/24 brd ${cidr.replace('0/24', '255')} scope global eth0\n`,
      );
    return 0;
  }
  if (is('link')) {
    if (words[1] && words[1] !== 'show') refuse(`ip ${args.join(' ')}`, "the twin's network is not configurable");
    if (brief)
      out(
        `lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\neth0             UP             ${mac(node.name)} <BROADCAST,MULTICAST,UP,LOWER_UP>\nflannel.1        UNKNOWN        ${mac(`${node.name}/flannel`)} <BROADCAST,MULTICAST,UP,LOWER_UP>\n`,
      );
    else
      out(
        `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UNKNOWN\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    link/ether ${mac(node.name)} brd ff:ff:ff:ff:ff:ff\n3: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 state UNKNOWN ${sim}\n`,
      );
    return 0;
  }
  if (is('route')) {
    if (words[1] === 'get') {
      const dst = words[2] ?? '';
      if (dst.startsWith('10.42.')) out(`${dst} dev flannel.1 src 10.42.0.0 uid 0\n    cache\n`);
      else if (answers(node).has(dst) || dst.startsWith(cidr.replace('0/24', '')))
        out(`${dst} dev eth0 src ${addr} uid 0\n    cache\n`);
      else out(`${dst} via ${gateway} dev eth0 src ${addr} uid 0\n    cache\n`);
      return 0;
    }
    if (words[1] && words[1] !== 'show' && words[1] !== 'list')
      refuse(`ip ${args.join(' ')}`, "the twin's routes are not configurable");
    const def = `default via ${gateway} dev eth0 proto static\n`;
    if (words.includes('default')) out(def);
    else out(`${def}${cidr} dev eth0 proto kernel scope link src ${addr}\n10.42.0.0/16 dev flannel.1 ${sim}\n`);
    return 0;
  }
  if (is('neighbour', 'neigh')) {
    if (words[1] && words[1] !== 'show')
      refuse(`ip ${args.join(' ')}`, "the twin's neighbour table is not configurable");
    const only = words[2];
    for (const [a, n] of answers(node)) {
      if (a === node.state.address || a.startsWith('127.0.0.')) continue;
      if (only && only !== a) continue;
      out(`${a} dev eth0 lladdr ${mac(n)} REACHABLE\n`);
    }
    return 0;
  }
  refuse(`ip ${args.join(' ')}`.trim(), 'the twin simulates ip address, link, route (show/get) and neigh show');
}

export async function ping(node: Node, args: string[], out: (s: string) => void): Promise<number> {
  let count = 4;
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') count = Number(args[++i] ?? '');
    else if (args[i] === '-W' || args[i] === '-i' || args[i] === '-w' || args[i] === '-I') i++;
    else if (!(args[i] ?? '-').startsWith('-')) pos.push(args[i] ?? '');
  }
  const dst = pos[0];
  if (!dst) {
    process.stderr.write('ping: usage error: Destination address required\n');
    return 2;
  }
  const who = answers(node).get(dst);
  const nasDown = node.fault('nas-unreachable') && who?.toLowerCase().match(/nas|synology/);
  if (!who) {
    process.stderr.write(
      `ping: connect: Network is unreachable (lab twin simulation: ${dst} is not a machine of the twin)\n`,
    );
    return 2;
  }
  out(`PING ${dst} (${dst}) 56(84) bytes of data. ${sim}\n`);
  if (nasDown) {
    out(
      `\n--- ${dst} ping statistics ---\n${count} packets transmitted, 0 received, 100% packet loss (lab twin fault nas-unreachable)\n`,
    );
    return 1;
  }
  for (let i = 1; i <= count; i++) out(`64 bytes from ${dst}: icmp_seq=${i} ttl=64 time=0.0${i} ms\n`);
  out(`\n--- ${dst} ping statistics ---\n${count} packets transmitted, ${count} received, 0% packet loss\n`);
  return 0;
}

export async function arping(node: Node, args: string[], out: (s: string) => void): Promise<number> {
  const iface = args[args.indexOf('-I') + 1];
  if (args.includes('-I') && iface !== 'eth0') {
    process.stderr.write(`arping: ${iface}: No such device\n`);
    return 2;
  }
  const count = args.includes('-c') ? Math.max(1, Number(args[args.indexOf('-c') + 1]) || 1) : 3;
  const target = args[args.length - 1] ?? '';
  const quiet = args.includes('-q');
  // Duplicate address detection (-D): on the twin nobody else claims the node's address.
  if (args.includes('-D')) {
    if (!quiet)
      out(
        `ARPING ${target} from 0.0.0.0 eth0 ${sim}\nSent ${count} probes (${count} broadcast(s))\nReceived 0 response(s)\n`,
      );
    return 0;
  }
  // Who answers ARP for the address (iputils arping): a machine of the twin for its own address, the
  // MetalLB L2 announcer for a LoadBalancer address (the node does not hear its own request).
  const who =
    target === node.state.address ? undefined : (answers(node).get(target) ?? (await announcer(node, target)));
  const replies = who && who !== node.name && who !== 'localhost' ? count : 0;
  if (!quiet) {
    out(`ARPING ${target} from ${node.state.address} eth0 ${sim}\n`);
    for (let i = 0; i < replies; i++)
      out(`Unicast reply from ${target} [${mac(who!).toUpperCase()}]  0.${600 + 37 * i}ms\n`);
    out(`Sent ${count} probes (1 broadcast(s))\nReceived ${replies} response(s)\n`);
  }
  return replies ? 0 : 1;
}

/**
 * The node that announces a LoadBalancer address in MetalLB's layer 2 mode: one node per Service,
 * chosen among the nodes whose speaker is Ready (MetalLB hashes node and Service names; the twin
 * takes the first such node by name, so the answer is steady). Undefined when no Service has it.
 */
async function announcer(node: Node, address: string): Promise<string | undefined> {
  const { kubectl } = await import('./kube.ts');
  const svc = kubectl(node, [
    'get',
    'services',
    '-A',
    '-o',
    'jsonpath={range .items[*]}{.status.loadBalancer.ingress[*].ip}{"\\n"}{end}',
  ]);
  if (svc.status !== 0 || !svc.stdout.split('\n').some((l) => l.split(' ').includes(address))) return undefined;
  const pods = kubectl(node, [
    '-n',
    'metallb-system',
    'get',
    'pods',
    '-l',
    'app.kubernetes.io/component=speaker',
    '-o',
    'jsonpath={range .items[*]}{.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
  ]);
  if (pods.status !== 0) return undefined;
  return pods.stdout
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([n, r]) => n && r === 'True')
    .map(([n]) => n!)
    .sort()[0];
}

export function aptGet(node: Node, args: string[], out: (s: string) => void): number {
  const verb = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '-o')[0];
  switch (verb) {
    case 'update':
      out(`Hit:1 http://archive.ubuntu.com/ubuntu jammy InRelease ${sim}\nReading package lists... Done\n`);
      return 0;
    case 'upgrade':
    case 'dist-upgrade':
    case 'full-upgrade':
      node.state.packagesUpgradedAt = new Date().toISOString();
      node.save();
      out(
        `Reading package lists... Done\nBuilding dependency tree... Done\nCalculating upgrade... Done\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded. ${sim}\n`,
      );
      return 0;
    case 'install': {
      const pkgs = args.slice(args.indexOf('install') + 1).filter((a) => !a.startsWith('-'));
      const known = ['nfs-common', 'curl', 'open-iscsi'];
      const unknown = pkgs.filter((p) => !known.includes(p));
      if (unknown.length)
        refuse(`apt-get install ${unknown.join(' ')}`, `the twin has only ${known.join(', ')} (already installed)`);
      for (const p of pkgs) out(`${p} is already the newest version ${sim}.\n`);
      out('0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n');
      return 0;
    }
    default:
      refuse(
        `apt-get ${verb ?? ''}`.trim(),
        'the twin simulates apt-get update, upgrade, dist-upgrade and install of the packages it has',
      );
  }
}

export function ufw(_node: Node, args: string[], out: (s: string) => void): number {
  if (args[0] === 'status') {
    out(`Status: inactive ${sim}\n`);
    return 0;
  }
  refuse(`ufw ${args.join(' ')}`.trim(), "the twin's firewall is not configurable; only ufw status is simulated");
}

export function timedatectl(_node: Node, args: string[], out: (s: string) => void): number {
  if (args[0] === 'show') {
    const props: Record<string, string> = {
      NTPSynchronized: 'yes',
      NTP: 'yes',
      Timezone: 'Etc/UTC',
      CanNTP: 'yes',
      LocalRTC: 'no',
    };
    const p = args[args.indexOf('-p') + 1];
    const want = args.includes('-p') ? (p ?? '').split(',') : Object.keys(props);
    for (const k of want) out(args.includes('--value') ? `${props[k] ?? ''}\n` : `${k}=${props[k] ?? ''}\n`);
    return 0;
  }
  if (args.length === 0 || args[0] === 'status') {
    out(
      `               Local time: ${new Date().toUTCString()}\n                Time zone: Etc/UTC (UTC, +0000)\nSystem clock synchronized: yes\n              NTP service: active ${sim}\n`,
    );
    return 0;
  }
  refuse(
    `timedatectl ${args.join(' ')}`,
    "the twin's clock is the host's; only timedatectl show and status are simulated",
  );
}

function pressure(node: Node, resource: 'disk' | 'memory'): boolean {
  return node
    .faults()
    .some(
      (f) =>
        (f.node === undefined || f.node === node.name) &&
        (f.kind === `${resource}-pressure` || (f.kind === 'pressure' && (f.resource ?? f.type ?? 'disk') === resource)),
    );
}

export function df(node: Node, args: string[], out: (s: string) => void): number {
  const human = args.some((a) => /^-[a-zA-Z]*h/.test(a));
  const paths = args.filter((a) => !a.startsWith('-'));
  const sizeG = node.state.hardware?.diskGB ?? 50;
  const usedPct = pressure(node, 'disk') ? 97 : 23;
  const used = Math.round((sizeG * usedPct) / 100);
  const fmt = (g: number) => (human ? `${g}G` : String(g * 1024 * 1024));
  out(`Filesystem                         ${human ? 'Size' : '1K-blocks'}  Used Avail Use% Mounted on\n`);
  for (const p of paths.length ? paths : ['/']) {
    out(
      `/dev/mapper/ubuntu--vg-ubuntu--lv  ${fmt(sizeG)}  ${fmt(used)}  ${fmt(sizeG - used)}  ${usedPct}% ${p === '/var/lib/rancher' ? '/' : p}\n`,
    );
  }
  return 0;
}

export function free(node: Node, _args: string[], out: (s: string) => void): number {
  const total = (node.state.hardware?.memoryGiB ?? 8) * 1024;
  const used = Math.round(total * (pressure(node, 'memory') ? 0.96 : 0.35));
  out(
    `               total        used        free      shared  buff/cache   available\nMem:        ${String(total).padStart(8)}    ${String(used).padStart(8)}    ${String(total - used).padStart(8)}           1         300    ${String(total - used).padStart(8)}\nSwap:              0           0           0\n`,
  );
  return 0;
}

export function reboot(node: Node, args: string[], command: string): number {
  if (command === 'shutdown' && !args.includes('-r') && !args.includes('--reboot'))
    refuse(`shutdown ${args.join(' ')}`.trim(), 'a twin node can reboot (shutdown -r) but not power off');
  if (command === 'poweroff' || command === 'halt') refuse(command, 'a twin node can reboot but not power off');
  scheduleReboot(node, command === 'shutdown' && !args.includes('now') ? 60_000 : 0, command);
  return 0;
}

/** k3s-uninstall.sh / k3s-agent-uninstall.sh: what the real script removes, from the node's root. */
export function uninstall(node: Node, args: string[], out: (s: string) => void): number {
  const systemName = args[0] ?? node.unit;
  killall(node, out);
  const unit = systemName === 'k3s' ? 'k3s' : 'k3s-agent';
  stopUnit(node, unit);
  for (const p of [
    `/etc/systemd/system/${unit}.service`,
    `/etc/systemd/system/${unit}.service.env`,
    `/etc/systemd/system/multi-user.target.wants/${unit}.service`,
    '/usr/local/bin/kubectl',
    '/usr/local/bin/crictl',
    '/usr/local/bin/ctr',
    '/etc/rancher/k3s',
    '/var/lib/rancher/k3s',
    '/usr/local/bin/k3s',
    '/usr/local/bin/k3s-killall.sh',
    `/usr/local/bin/${systemName}-uninstall.sh`,
  ]) {
    rmSync(node.root(p), { recursive: true, force: true });
    out(`+ rm -rf ${p}\n`);
  }
  delete node.state.services[unit];
  node.save();
  return 0;
}
