// The sandbox: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok as separate processes on free 127.0.0.1 ports, with everything
// they write (certificates, kubeconfig, etcd data, logs, pids) under one
// state dir. `up` starts it, `down` stops every process and removes the dir.
import { KubeConfig } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ensureBuilt, type Binaries } from './build.ts';
import { probe, type ProbeResult, type TlsClient } from './health.ts';
import { loadInventory, writeSandboxInventory, type SandboxInventory } from './inventory.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { createNodes, sandboxAddress, waitDefaultServiceAccount, waitNodesReady } from './nodes.ts';
import { freePort, freePortPair, isListening, ownsListener } from './ports.ts';
import { isOurs, startProcess, stopProcesses, tail, type ProcessRecord, type Started } from './processes.ts';
// The runner's one liveness check: EPERM (another user's live process) is alive, a zombie is gone.
import { pidAlive } from '../../runner/execute/process-group.ts';
import { defaultInventory, kwokStages } from './paths.ts';
import { loadSimulator, twinDown, twinRequirements, twinUp, type Simulator } from './twin/index.ts';
import { publishTwin, releaseFaults } from './twin/faults.ts';
import { applyLabWorkloads } from './twin/workloads.ts';

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

export interface SandboxState {
  stateDir: string;
  phase: 'starting' | 'running';
  /** The `up` process, while phase is 'starting'. */
  ownerPid: number;
  binDir: string;
  kubectl: string;
  kubeconfig: string;
  inventory: string;
  /** The inventory rewritten to point at the sandbox (for RUNBOOK_INVENTORY). */
  sandboxInventory: string;
  clusterName: string;
  context: string;
  server: string;
  ports: Ports;
  processes: ProcessRecord[]; // in start order
  nodes: string[];
  startedAt: string;
  /** <state>/twin/twin.json when the lab twin runs (scripts/sandbox-lib/twin/). */
  twin?: string;
}

export interface UpOptions {
  stateDir: string;
  inventory?: string;
  log?: (line: string) => void;
  /** For each component to become healthy, and for all nodes to be Ready. */
  timeoutMs?: number;
  /** Abort (e.g. on SIGINT): `up` stops what it started, removes the state dir and rejects. */
  signal?: AbortSignal;
  /**
   * Also start the lab twin (every node a machine with sshd and the simulator; needs root).
   * Off unless asked: the `cluster` tests need only the API. `scripts/sandbox up` turns it on.
   * Tests may hand their own simulator.
   */
  twin?: boolean | { simulator?: Simulator };
}

/** A component that did not become healthy: which one, and where to look. */
export class ComponentError extends Error {
  readonly component: string;
  logFile: string;
  constructor(component: string, why: string, logFile: string) {
    super(`${component} ${why}\n  log: ${logFile}\n  last lines:\n${indent(tail(logFile, 20), '    ')}`);
    this.name = 'ComponentError';
    this.component = component;
    this.logFile = logFile;
  }
}

export class AlreadyRunningError extends Error {}

const stateFile = (dir: string) => join(dir, 'state.json');

export function readState(stateDir: string): SandboxState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(stateDir), 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

