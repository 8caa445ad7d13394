// The lab twin: every inventory node as a reachable simulated machine
// (machine.ts) beside the sandbox's API server. `twinUp` starts it into
// <state>/twin, `twinDown` stops it, `twinStatus` says how each node is.
// Layout of <state>/twin (the contract of issue 12):
//   twin.json      what the twin is (this file's TwinState)
//   ssh/           the runner's client key, known_hosts, ssh_config (RUNBOOK_SSH_CONFIG)
//   api.sock       host-side forwarder to the sandbox API's 127.0.0.1 port
//   kubeconfig     the sandbox admin kubeconfig with server https://127.0.0.1:6443 (what a node sees)
//   nas/           the NAS twin's exports
//   nodes/<node>/  root/ (the node's files), sim.json, sshd/, ssh.sock, init.sh, layers/, sim, machine.log
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import type { SandboxInventory, SandboxNode } from '../inventory.ts';
import { writeKubeconfig } from '../kubeconfig.ts';
import { sandboxAddress } from '../nodes.ts';
import { isOurs, startProcess, stopProcesses, type ProcessRecord } from '../processes.ts';
import type { CommandPaths } from './machine-mounts.ts';
import type { ProvisionerConfig } from './provisioner.ts';
import {
  commOf,
  machinePaths,
  MachineFailed,
  nodePids,
  prepareMachine,
  readBanner,
  startMachine,
  type MachineRecord,
  type MachineTools,
} from './machine.ts';
import { operatorDown, operatorEnv, operatorStatus, startOperator, type OperatorStatus } from './operator.ts';
import { installK3sCrds } from './k3s-crds.ts';
import { keygen, nodeSshdFiles, SSHD, sshFiles, writeSshClientFiles, type SshHost } from './ssh.ts';

/** The simulator the machines run (helper "twin-sim"'s sim/): its command table, node files and entry. */
export interface Simulator {
  commands: ReadonlyArray<CommandPaths & { summary?: string }>;
  prepareNodeRoot(nodeDir: string, node: TwinInventoryNode, inventory: SandboxInventory): void | Promise<void>;
  /** The TypeScript file every command symlink runs: `node <entry> <path it was called as> <args…>`. */
  entry: string;
}

/** An inventory node as the twin gives it to prepareNodeRoot: with its stand-in address and index. */
export interface TwinInventoryNode extends SandboxNode {
  address: string;
  index: number;
}

export interface TwinNode {
  name: string;
  roles: string[];
  /** The loopback stand-in address of the sandbox inventory (127.0.1.x); ssh reaches it through the ssh config. */
  address: string;
  dir: string;
  sshSocket: string;
  /** unshare (host pid), and the node's pid 1 (host pid: `nsenter --target <initPid> --all`). */
  pid: number;
  initPid: number;
  log: string;
  sshdPidFile: string;
  sshdLog: string;
}

export interface TwinState {
  dir: string;
  /** The ssh user on every node: the invoking user (the namespaces need root, so root). */
  user: string;
  simulator: string;
  sshConfig: string;
  knownHosts: string;
  identity: string;
  apiSocket: string;
  /** The kubeconfig a node uses (https://127.0.0.1:6443 inside the node). */
  nodeKubeconfig: string;
  nas?: { name: string; address: string; dir: string };
  nodes: TwinNode[];
  processes: ProcessRecord[];
  startedAt: string;
}

/** What twinUp needs of the sandbox being started (a subset of SandboxState). */
export interface TwinHost {
  stateDir: string;
  kubectl: string;
  inventory: string;
  clusterName: string;
  context: string;
  ports: { apiserver: number };
  /** The sandbox admin kubeconfig on the host (default <stateDir>/kubeconfig). */
  kubeconfig?: string;
}

export interface TwinUpOptions {
  log?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each process as soon as it exists, so the sandbox records it before anything can fail. */
  onProcess?: (rec: ProcessRecord) => void;
  /** Defaults to the project's simulator (sim/commands.ts, sim/node-root.ts, sim/main.ts). */
  simulator?: Simulator;
}

export const twinDir = (stateDir: string) => join(resolve(stateDir), 'twin');
const twinFile = (stateDir: string) => join(twinDir(stateDir), 'twin.json');

export function readTwin(stateDir: string): TwinState | undefined {
  try {
    return JSON.parse(readFileSync(twinFile(stateDir), 'utf8')) as TwinState;
  } catch {
    return undefined;
  }
}

