// A twin node's files, as weekend 1 leaves them (src/content/docs/weekends/weekend-1-cluster.mdx):
// /etc/rancher/k3s/config.yaml (the server's settings, or the agent's server URL and token),
// K3s installed by the install script with INSTALL_K3S_VERSION=<inventory version> and
// INSTALL_K3S_EXEC=server|agent and the K3S_TOKEN secret in its environment (so the unit's env
// file carries K3S_TOKEN), /etc/rancher/k3s/k3s.yaml on servers, the server token file, embedded
// etcd's data dir and the snapshot dir. Plus the simulator's own: sim.json, the per-node
// launcher bin/twin-sim (what the twin machine bind-mounts over the command table's paths) and
// the kubeconfig the simulator drives the Node object with.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { initialSecurityUpdates, writeAptFiles } from './apt.ts';
import { binaryFor, envFileText, killallScript, launcherPath, uninstallScript, unitText } from './install.ts';
import { type ClusterFacts, type SimState, present } from './node.ts';

export interface TwinNode {
  name: string;
  roles: string[];
  /** The address weekend 1 writes into configs (the inventory's); the stand-in is used for the twin's network. */
  address?: string;
  hardware?: Record<string, unknown>;
}

export interface TwinInventory {
  k3sVersion: string;
  datastore?: string;
  nodes: TwinNode[];
  devices?: { name: string; address?: string }[];
}

export interface NodeRootOptions {
  /** The sandbox state dir; default: three levels above nodeDir (<state>/twin/nodes/<node>). */
  stateDir?: string;
  /** The sandbox kubectl; default: state.json's kubectl. */
  kubectl?: string;
  /** The sandbox admin kubeconfig the credentials come from; default <state>/kubeconfig. */
  kubeconfig?: string;
  /** The API server URL the node uses; default https://127.0.0.1:6443 (the node netns' forwarder). Tests pass the sandbox's own URL. */
  apiServer?: string;
  /** Delay from `systemctl start` to Ready (default 1500 ms). */
  readyDelayMs?: number;
  /** How long a reboot keeps the node down (default 3000 ms). */
  bootMs?: number;
  /** The node's stand-in address (default 127.0.1.<index+1>, as the sandbox assigns). */
  standIn?: string;
  /** The cluster token; default: the twin's (cluster.json), created on the first node. */
  token?: string;
}

const mainTs = fileURLToPath(new URL('./main.ts', import.meta.url));

function standInFor(index: number): string {
  return `127.0.${1 + Math.floor(index / 254)}.${1 + (index % 254)}`;
}

function write(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode });
}

function launcherText(nodeDir: string, node: string): string {
  return `#!/bin/sh
# The lab twin's simulator for node ${node} (scripts/sandbox-lib/twin/sim): one program,
# called by the command name it is invoked as (or its first argument).
TWIN_NODE_DIR='${nodeDir}'
export TWIN_NODE_DIR
name=\${0##*/}
if [ "$name" = twin-sim ]; then name=$1; shift; fi
exec '${process.execPath}' --no-warnings '${mainTs}' "$name" "$@"
`;
}

function clusterFacts(twinDir: string, stateDir: string, token?: string): ClusterFacts {
  const file = join(twinDir, 'cluster.json');
  if (existsSync(file)) {
    const facts = JSON.parse(readFileSync(file, 'utf8')) as ClusterFacts;
    if (!token || token === facts.token) return facts;
  }
  const ca = join(stateDir, 'pki', 'ca.crt');
  const caHash = createHash('sha256')
    .update(existsSync(ca) ? readFileSync(ca) : randomBytes(32))
    .digest('hex');
  const facts = { token: token ?? randomBytes(32).toString('hex'), caHash };
  write(file, `${JSON.stringify(facts, null, 2)}\n`, 0o600);
  return facts;
}

/** The sandbox admin kubeconfig with another server URL (and, for k3s.yaml, K3s's "default" names). */
function kubeconfigFor(source: string, server: string, k3sNames: boolean): string {
  const kc = parse(readFileSync(source, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
    users: { name: string; user: Record<string, unknown> }[];
    contexts: { name: string; context: Record<string, unknown> }[];
    'current-context': string;
  };
  const [c0, u0, x0] = [kc.clusters[0], kc.users[0], kc.contexts[0]];
  if (!c0 || !u0 || !x0) throw new Error(`prepareNodeRoot: ${source} has no cluster, user or context`);
  const cluster = { ...c0.cluster, server };
  const user = u0.user;
  const names = k3sNames ? { c: 'default', u: 'default', x: 'default' } : { c: c0.name, u: u0.name, x: x0.name };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: names.c, cluster }],
    users: [{ name: names.u, user }],
    contexts: [{ name: names.x, context: { cluster: names.c, user: names.u } }],
    'current-context': names.x,
    preferences: {},
  });
}