function writeState(state: SandboxState): void {
  const tmp = `${stateFile(state.stateDir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile(state.stateDir));
}

export function isRunning(state: SandboxState): boolean {
  return state.phase === 'running' && state.processes.length > 0 && state.processes.every(isOurs);
}

export async function up(opts: UpOptions): Promise<SandboxState> {
  const log = opts.log ?? (() => {});
  const stateDir = resolve(opts.stateDir);
  const inventoryFile = resolve(opts.inventory ?? defaultInventory);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const inv = loadInventory(inventoryFile);
  let simulator: Simulator | undefined;
  if (opts.twin) {
    // Before anything starts: a twin that cannot run here is said at once.
    const why = twinRequirements();
    if (why) throw new Error(why);
    simulator = (typeof opts.twin === 'object' ? opts.twin.simulator : undefined) ?? (await loadSimulator());
  }

  const previous = readState(stateDir);
  if (previous && isRunning(previous)) {
    throw new AlreadyRunningError(
      `a sandbox is already running in ${stateDir} (stop it with: scripts/sandbox down --state-dir ${stateDir})`,
    );
  }
  if (previous?.phase === 'starting' && previous.ownerPid !== process.pid && pidAlive(previous.ownerPid)) {
    throw new Error(
      `a sandbox is being started in ${stateDir} by pid ${previous.ownerPid}; wait for it, or stop it with: scripts/sandbox down --state-dir ${stateDir}`,
    );
  }
  if (previous)
    await down(stateDir); // leftovers of a crashed or interrupted run
  else if (existsSync(stateDir) && readdirSync(stateDir).length > 0) {
    throw new Error(`${stateDir} is not empty and holds no sandbox; choose another --state-dir`);
  }
  mkdirSync(join(stateDir, 'logs'), { recursive: true, mode: 0o700 });

  const state: SandboxState = {
    stateDir,
    phase: 'starting',
    ownerPid: process.pid,
    binDir: '',
    kubectl: '',
    kubeconfig: join(stateDir, 'kubeconfig'),
    inventory: inventoryFile,
    sandboxInventory: join(stateDir, 'inventory.yaml'),
    clusterName: inv.clusterName,
    context: inv.context,
    server: '',
    ports: { etcdClient: 0, etcdPeer: 0, apiserver: 0, controllerManager: 0, scheduler: 0 },
    processes: [],
    nodes: inv.nodes.map((n) => n.name),
    startedAt: new Date().toISOString(),
  };
  writeState(state);

  try {
    const bins = await ensureBuilt(log, join(stateDir, 'logs'), opts.signal);
    state.binDir = bins.dir;
    state.kubectl = bins.kubectl;
    await startAll(state, bins, inv, log, timeoutMs, opts.signal, !!simulator);
    if (simulator) {
      const twin = await twinUp(state, inv, {
        log,
        timeoutMs,
        signal: opts.signal,
        simulator,
        onProcess: (rec) => {
          state.processes.push(rec);
          writeState(state);
        },
      });
      state.twin = join(twin.dir, 'twin.json');
      writeState(state);
      // The twin announces itself (kube-system/lab-twin) before any run: a run against it is a rehearsal.
      await publishTwin(stateDir, []);
      // The lab's workloads (src/content/lab/workloads.yaml) as simulated pods, available before `up` returns.
      await applyLabWorkloads(
        { kubeconfig: state.kubeconfig, nodes: inv.nodes },
        { log, timeoutMs, signal: opts.signal },
      );
      // What the lab's past runs left: postgres-backup's nightly dump CronJob and last night's finished Job (twin/history.ts).
      const history = await import('./twin/history.ts');
      const seeded = await history.seedLabHistory(state.kubeconfig);
      log(
        `twin: ${seeded.cronJob} applied as postgres-backup does, last run ${seeded.lastScheduleTime} (job ${seeded.job}, Complete)`,
      );
      // The NAS's Snapshot Replication: each share's #snapshot folder, once its volume directories exist.
      if (twin.nas) {
        const shares = history.seedNasSnapshots(twin.nas.dir, history.nasShares(twin.nas.dir));
        if (shares.length)
          log(`twin: NAS snapshot ${history.NAS_SNAPSHOT} of ${shares.join(', ')} (#snapshot, read-only over NFS)`);
      }
      // Its nodes are reached as the user who started it (the twin's sshd knows no other): the inventory says so.
      writeSandboxInventory(state.inventory, state.sandboxInventory, state.server, sandboxAddress, userInfo().username);
    }
    state.phase = 'running';
    writeState(state);
    return state;
  } catch (err) {
    // The state dir goes; the failing component's log is kept for the error message.
    if (err instanceof ComponentError && existsSync(err.logFile)) {
      const kept = join(tmpdir(), `k3s-lab-sandbox-${err.component}-${Date.now()}.log`);
      copyFileSync(err.logFile, kept);
      err.message = err.message.replace(err.logFile, `${kept} (copied from the removed state dir)`);
      err.logFile = kept;
    }
    // What this run started, even if the state dir went away meanwhile (`down` from elsewhere).
    await stopProcesses([...state.processes].reverse());
    await down(stateDir);
    throw err;
  }
}

