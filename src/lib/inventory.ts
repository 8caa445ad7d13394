import { loadInventory } from '../../runner/inventory/load.ts';
import { selectNodes } from '../../runner/inventory/select.ts';
import type { Inventory, InventoryNode } from '../../runner/inventory/schema.ts';

/**
 * The lab inventory as the site sees it: the same file and loader the runner
 * uses, read once per build (pages render hundreds of ForEach groups).
 */
let cached: Inventory | undefined;

export function inventory(): Inventory {
  cached ??= loadInventory().inventory;
  return cached;
}

/** Nodes a selector (`role:agent`, `a,b`) resolves to, or the selector's problem. */
export function nodesFor(
  selector: string,
): { nodes: InventoryNode[]; error?: undefined } | { nodes: []; error: string } {
  const result = selectNodes(inventory(), selector);
  return 'error' in result ? { nodes: [], error: result.error } : { nodes: result.nodes };
}

/** A Mermaid label: no characters that end a quoted label, newlines as line breaks. */
const label = (...lines: string[]) =>
  `"${lines
    .filter(Boolean)
    .join('<br/>')
    .replace(/["[\]{}|]/g, '')}"`;
const lastOctet = (address: string) => `.${address.split('.').at(-1)}`;
/** The first words of a description: "NFS storage (Synology DS920+, …)" → "NFS storage". */
const short = (text: string) => text.replace(/\s*\(.*$/, '');

/**
 * The network diagram drawn from the inventory: the LAN with every node and
 * device at its address, the cluster's pod and service ranges, the MetalLB
 * pool, and the Tailscale subnet route of any device whose role says so.
 */
export function networkDiagram(inv: Inventory = inventory()): string {
  const net = inv.cluster.network ?? {};
  const router = (inv.devices ?? []).find((d) => d.address === net.gateway);
  const gateway = net.gateway ? ` · gateway ${lastOctet(net.gateway)}${router ? ` ${router.name}` : ''}` : '';
  const lines = ['flowchart LR', `  subgraph lan [${label(`LAN ${net.subnet ?? ''}${gateway}`)}]`, '    direction TB'];
  // One line per box, nodes first, then every other address in numeric order: the plan at a glance.
  lines.push(
    ...inv.nodes.map((n, i) => `    n${i}[${label(`${lastOctet(n.address)} ${n.name} · ${n.roles.join(', ')}`)}]`),
  );
  const devices = (inv.devices ?? [])
    .filter((d) => d.address !== net.gateway)
    .sort((a, b) => Number(a.address.split('.').at(-1)) - Number(b.address.split('.').at(-1)));
  lines.push(...devices.map((d, i) => `    d${i}[${label(`${lastOctet(d.address)} ${d.name} · ${short(d.role)}`)}]`));
  const pool = net.metallbPool?.split('-').map(lastOctet).join('–');
  if (pool) lines.push(`    pool[[${label(`${pool} MetalLB pool`)}]]`);
  lines.push('  end');
  if (net.podCidr || net.serviceCidr) {
    lines.push(`  subgraph cluster [${label(`inside cluster ${inv.cluster.name}`)}]`);
    if (net.podCidr) lines.push(`    pods[${label(`Pods ${net.podCidr}`)}]`);
    if (net.serviceCidr) lines.push(`    svcs[${label(`Services ${net.serviceCidr}`)}]`);
    lines.push('  end');
    if (net.podCidr) lines.push(`  ${inv.nodes.map((_, i) => `n${i}`).join(' & ')} --- pods`);
    if (net.podCidr && net.serviceCidr) lines.push('  pods --- svcs');
    if (net.serviceCidr && pool) lines.push('  svcs -- LoadBalancer --> pool');
  }
  const routers = devices.flatMap((d, i) => (/tailscale/i.test(d.role) ? [`d${i}`] : []));
  if (routers.length > 0)
    lines.push('  tailnet([Tailnet])', ...routers.map((r) => `  ${r} == subnet route ==> tailnet`));
  return lines.join('\n');
}

/** "NFS storage (Synology DS920+, RAID1)" → ["NFS storage", "Synology DS920+, RAID1"]. */
const roleLines = (role: string) => [short(role), /\((.*)\)/.exec(role)?.[1] ?? ''];

/**
 * The physical topology drawn from the inventory: the router, the LAN, each VM
 * host with the nodes it runs (grouped by `hardware.host`, labelled by the
 * matching device), the other devices, and the Tailscale route in.
 */
export function topologyDiagram(inv: Inventory = inventory()): string {
  const net = inv.cluster.network ?? {};
  const devices = inv.devices ?? [];
  const gateway = devices.find((d) => d.address === net.gateway);
  const lines = ['flowchart TB', '  internet((Internet))'];
  if (gateway)
    lines.push(
      `  router[${label(gateway.name, ...roleLines(gateway.role), gateway.address)}]`,
      '  internet --- router',
    );
  lines.push(`  lan{{${label(`LAN ${net.subnet ?? ''}`)}}}`, gateway ? '  router --- lan' : '  internet --- lan');
  const hosts = new Map<string, number[]>();
  inv.nodes.forEach((n, i) => {
    const host = String(n.hardware?.host ?? '');
    hosts.set(host, [...(hosts.get(host) ?? []), i]);
  });
  const hostDevices = new Set<string>();
  [...hosts].forEach(([host, members], h) => {
    const device = host ? devices.find((d) => host === d.name || host.startsWith(`${d.name} `)) : undefined;
    if (device) hostDevices.add(device.name);
    const title = device
      ? label(`${device.name} · ${short(device.role)}`, roleLines(device.role)[1]!)
      : label(host || 'nodes');
    lines.push(`  subgraph h${h} [${title}]`);
    for (const i of members) {
      const n = inv.nodes[i]!;
      const etcd = n.roles.includes('server') && inv.cluster.datastore ? ` · ${inv.cluster.datastore}` : '';
      const size = [n.hardware?.cpu, n.hardware?.memory].filter(Boolean).join(' · ');
      lines.push(`    n${i}[${label(n.name, `${n.roles.join(', ')}${etcd}`, size)}]`);
    }
    lines.push('  end');
  });
  lines.push(`  lan --- ${inv.nodes.map((_, i) => `n${i}`).join(' & ')}`);
  devices.forEach((d, i) => {
    if (d === gateway || hostDevices.has(d.name)) return;
    lines.push(`  d${i}[${label(d.name, ...roleLines(d.role))}]`, `  lan --- d${i}`);
    if (/tailscale/i.test(d.role)) lines.push('  tailnet([Tailnet: operator devices])', `  d${i} === tailnet`);
  });
  return lines.join('\n');
}