function writeTwin(stateDir: string, twin: TwinState): void {
  const f = twinFile(stateDir);
  writeFileSync(`${f}.tmp`, `${JSON.stringify(twin, null, 2)}\n`);
  renameSync(`${f}.tmp`, f);
}

/** Why the twin cannot start here, or undefined. */
export function twinRequirements(): string | undefined {
  if (process.platform !== 'linux') return 'the lab twin needs Linux namespaces';
  if (process.getuid?.() !== 0) {
    return (
      'the lab twin needs root: each node is a mount and network namespace (unshare), and its sshd logs in as the invoking user. ' +
      'Run as root (CI does), or start without it: scripts/sandbox up --no-twin'
    );
  }
  const missing = ['unshare', 'socat', 'ssh-keygen', 'nsenter'].filter((c) => !which(c));
  if (!existsSync(SSHD)) missing.push('sshd (openssh-server)');
  if (missing.length) return `the lab twin needs ${missing.join(', ')}: run scripts/install-system-deps`;
  return undefined;
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function tools(): MachineTools {
  const need = (c: string) =>
    which(c) ??
    (() => {
      throw new Error(`the lab twin needs ${c}: run scripts/install-system-deps`);
    })();
  return {
    unshare: need('unshare'),
    bash: need('bash'),
    socat: need('socat'),
    sshd: SSHD,
    ip: need('ip'),
    sleep: need('sleep'),
    mount: need('mount'),
    umount: need('umount'),
    node: process.execPath,
  };
}

export async function loadSimulator(): Promise<Simulator> {
  // Loaded only when the twin starts: `--no-twin` and every other verb never read the simulator.
  const dir = new URL('./sim/', import.meta.url);
  const files = ['commands.ts', 'node-root.ts', 'main.ts'].map((f) => new URL(f, dir));
  const absent = files.filter((u) => !existsSync(u));
  if (absent.length) {
    throw new Error(
      `the twin's simulator is incomplete (missing ${absent.map((u) => u.pathname).join(', ')}); start without the twin: scripts/sandbox up --no-twin`,
    );
  }
  const commands = (await import(files[0]!.href)) as { COMMAND_TABLE: Simulator['commands'] };
  const root = (await import(files[1]!.href)) as { prepareNodeRoot: Simulator['prepareNodeRoot'] };
  return { commands: commands.COMMAND_TABLE, prepareNodeRoot: root.prepareNodeRoot, entry: files[2]!.pathname };
}

/** The inventory's NAS: the device whose role says NFS or NAS (the sandbox inventory's 127.0.2.x stand-in). */
function findNas(
  inventoryFile: string,
): { name: string; address: string; labAddress?: string; exports: string[] } | undefined {
  const doc = parse(readFileSync(inventoryFile, 'utf8')) as {
    devices?: Array<{ name?: string; role?: string; exports?: unknown }>;
  };
  const devices = Array.isArray(doc?.devices) ? doc.devices : [];
  const i = devices.findIndex((d) => Array.isArray(d?.exports) || /\b(nfs|nas)\b/i.test(String(d?.role ?? '')));
  if (i < 0) return undefined;
  const exports = (Array.isArray(devices[i]!.exports) ? devices[i]!.exports : [])
    .map(String)
    .filter((e) => e.startsWith('/'));
  const labAddress = (devices[i] as { address?: unknown }).address;
  return {
    name: String(devices[i]!.name),
    address: `127.0.2.${i + 1}`,
    ...(labAddress ? { labAddress: String(labAddress) } : {}),
    exports,
  };
}

/**
 * Starts the twin for a sandbox whose API server is up: writes every node's
 * files (the simulator's prepareNodeRoot), keys and configs, then starts the
 * API forwarder and one machine per node, all at once. Resolves once every
 * node's sshd answers on its ssh.sock.
 */
export async function twinUp(host: TwinHost, inv: SandboxInventory, opts: TwinUpOptions = {}): Promise<TwinState> {
  const log = opts.log ?? (() => {});
  const why = twinRequirements();
  if (why) throw new Error(why);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const stateDir = resolve(host.stateDir);
  const dir = twinDir(stateDir);
  const sim = opts.simulator ?? (await loadSimulator());
  const t = tools();
  const ssh = sshFiles(dir);
  mkdirSync(ssh.dir, { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  // sshd refuses to start without its privilege-separation directory (the openssh-server package makes it).
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });

  const nas = findNas(host.inventory);
  if (nas) mkdirSync(join(dir, 'nas'), { recursive: true });
  // The NAS twin exports what the inventory says the NAS exports (an empty share each).
  for (const path of nas?.exports ?? []) mkdirSync(join(dir, 'nas', path.replace(/^\/+/, '')), { recursive: true });
  const twin: TwinState = {
    dir,
    user: userInfo().username,
    simulator: sim.entry,
    sshConfig: ssh.config,
    knownHosts: ssh.knownHosts,
    identity: ssh.identity,
    apiSocket: join(dir, 'api.sock'),
    nodeKubeconfig: join(dir, 'kubeconfig'),
    ...(nas ? { nas: { name: nas.name, address: nas.address, dir: join(dir, 'nas') } } : {}),
    nodes: [],
    processes: [],
    startedAt: new Date().toISOString(),
  };
  for (const n of inv.nodes) {
    const sock = machinePaths(join(dir, 'nodes', n.name)).sshSocket;
    if (Buffer.byteLength(sock) > 107)
      throw new Error(
        `the twin's socket path ${sock} is longer than a unix socket allows (107 bytes): use a shorter --state-dir`,
      );
  }
  writeKubeconfig(twin.nodeKubeconfig, join(stateDir, 'pki'), 'https://127.0.0.1:6443', host.clusterName, host.context);
  writeTwin(stateDir, twin);

  // Files first, for every node at once: keys (ssh-keygen), the node's own files, layers, init.sh.
  const clientKey = await keygen(ssh.identity, `lab-twin-runner@${host.clusterName}`);
  const prepared = await Promise.all(
    inv.nodes.map(async (n, index) => {
      const nodeDir = join(dir, 'nodes', n.name);
      mkdirSync(nodeDir, { recursive: true });
      const address = sandboxAddress(index);
      await sim.prepareNodeRoot(nodeDir, { ...n, address, index }, inv);
      const sshd = nodeSshdFiles(nodeDir);
      mkdirSync(sshd.dir, { recursive: true, mode: 0o700 });
      const hostKey = await keygen(sshd.hostKey, n.name);
      writeFileSync(sshd.authorizedKeys, `${clientKey}\n`, { mode: 0o600 });
      const spec = {
        name: n.name,
        dir: nodeDir,
        twinDir: dir,
        apiSocket: twin.apiSocket,
        simEntry: sim.entry,
        commands: sim.commands,
        tools: t,
        simEnv: {
          TWIN_DIR: dir,
          TWIN_STATE_DIR: stateDir,
          TWIN_NODE: n.name,
          TWIN_NODE_DIR: nodeDir,
          TWIN_KUBECONFIG: twin.nodeKubeconfig,
          TWIN_KUBECTL: host.kubectl,
        },
      };
      prepareMachine(spec);
      const sshHost: SshHost = {
        node: n.name,
        address,
        user: twin.user,
        socket: machinePaths(nodeDir).sshSocket,
        hostKey,
      };
      return { n, spec, sshHost };
    }),
  );
  writeSshClientFiles(
    ssh,
    prepared.map((p) => p.sshHost),
    t.socat,
  );
  log(`twin: ${prepared.length} node roots, keys and ssh config written`);

  // The API forwarder: what every node's 127.0.0.1:6443 leads to.
  const fwd = startProcess(
    'twin/api-forwarder',
    t.socat,
    [`UNIX-LISTEN:${twin.apiSocket},fork,mode=600,unlink-early`, `TCP:127.0.0.1:${host.ports.apiserver}`],
    join(dir, 'api-forwarder.log'),
    stateDir,
  );
  const fwdRec: ProcessRecord = { name: fwd.name, pid: fwd.pid, log: fwd.log, marker: fwd.marker };
  twin.processes.push(fwdRec);
  opts.onProcess?.(fwdRec);
  writeTwin(stateDir, twin);
  const adopt = (p: ProcessRecord) => {
    twin.processes.push(p);
    opts.onProcess?.(p);
  };
  // K3s's own CRDs (ETCDSnapshotFile) while the machines start; awaited before up returns.
  const hostKubeconfig = host.kubeconfig ?? join(stateDir, 'kubeconfig');
  const crds = installK3sCrds(host.kubectl, hostKubeconfig);
  crds.catch(() => {}); // awaited below; an early rejection must not end the process first
  await startOperator(
    {
      stateDir,
      twinDir: dir,
      apiSocket: twin.apiSocket,
      apiPort: host.ports.apiserver,
      tools: t,
      timeoutMs,
      nodes: prepared.map((p) => ({ address: p.sshHost.address, sshSocket: p.sshHost.socket })),
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    adopt,
  );
  adopt(startProvisioner(stateDir, dir, hostKubeconfig, nas));

  const results = await Promise.allSettled(
    prepared.map(async ({ n, spec, sshHost }) => {
      const rec = await startMachine(spec, stateDir, timeoutMs, opts.signal).catch((err: unknown) => {
        if (err instanceof MachineFailed && err.record) record(err.record);
        throw err;
      });
      record(rec);
      const sshd = nodeSshdFiles(spec.dir);
      twin.nodes.push({
        name: n.name,
        roles: n.roles,
        address: sshHost.address,
        dir: spec.dir,
        sshSocket: rec.sshSocket,
        pid: rec.pid,
        initPid: rec.initPid,
        log: rec.log,
        sshdPidFile: sshd.pidFile,
        sshdLog: sshd.log,
      });
    }),
  );
  function record(rec: MachineRecord) {
    const p: ProcessRecord = { name: rec.name, pid: rec.pid, log: rec.log, marker: rec.marker };
    twin.processes.push(p);
    opts.onProcess?.(p);
  }
  twin.nodes.sort(
    (a, b) => inv.nodes.findIndex((n) => n.name === a.name) - inv.nodes.findIndex((n) => n.name === b.name),
  );
  writeTwin(stateDir, twin);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw failed[0]!.reason;
  await crds;
  // A server that has been running has its last scheduled etcd snapshot (sim/k3s.ts scheduledSnapshot).
  for (const n of twin.nodes.filter((x) => x.roles.includes('server'))) {
    const r = spawnSync(
      'nsenter',
      [`--target=${n.initPid}`, '--net', '--mount', '--', join(n.dir, 'bin', 'twin-sim'), '__scheduled-snapshots'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (r.status !== 0)
      throw new Error(
        `the twin could not write ${n.name}'s last scheduled etcd snapshot: ${(r.stderr || r.error?.message || '').trim()}`,
      );
    if (r.stdout.trim()) log(`twin: ${n.name} has its last scheduled snapshot ${r.stdout.trim()}`);
  }
  if (!isOurs(fwdRec)) throw new Error(`the twin's API forwarder (socat) exited; log: ${fwdRec.log}`);
  log(`twin: ${twin.nodes.length} nodes answer ssh (${twin.nodes.map((n) => n.name).join(', ')})`);
  return twin;
}

/** The simulated storage provisioner (provisioner.ts) as a process of its own: its config beside its log. */
function startProvisioner(
  stateDir: string,
  dir: string,
  kubeconfig: string,
  nas: ReturnType<typeof findNas>,
): ProcessRecord {
  const config = join(dir, 'provisioner.json');
  const cfg: ProvisionerConfig = {
    kubeconfig,
    nodesDir: join(dir, 'nodes'),
    ...(nas
      ? { nasDir: join(dir, 'nas'), nasServers: [nas.name, nas.address, ...(nas.labAddress ? [nas.labAddress] : [])] }
      : { nasServers: [] }),
  };
  writeFileSync(config, `${JSON.stringify(cfg, null, 2)}\n`);
  const entry = new URL('./provisioner.ts', import.meta.url).pathname;
  const p = startProcess(PROVISIONER, process.execPath, [entry, config], join(dir, 'provisioner.log'), stateDir);
  return { name: p.name, pid: p.pid, log: p.log, marker: p.marker };
}

export const PROVISIONER = 'twin/storage-provisioner';

/**
 * Stops the twin's machines and forwarder and waits until every process of
 * every node is gone (the nodes' pid 1 ends last; the kernel ends the rest
 * and drops their mounts with them). Leaves the files to the sandbox's down.
 */
export async function twinDown(stateDir: string): Promise<boolean> {
  const twin = readTwin(stateDir);
  if (!twin) return false;
  const recs = [...twin.processes].reverse();
  const was = recs.some(isOurs);
  // unshare ends at once on SIGTERM; its --kill-child then kills the node's pid 1.
  await stopProcesses(recs, 2_000);
  const marker = resolve(stateDir);
  const inits = twin.nodes
    .filter((n) => n.initPid > 0)
    .map((n) => ({ name: `twin/${n.name} pid 1`, pid: n.initPid, log: n.log, marker }));
  for (const i of inits)
    if (isOurs(i))
      try {
        process.kill(i.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  const deadline = Date.now() + 10_000;
  while (inits.some(isOurs)) {
    if (Date.now() > deadline)
      throw new Error(
        `twin nodes did not end: ${inits
          .filter(isOurs)
          .map((i) => i.name)
          .join(', ')}`,
      );
    await sleep(20);
  }
  await operatorDown(stateDir);
  return was;
}

export interface TwinNodeStatus {
  name: string;
  address: string;
  /** The node's namespaces exist (its unshare and pid 1 run). */
  alive: boolean;
  /** Its sshd answered with an SSH banner on ssh.sock. */
  ssh: boolean;
}

export interface TwinStatus {
  twin: TwinState;
  apiForwarder: boolean;
  /** The simulated storage provisioner (provisioner.ts) runs. */
  provisioner: boolean;
  nodes: TwinNodeStatus[];
  operator?: OperatorStatus | undefined;
}

export async function twinStatus(stateDir: string): Promise<TwinStatus | undefined> {
  const twin = readTwin(stateDir);
  if (!twin) return undefined;
  const marker = resolve(stateDir);
  const fwd = twin.processes.find((p) => p.name === 'twin/api-forwarder');
  const nodes = await Promise.all(
    twin.nodes.map(async (n) => {
      const alive =
        isOurs({ name: n.name, pid: n.pid, log: n.log, marker }) &&
        isOurs({ name: n.name, pid: n.initPid, log: n.log, marker });
      const ssh = alive && existsSync(n.sshSocket) && (await readBanner(n.sshSocket, 1000)).startsWith('SSH-2.0-');
      return { name: n.name, address: n.address, alive, ssh };
    }),
  );
  const prov = twin.processes.find((p) => p.name === PROVISIONER);
  return {
    twin,
    apiForwarder: !!fwd && isOurs(fwd),
    provisioner: !!prov && isOurs(prov),
    nodes,
    operator: operatorStatus(stateDir),
  };
}

/**
 * Stops or starts one node's sshd (the `unreachable` fault, twin/faults.ts).
 * Stopping kills every sshd of the node, open sessions and the runner's
 * reused connections included: the node is then off the network as far as
 * ssh can tell. Starting runs sshd again inside the node and waits for it.
 */
export async function setNodeSshd(stateDir: string, node: string, running: boolean): Promise<void> {
  const twin = readTwin(stateDir);
  const n = twin?.nodes.find((x) => x.name === node);
  if (!twin || !n) throw new Error(`the twin in ${stateDir} has no node ${node}`);
  const marker = resolve(stateDir);
  if (!isOurs({ name: n.name, pid: n.initPid, log: n.log, marker }))
    throw new Error(`twin node ${node} is not running`);
  const sshds = () => nodePids(n.initPid).filter((p) => commOf(p) === 'sshd');
  if (!running) {
    for (const p of sshds())
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    const deadline = Date.now() + 5_000;
    while (sshds().length) {
      if (Date.now() > deadline) throw new Error(`the sshd of twin node ${node} did not stop`);
      await sleep(20);
    }
    return;
  }
  if ((await readBanner(n.sshSocket, 1000)).startsWith('SSH-2.0-')) return;
  const cfg = join(n.dir, 'sshd', 'sshd_config');
  // Without -D sshd detaches; inside the node's pid namespace its pid 1 adopts it.
  const r = spawnSync(
    'nsenter',
    [`--target=${n.initPid}`, '--pid', '--net', '--mount', '--uts', '--', SSHD, '-f', cfg, '-E', n.sshdLog],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`starting the sshd of twin node ${node} failed: ${r.stderr.trim() || r.error?.message}`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if ((await readBanner(n.sshSocket, 1000)).startsWith('SSH-2.0-')) return;
    if (Date.now() > deadline)
      throw new Error(`the sshd of twin node ${node} did not answer within 10 s; log: ${n.sshdLog}`);
    await sleep(25);
  }
}

/** What `scripts/sandbox env` exports for the twin. */
export function twinEnv(stateDir: string): Record<string, string> {
  const twin = readTwin(stateDir);
  return twin ? { RUNBOOK_SSH_CONFIG: twin.sshConfig, ...operatorEnv(stateDir) } : {};
}