async function startAll(
  state: SandboxState,
  bins: Binaries,
  inv: SandboxInventory,
  log: (line: string) => void,
  timeoutMs: number,
  signal?: AbortSignal,
  podsServed = false,
): Promise<void> {
  const dir = state.stateDir;
  const pki = join(dir, 'pki');
  const logs = join(dir, 'logs');
  const tls: TlsClient = {
    get ca() {
      return readFileSync(join(pki, 'ca.crt'), 'utf8');
    },
    get cert() {
      return readFileSync(join(pki, 'admin.crt'), 'utf8');
    },
    get key() {
      return readFileSync(join(pki, 'admin.key'), 'utf8');
    },
  };
  const serviceIP = firstServiceIP(inv.serviceCidr);

  const certs = spawnSync(bins.sandbox, ['certs', `--dir=${pki}`, `--service-ip=${serviceIP}`], { encoding: 'utf8' });
  if (certs.status !== 0) throw new Error(`generating certificates failed: ${certs.stderr || certs.error?.message}`);
  log('certificates generated');

  const start = (spec: ComponentSpec) =>
    startComponent(spec, { state, logFile: join(logs, `${spec.name}.log`), timeoutMs, ...(signal ? { signal } : {}) });

  // etcd
  [state.ports.etcdClient, state.ports.etcdPeer] = await freePortPair();
  await start({
    name: 'etcd',
    bin: bins.sandbox,
    args: () => [
      'etcd',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-url=http://127.0.0.1:${state.ports.etcdClient}`,
      `--listen-peer-url=http://127.0.0.1:${state.ports.etcdPeer}`,
    ],
    health: () => probe(`http://127.0.0.1:${state.ports.etcdClient}/health`),
    newPorts: async () => {
      [state.ports.etcdClient, state.ports.etcdPeer] = await freePortPair();
      rmSync(join(dir, 'etcd'), { recursive: true, force: true });
    },
    port: () => state.ports.etcdClient,
  });
  log(`etcd started (127.0.0.1:${state.ports.etcdClient})`);

  // kube-apiserver
  state.ports.apiserver = await freePort();
  const saIssuer = 'https://kubernetes.default.svc.cluster.local';
  await start({
    name: 'kube-apiserver',
    bin: bins.sandbox,
    args: () => [
      'kube-apiserver',
      `--etcd-servers=http://127.0.0.1:${state.ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${state.ports.apiserver}`,
      '--advertise-address=127.0.0.1',
      `--cert-dir=${join(dir, 'kube-apiserver')}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--service-account-issuer=${saIssuer}`,
      `--api-audiences=${saIssuer},k3s`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      `--service-cluster-ip-range=${inv.serviceCidr}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      '--profiling=false',
      // The `kubernetes` Service would get 127.0.0.1 as its endpoint, which the
      // API rejects (loopback) every 10s; nothing in the sandbox dials it.
      '--endpoint-reconciler-type=none',
      // exec, logs and port-forward dial the node's kubelet: by its 127.0.1.x address, never by its
      // name, which would be a DNS query off loopback. With the twin, kwok answers there (twin/pods/);
      // without it nothing listens and the dial is refused locally.
      '--kubelet-preferred-address-types=InternalIP',
    ],
    health: () => probe(`https://127.0.0.1:${state.ports.apiserver}/readyz`, tls),
    newPorts: async () => {
      state.ports.apiserver = await freePort();
    },
    port: () => state.ports.apiserver,
  });
  state.server = `https://127.0.0.1:${state.ports.apiserver}`;
  writeKubeconfig(state.kubeconfig, pki, state.server, inv.clusterName, inv.context);
  writeState(state);
  log(`kube-apiserver started (${state.server})`);

  // kube-controller-manager and kube-scheduler
  const kcArgs = [
    `--kubeconfig=${state.kubeconfig}`,
    `--authentication-kubeconfig=${state.kubeconfig}`,
    `--authorization-kubeconfig=${state.kubeconfig}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
  ];
  [state.ports.controllerManager, state.ports.scheduler] = await freePortPair();
  await start({
    name: 'kube-controller-manager',
    bin: bins.sandbox,
    args: () => [
      'kube-controller-manager',
      ...kcArgs,
      `--secure-port=${state.ports.controllerManager}`,
      `--cert-dir=${join(dir, 'kube-controller-manager')}`,
      `--cluster-name=${inv.clusterName}`,
      // The token controller signs ServiceAccount tokens; the CA goes into kube-root-ca.crt.
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
      `--service-cluster-ip-range=${inv.serviceCidr}`,
      `--cluster-cidr=${inv.podCidr}`,
      // Pod CIDRs are set on the Node objects we create, as K3s's would be.
      '--allocate-node-cidrs=false',
    ],
    health: () => probe(`https://127.0.0.1:${state.ports.controllerManager}/healthz`),
    newPorts: async () => {
      state.ports.controllerManager = await freePort();
    },
    port: () => state.ports.controllerManager,
  });
  log('kube-controller-manager started');
  await start({
    name: 'kube-scheduler',
    bin: bins.sandbox,
    args: () => [
      'kube-scheduler',
      ...kcArgs,
      `--secure-port=${state.ports.scheduler}`,
      `--cert-dir=${join(dir, 'kube-scheduler')}`,
    ],
    health: () => probe(`https://127.0.0.1:${state.ports.scheduler}/healthz`),
    newPorts: async () => {
      state.ports.scheduler = await freePort();
    },
    port: () => state.ports.scheduler,
  });
  log('kube-scheduler started');

  // kwok: the simulated kubelets of the Node objects created below. Without the twin it
  // serves nothing (no --server-address), so it needs no port. With the twin it also serves
  // the kubelet API (exec, logs) from a namespace with only lo (twin/pods/kubelet.ts).
  const kwokArgs = [
    `--kubeconfig=${state.kubeconfig}`,
    `--config=${kwokStages}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    // kwok renews each node's Lease, as a kubelet does every 10 s: without it the node lifecycle
    // controller marks every node NotReady after its grace period (and every pod not Ready with it).
    `--cidr=${inv.podCidr}`,
    '--node-ip=127.0.0.1',
    '--node-lease-duration-seconds=40',
  ];
  const pods = podsServed ? await startPodsKubelet(state, inv, kwokArgs) : undefined;
  const kwok = await start({
    name: 'kwok',
    bin: pods?.bin ?? bins.kwok,
    args: () => pods?.args ?? kwokArgs,
    health: pods?.healthy ?? (async () => ({ ok: true, detail: 'started' })),
    newPorts: async () => {},
  });
  if (pods) {
    await pods.forwardNodes();
    log(
      `kwok serves exec and logs for the twin's pods (each node's ${sandboxAddress(0)}…:${pods.port}, from a namespace with only lo)`,
    );
  }
  log('kwok started (simulated kubelets)');

  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  await createNodes(kc, inv);
  const aborted = () => {
    if (signal?.aborted) return 'interrupted';
    const dead = state.processes.find((p) => !isOurs(p));
    if (dead) return new ComponentError(dead.name, 'exited while the nodes were registering', dead.log).message;
    return kwok.exitedWith() ? `kwok exited: ${kwok.exitedWith()}` : undefined;
  };
  await waitNodesReady(kc, inv, timeoutMs, (n, m) => log(`nodes Ready ${n}/${m}`), aborted);
  await waitDefaultServiceAccount(kc, timeoutMs, aborted);
  writeSandboxInventory(state.inventory, state.sandboxInventory, state.server, sandboxAddress);
}

/**
 * kwok in its own namespace serving the kubelet API, and what the apiserver needs to reach it:
 * the API socket kwok's namespace forwards to, and one loopback forwarder per node address.
 */
async function startPodsKubelet(state: SandboxState, inv: SandboxInventory, kwokArgs: string[]) {
  const pods = await import('./twin/pods/kubelet.ts');
  const which = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim() || c;
  const tools = {
    unshare: which('unshare'),
    bash: which('bash'),
    socat: which('socat'),
    ip: which('ip'),
    mount: which('mount'),
    node: process.execPath,
  };
  const paths = pods.preparePods(state.stateDir, tools);
  const addresses = inv.nodes.map((_, i) => sandboxAddress(i));
  const port = await pods.kubeletPort(addresses);
  const record = (p: Started) => {
    state.processes.push({ name: p.name, pid: p.pid, log: p.log, marker: p.marker });
    writeState(state);
    return p;
  };
  const logs = join(state.stateDir, 'logs');
  record(
    startProcess(
      'kwok/api-forwarder',
      tools.socat,
      [`UNIX-LISTEN:${paths.apiSocket},fork,mode=600,unlink-early`, `TCP:127.0.0.1:${state.ports.apiserver}`],
      join(logs, 'kwok-api-forwarder.log'),
      state.stateDir,
    ),
  );
  pods.writeInit(paths, tools, state.ports.apiserver, port, join(state.binDir, 'kwok'), [
    ...kwokArgs,
    `--server-address=127.0.0.1:${port}`,
    `--node-port=${port}`,
    `--config=${paths.kwokConfig}`,
  ]);
  const { bin, args } = pods.kwokInNamespace(paths, tools);
  return {
    bin,
    args,
    port,
    healthy: () => pods.kubeletHealthy(paths),
    forwardNodes: async () => {
      const started = inv.nodes.map((n, i) =>
        record(
          startProcess(
            `kwok/kubelet ${n.name}`,
            tools.socat,
            [`TCP-LISTEN:${port},bind=${addresses[i]},fork,reuseaddr`, `UNIX-CONNECT:${paths.kubeletSocket}`],
            join(logs, `kwok-kubelet-${n.name}.log`),
            state.stateDir,
          ),
        ),
      );
      // Each listens before the nodes register (the apiserver dials them from then on).
      const deadline = Date.now() + 10_000;
      for (const [i, p] of started.entries()) {
        while (!ownsListenerOn(p.pid, addresses[i]!, port)) {
          if (p.exitedWith()) throw new ComponentError(p.name, `exited: ${p.exitedWith()}`, p.log);
          if (Date.now() > deadline)
            throw new ComponentError(p.name, `does not listen on ${addresses[i]}:${port}`, p.log);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    },
  };
}

/** The process holds a listening socket on address:port (/proc/net/tcp, little-endian hex address). */
function ownsListenerOn(pid: number, address: string, port: number): boolean {
  const hex = address
    .split('.')
    .map(Number)
    .reverse()
    .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
    .join('');
  const want = `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let table = '';
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return false;
  }
  const inodes = table
    .split('\n')
    .filter((l) => l.includes(` ${want} `) && / 0A /.test(l))
    .map((l) => l.trim().split(/\s+/)[9]);
  if (!inodes.length) return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.includes(readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/^socket:\[(\d+)\]$/, '$1'));
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** One process of the control plane: how to start it, how to tell it is up, what to do when its port was taken. */
interface ComponentSpec {
  name: string;
  bin: string;
  /** Its arguments, asked again on every attempt (a retry gets fresh ports). */
  args: () => string[];
  health: () => Promise<ProbeResult>;
  /** Picks new ports (and clears what the failed attempt left) before a retry after "address already in use". */
  newPorts: () => Promise<void>;
  /** The port it must be the one listening on: a healthy answer from another sandbox's process does not count. */
  port?: () => number;
}