function serverConfig(node: TwinNode, inv: TwinInventory, token: string): string {
  const lines = [
    `# ${node.name}: written by weekend 1. Change settings here, then restart k3s.`,
    `token: "${token}"`,
    ...(inv.datastore === 'embedded-etcd' || inv.datastore === undefined
      ? ['cluster-init: true', 'etcd-snapshot-retention: 10']
      : []),
    'secrets-encryption: true',
    'disable:',
    '  - servicelb',
    'node-taint:',
    '  - node-role.kubernetes.io/control-plane:NoSchedule',
    'write-kubeconfig-mode: "0600"',
    'tls-san:',
    ...(node.address ? [`  - ${node.address}`] : []),
    `  - ${node.name}`,
  ];
  return `${lines.join('\n')}\n`;
}

function agentConfig(node: TwinNode, server: TwinNode, token: string): string {
  return `# ${node.name}: written by weekend 1. The server URL and token the agent joins with.\nserver: https://${server.address ?? server.name}:6443\ntoken: "${token}"\n`;
}

function numberIn(v: unknown, re: RegExp): number | undefined {
  const m = re.exec(String(v ?? ''));
  return m ? Number(m[1]) : undefined;
}

/** Writes the node's files and the simulator's state for it under nodeDir (idempotent: it rewrites them). */
export function prepareNodeRoot(
  nodeDir: string,
  node: TwinNode,
  inventory: TwinInventory,
  opts: NodeRootOptions = {},
): void {
  const dir = resolve(nodeDir);
  const stateDir = resolve(opts.stateDir ?? join(dir, '..', '..', '..'));
  const twinDir = join(stateDir, 'twin');
  mkdirSync(twinDir, { recursive: true });
  const index = inventory.nodes.findIndex((n) => n.name === node.name);
  if (index < 0) throw new Error(`prepareNodeRoot: ${node.name} is not a node of the inventory`);
  const isServer = node.roles.includes('server');
  const server = inventory.nodes.find((n) => n.roles.includes('server'));
  if (!server) throw new Error('prepareNodeRoot: the inventory has no server node');
  const facts = clusterFacts(twinDir, stateDir, opts.token);
  const version = inventory.k3sVersion;
  const root = (p: string) => join(dir, 'root', p);
  const unit = isServer ? 'k3s' : 'k3s-agent';

  // The launcher first: the binary stand-in and the scripts call it.
  write(launcherPath(dir), launcherText(dir, node.name), 0o755);

  // Weekend 1: config.yaml (umask 077), then the install script as a run of weekend 1 calls it.
  write(
    root('/etc/rancher/k3s/config.yaml'),
    isServer ? serverConfig(node, inventory, facts.token) : agentConfig(node, server, facts.token),
    0o600,
  );
  const self = { dir };
  write(root('/usr/local/bin/k3s'), binaryFor(self, version), 0o755);
  for (const cmd of ['kubectl', 'crictl', 'ctr']) {
    if (!present(root(`/usr/local/bin/${cmd}`))) symlinkSync('k3s', root(`/usr/local/bin/${cmd}`));
  }
  write(root('/usr/local/bin/k3s-killall.sh'), killallScript(self), 0o755);
  write(root(`/usr/local/bin/${unit}-uninstall.sh`), uninstallScript(self, unit), 0o755);
  write(root(`/etc/systemd/system/${unit}.service.env`), envFileText({ K3S_TOKEN: facts.token }), 0o600);
  write(root(`/etc/systemd/system/${unit}.service`), unitText(isServer ? 'server' : 'agent', []), 0o644);
  const wants = root('/etc/systemd/system/multi-user.target.wants');
  mkdirSync(wants, { recursive: true });
  if (!present(join(wants, `${unit}.service`)))
    symlinkSync(`/etc/systemd/system/${unit}.service`, join(wants, `${unit}.service`));

  // What K3s itself writes once it runs.
  const kubeconfigSrc = opts.kubeconfig ?? join(stateDir, 'kubeconfig');
  const apiServer = opts.apiServer ?? 'https://127.0.0.1:6443';
  if (isServer) {
    write(root('/etc/rancher/k3s/k3s.yaml'), kubeconfigFor(kubeconfigSrc, apiServer, true), 0o600);
    write(root('/var/lib/rancher/k3s/server/token'), `K10${facts.caHash}::server:${facts.token}\n`, 0o600);
    if (!present(root('/var/lib/rancher/k3s/server/node-token')))
      symlinkSync('/var/lib/rancher/k3s/server/token', root('/var/lib/rancher/k3s/server/node-token'));
    if (inventory.datastore === 'embedded-etcd' || inventory.datastore === undefined) {
      mkdirSync(root('/var/lib/rancher/k3s/server/db/etcd/member'), { recursive: true, mode: 0o700 });
      write(root('/var/lib/rancher/k3s/server/db/etcd/name'), `${node.name}-${facts.caHash.slice(0, 8)}\n`);
    }
    mkdirSync(root('/var/lib/rancher/k3s/server/db/snapshots'), { recursive: true, mode: 0o700 });
    mkdirSync(root('/var/lib/rancher/k3s/server/tls'), { recursive: true, mode: 0o700 });
  } else {
    mkdirSync(root('/var/lib/rancher/k3s/agent'), { recursive: true, mode: 0o700 });
  }
  mkdirSync(root('/var/log/journal'), { recursive: true });
  // Ubuntu's unattended-upgrades as weekend 1 configures it, and last night's run (sim/apt.ts).
  writeAptFiles(root, new Date(Date.now() - 3 * 3600_000));
  // The node's own /run (a tmpfs on the real machine); sshd needs its privilege separation directory there.
  mkdirSync(root('/run/sshd'), { recursive: true, mode: 0o755 });
  write(join(dir, 'kubeconfig'), kubeconfigFor(kubeconfigSrc, apiServer, false), 0o600);

  let kubectl = opts.kubectl;
  if (!kubectl) {
    try {
      kubectl = (JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { kubectl?: string }).kubectl;
    } catch {
      /* below */
    }
  }
  if (!kubectl)
    throw new Error(
      `prepareNodeRoot: no sandbox kubectl (pass opts.kubectl, or start the sandbox first so ${join(stateDir, 'state.json')} names it)`,
    );

  const peers: Record<string, string> = {};
  inventory.nodes.forEach((n, i) => {
    if (n.name !== node.name) peers[standInFor(i)] = n.name;
  });
  (inventory.devices ?? []).forEach((d, i) => {
    peers[`127.0.2.${i + 1}`] = d.name;
  });
  // The runbooks name machines by the lab's own addresses too (a NAS export, a ping of the server):
  // on the twin those answer as the machine they stand for. Only the simulated ping and ip see them;
  // nothing is ever sent to them.
  for (const [address, name] of labAddresses(stateDir)) if (name !== node.name) peers[address] ??= name;
  const now = new Date().toISOString();
  const hw = node.hardware ?? {};
  const state: SimState = {
    node: node.name,
    role: isServer ? 'server' : 'agent',
    kubectl,
    kubeconfig: join(dir, 'kubeconfig'),
    twinDir,
    readyDelayMs: opts.readyDelayMs ?? 1500,
    bootMs: opts.bootMs ?? 3000,
    address: opts.standIn ?? standInFor(index),
    peers,
    hardware: {
      cpu: numberIn(hw.cpu, /(\d+)\s*v?CPU/i),
      memoryGiB: numberIn(hw.memory, /(\d+)\s*GiB?/i),
      diskGB: numberIn(hw.disk, /(\d+)\s*GB?/i),
    },
    services: {
      [unit]: { state: 'active', changedAt: now, enabled: true, runningVersion: version, result: 'success' },
    },
    bootId: randomBytes(16).toString('hex'),
    bootedAt: now,
    certsRotatedAt: now,
    mounts: {},
    securityUpdates: initialSecurityUpdates(),
  };
  write(join(dir, 'sim.json'), `${JSON.stringify(state, null, 2)}\n`);
  write(
    join(dir, 'root', `/var/log/journal/${unit}.jsonl`),
    [
      { t: now, unit, message: 'Starting Lightweight Kubernetes...' },
      { t: now, unit, message: `Starting k3s ${version} (lab twin simulation)` },
      { t: now, unit, message: 'Started Lightweight Kubernetes.' },
    ]
      .map((r) => `${JSON.stringify(r)}\n`)
      .join(''),
  );
}

/** The lab's addresses of every node and device, from the inventory the sandbox was started from (state.json). */
function labAddresses(stateDir: string): Array<[string, string]> {
  try {
    const { inventory } = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { inventory?: string };
    if (!inventory) return [];
    const doc = parse(readFileSync(inventory, 'utf8')) as { nodes?: unknown[]; devices?: unknown[] };
    return [...(doc.nodes ?? []), ...(doc.devices ?? [])].flatMap((m) => {
      const { name, address } = (m ?? {}) as { name?: unknown; address?: unknown };
      return typeof name === 'string' && typeof address === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(address)
        ? [[address, name] as [string, string]]
        : [];
    });
  } catch {
    return [];
  }
}