interface StartContext {
  state: SandboxState;
  logFile: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

async function startComponent(spec: ComponentSpec, ctx: StartContext): Promise<Started> {
  const { name, bin, args, health, newPorts, port } = spec;
  const { state, logFile, timeoutMs, signal } = ctx;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const proc = startProcess(name, bin, args(), logFile, state.stateDir);
    state.processes.push({ name: proc.name, pid: proc.pid, log: proc.log, marker: proc.marker });
    writeState(state);
    const deadline = Date.now() + timeoutMs;
    let last: ProbeResult = { ok: false, detail: 'not probed yet' };
    for (;;) {
      const exited = proc.exitedWith();
      if (exited) {
        state.processes = state.processes.filter((p) => p.pid !== proc.pid);
        writeState(state);
        // Another process took the port between our check and its bind: retry on fresh ports.
        if (attempt < 4 && /address already in use/i.test(tail(logFile, 40))) {
          await newPorts();
          break;
        }
        throw new ComponentError(name, `exited before becoming healthy (${exited})`, logFile);
      }
      signal?.throwIfAborted();
      last = await health();
      // Healthy, and it is our process answering, not another sandbox's that won the port.
      if (last.ok && (!port || ownsListener(proc.pid, port()))) return proc;
      if (last.ok) last = { ok: false, detail: `port ${port!()} is answered by another process` };
      if (Date.now() > deadline) {
        throw new ComponentError(name, `not healthy after ${timeoutMs / 1000}s (last probe: ${last.detail})`, logFile);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Stops every process recorded in the state dir (last started first) and
 * removes the dir. Returns whether anything was running.
 */
export async function down(stateDir: string): Promise<boolean> {
  const dir = resolve(stateDir);
  const state = readState(dir);
  const recs = state ? [...state.processes].reverse() : [];
  const wasRunning = recs.some(isOurs);
  // Faults first (a paused apiserver would only stop on SIGKILL), then the twin's machines: the API they
  // forward to stays up until they are gone.
  releaseFaults(dir);
  await twinDown(dir);
  await stopProcesses(recs);
  if (existsSync(dir)) {
    if (!state && readdirSync(dir).length > 0) {
      // Refuse to delete a directory this tool did not make.
      throw new Error(`${dir} holds no sandbox (no state.json); not removing it`);
    }
    rmSync(dir, { recursive: true, force: true });
    // The default dir's parent (…/state/k3s-lab-runbooks) was made by us too.
    const parent = dirname(dir);
    if (basename(parent) === 'k3s-lab-runbooks')
      try {
        rmdirSync(parent);
      } catch {
        /* not empty */
      }
  }
  return wasRunning;
}

export interface ComponentStatus {
  name: string;
  pid: number;
  alive: boolean;
  listening?: boolean;
}

export async function status(stateDir: string): Promise<{ state?: SandboxState; components: ComponentStatus[] }> {
  const state = readState(resolve(stateDir));
  if (!state) return { components: [] };
  const portOf: Record<string, number> = {
    etcd: state.ports.etcdClient,
    'kube-apiserver': state.ports.apiserver,
    'kube-controller-manager': state.ports.controllerManager,
    'kube-scheduler': state.ports.scheduler,
  };
  const components = await Promise.all(
    state.processes.map(async (p) => {
      const port = portOf[p.name];
      return { name: p.name, pid: p.pid, alive: isOurs(p), ...(port ? { listening: await isListening(port) } : {}) };
    }),
  );
  return { state, components };
}

/**
 * Last resort for a process that is exiting right now (no awaiting possible):
 * SIGKILL every recorded process group and remove the state dir.
 */
export function killNow(stateDir: string): void {
  const state = readState(resolve(stateDir));
  for (const p of state?.processes ?? []) {
    if (isOurs(p))
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  }
  if (state) rmSync(resolve(stateDir), { recursive: true, force: true });
}

function firstServiceIP(cidr: string): string {
  const parts = cidr.split('/')[0]!.split('.').map(Number);
  parts[3] = (parts[3] ?? 0) + 1;
  return parts.join('.');
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}
