// Faults of the lab twin: failures an operator rehearses for, injected into a
// running sandbox by `scripts/sandbox fault <kind> [node]` and taken back by
// `fault clear` (or by `down`, which removes everything anyway).
//
// One list of active faults, kept in two places that always agree:
//   <state>/twin/faults.json           read by the twin's simulator (install-fails, …)
//   ConfigMap kube-system/lab-twin     read by the runner: a run whose cluster has it
//                                      (data twin: "true") is recorded as a rehearsal,
//                                      with these faults (runner/run/cluster-link.ts readTwin)
// Faults the API can show (a stopped k3s, pressure, a blocking PDB, the API
// itself) act on the sandbox directly; the others are acted out by the simulator.
import type { KubeConfig } from '@kubernetes/client-node';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { SandboxState } from '../sandbox.ts';
import { probe } from '../health.ts';
import { isOurs, startProcess, stopProcesses, type ProcessRecord } from '../processes.ts';

export const FAULT_KINDS = [
  'k3s-stopped',
  'unreachable',
  'install-fails',
  'never-returns',
  'slow-ready',
  'api-down',
  'pdb-block',
  'disk-pressure',
  'memory-pressure',
  'nas-unreachable',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One active fault, as faults.json and the ConfigMap list it. */
export interface Fault {
  kind: FaultKind;
  /** The inventory node it is on (node faults). */
  node?: string;
  /** When it was injected (ISO 8601). */
  since: string;
  /** When it clears by itself (`--seconds`), if it does. */
  until?: string;
  /** slow-ready: seconds between k3s starting and the node being Ready. */
  delaySeconds?: number;
  /** install-fails: only installs of this version fail (any version when absent). */
  version?: string;
  /** api-down: `pause` (SIGSTOP: requests hang) or `stop` (the process exits: connections are refused). */
  how?: 'pause' | 'stop';
}

export interface FaultSpec {
  kind: FaultKind;
  /** `node`: needs a node; `none`: takes none. */
  target: 'node' | 'none';
  /** `sandbox`: done to the API/processes here; `simulator`: the twin's simulator reads it from faults.json. */
  actedBy: 'sandbox' | 'simulator';
  summary: string;
  /** What it does, for the docs table and `fault --help`. */
  effect: string;
}

/** The annotation the twin's own kwok stages read for a node's pressure conditions (test/cluster/kwok/stages.yaml). */
export const PRESSURE_ANNOTATION = 'twin.k3s-lab/pressure';
/** The annotation the simulator sets for the k3s service (stopped → the kwok stage makes the node NotReady). */
export const K3S_ANNOTATION = 'twin.k3s-lab/k3s';
export const TWIN_CONFIGMAP = { namespace: 'kube-system', name: 'lab-twin' } as const;
/** Where pdb-block puts its workload and budget. */
export const FAULT_NAMESPACE = 'lab-twin-faults';

export const FAULT_TABLE: ReadonlyArray<FaultSpec> = [
  {
    kind: 'k3s-stopped',
    target: 'node',
    actedBy: 'sandbox',
    summary: "the node's K3s stops: NotReady",
    effect: `annotates the Node ${K3S_ANNOTATION}=stopped, so the twin's kwok stage turns Ready to Unknown ("Kubelet stopped posting node status") as a node whose k3s is down; the simulator reports the k3s unit inactive. \`systemctl start k3s\` on the node, or clearing the fault, brings it back`,
  },
  {
    kind: 'unreachable',
    target: 'node',
    actedBy: 'sandbox',
    summary: 'the node cannot be reached: its sshd stops',
    effect:
      "stops the node's sshd (inside its namespaces); ssh to it fails as to a machine that is off the network. The Node object stays as it was. Clearing starts sshd again",
  },
  {
    kind: 'install-fails',
    target: 'node',
    actedBy: 'simulator',
    summary: 'the K3s install script fails on the node',
    effect:
      'the stand-in install script (curl -sfL https://get.k3s.io | … sh -) exits non-zero on this node without touching the installed binary; --version V limits it to installs of V',
  },
  {
    kind: 'never-returns',
    target: 'node',
    actedBy: 'simulator',
    summary: 'the node never comes back after a k3s (re)start',
    effect:
      'after k3s is installed or (re)started on this node, the node stays NotReady: the wait for the new version times out',
  },
  {
    kind: 'slow-ready',
    target: 'node',
    actedBy: 'simulator',
    summary: 'a slow return to Ready',
    effect:
      "after k3s starts on this node, Ready comes only after --delay seconds (default 30) instead of the twin's short delay",
  },
  {
    kind: 'api-down',
    target: 'none',
    actedBy: 'sandbox',
    summary: 'the API server is down',
    effect:
      "pauses the sandbox kube-apiserver's process group (SIGSTOP: requests hang until their deadline), or with --how stop stops the process (connections refused) and starts it again, same port and flags, on clear. Use --seconds N for an outage of N seconds",
  },
  {
    kind: 'pdb-block',
    target: 'node',
    actedBy: 'sandbox',
    summary: 'a PodDisruptionBudget blocks draining the node',
    effect: `runs a one-pod Deployment pdb-block-<node> on the node (namespace ${FAULT_NAMESPACE}) under a PDB with maxUnavailable 0: evicting it is refused with 429, so a drain of the node cannot finish`,
  },
  {
    kind: 'disk-pressure',
    target: 'node',
    actedBy: 'sandbox',
    summary: 'the node reports DiskPressure',
    effect: `annotates the Node ${PRESSURE_ANNOTATION} (disk), so the twin's kwok stage sets the DiskPressure condition True; the controller-manager then taints it node.kubernetes.io/disk-pressure`,
  },
  {
    kind: 'memory-pressure',
    target: 'node',
    actedBy: 'sandbox',
    summary: 'the node reports MemoryPressure',
    effect: `annotates the Node ${PRESSURE_ANNOTATION} (memory), so the twin's kwok stage sets the MemoryPressure condition True; the controller-manager then taints it node.kubernetes.io/memory-pressure`,
  },
  {
    kind: 'nas-unreachable',
    target: 'none',
    actedBy: 'simulator',
    summary: 'the NAS cannot be reached',
    effect:
      'mount -t nfs of the NAS export fails on every node ("Connection timed out"), and a mounted NAS directory refuses reads and writes',
  },
];

export function faultSpec(kind: string): FaultSpec | undefined {
  return FAULT_TABLE.find((f) => f.kind === kind);
}

/** A fault that cannot be injected or cleared as asked: the message says what to do instead. */
export class FaultRefused extends Error {
  /** 2: refused as asked; 3: there is no running sandbox (as `status` and `env` say it). */
  readonly exitCode: 2 | 3;
  constructor(message: string, exitCode: 2 | 3 = 2) {
    super(message);
    this.name = 'FaultRefused';
    this.exitCode = exitCode;
  }
}

export const twinDir = (stateDir: string) => join(resolve(stateDir), 'twin');
export const faultsFile = (stateDir: string) => join(twinDir(stateDir), 'faults.json');
/** What clearing must undo (timer pids, the stopped apiserver's command line): ours only, never published. */
const undoFile = (stateDir: string) => join(twinDir(stateDir), 'fault-undo.json');
const lockDir = (stateDir: string) => join(twinDir(stateDir), 'faults.lock');

interface Undo {
  /** `<kind>` or `<kind>@<node>` → what that fault left to undo. */
  [key: string]: { timer?: ProcessRecord; apiserver?: { bin: string; args: string[]; rec: ProcessRecord } };
}

const keyOf = (f: Pick<Fault, 'kind' | 'node'>) => (f.node ? `${f.kind}@${f.node}` : f.kind);

// ------------------------------------------------------------------ reading

function readJson<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(resolve(file, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The active faults ([] when none, or when there is no sandbox). */
export function readFaults(stateDir: string): Fault[] {
  const list = readJson<unknown>(faultsFile(stateDir), []);
  return Array.isArray(list) ? (list as Fault[]) : [];
}

/** The sandbox's state; `starting` is enough for publishTwin, which `up` calls before it says running. */
function readSandbox(stateDir: string, starting = false): SandboxState {
  const state = readJson<SandboxState | undefined>(join(resolve(stateDir), 'state.json'), undefined);
  const running =
    (state?.phase === 'running' || (starting && state?.phase === 'starting')) && state.processes.length > 0;
  if (!state || !running) {
    throw new FaultRefused(`no running sandbox in ${resolve(stateDir)}; start one with: scripts/sandbox up`, 3);
  }
  return state;
}

/** The twin is up when twin-machine wrote twin.json; without it (`up --no-twin`) there are no node machines. */
export function twinIsUp(stateDir: string): boolean {
  return existsSync(join(twinDir(stateDir), 'twin.json'));
}

// ------------------------------------------------------------------ publishing

async function kubeConfig(state: SandboxState): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  return kc;
}

const httpCode = (err: unknown) => (err as { code?: number }).code;

/**
 * Writes the list to faults.json and to the ConfigMap kube-system/lab-twin.
 * `up` calls this once with [] once the twin is up (twin.json written), so the
 * twin announces itself before any run; every fault change calls it again.
 */
export async function publishTwin(stateDir: string, faults: Fault[] = readFaults(stateDir)): Promise<void> {
  const state = readSandbox(stateDir, true);
  writeJson(faultsFile(stateDir), faults);
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const core = (await kubeConfig(state)).makeApiClient(CoreV1Api);
  const body = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...TWIN_CONFIGMAP, labels: { 'app.kubernetes.io/managed-by': 'scripts-sandbox' } },
    // twin: "false" on a sandbox without the twin: its faults are shown, but runs there are no rehearsals.
    data: { twin: String(twinIsUp(stateDir)), faults: JSON.stringify(faults) },
  };
  try {
    await core.replaceNamespacedConfigMap({ ...TWIN_CONFIGMAP, body });
  } catch (err) {
    if (httpCode(err) !== 404) throw err;
    await core.createNamespacedConfigMap({ namespace: TWIN_CONFIGMAP.namespace, body });
  }
}

/** Serialises changes to the list (a `--seconds` timer may clear while someone injects). */
async function withLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const dir = lockDir(stateDir);
  mkdirSync(twinDir(stateDir), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch {
      // A holder that died (Ctrl-C) leaves the dir: stale after a minute.
      try {
        if (Date.now() - statSync(dir).mtimeMs > 60_000) rmSync(dir, { recursive: true, force: true });
      } catch {
        /* gone */
      }
      if (Date.now() > deadline)
        throw new FaultRefused(
          `another \`scripts/sandbox fault\` holds ${dir}; wait for it, or remove the dir if none runs`,
        );
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ injecting

export interface InjectOptions {
  node?: string;
  /** Clear by itself after this many seconds. */
  seconds?: number;
  delaySeconds?: number;
  version?: string;
  how?: 'pause' | 'stop';
  /** The `cli.ts` that a `--seconds` timer runs `fault clear` with (default: this project's). */
  cli?: string;
}

const defaultCli = fileURLToPath(new URL('../cli.ts', import.meta.url));

export async function injectFault(stateDir: string, kind: string, opts: InjectOptions = {}): Promise<Fault> {
  const spec = faultSpec(kind);
  if (!spec) throw new FaultRefused(`unknown fault "${kind}"; the kinds are: ${FAULT_KINDS.join(', ')}`);
  const state = readSandbox(stateDir);
  if (spec.target === 'node') {
    if (!opts.node)
      throw new FaultRefused(
        `${kind} needs a node: scripts/sandbox fault ${kind} <node> (nodes: ${state.nodes.join(', ')})`,
      );
    if (!state.nodes.includes(opts.node))
      throw new FaultRefused(`${kind}: no node "${opts.node}" in this sandbox (nodes: ${state.nodes.join(', ')})`);
  } else if (opts.node) {
    throw new FaultRefused(`${kind} takes no node (it is not a node fault)`);
  }
  if ((spec.actedBy === 'simulator' || kind === 'unreachable') && !twinIsUp(stateDir)) {
    throw new FaultRefused(
      `${kind} is acted out by the twin's node machines, and this sandbox runs without the twin; start it with the twin: scripts/sandbox down && scripts/sandbox up`,
    );
  }
  if (opts.seconds !== undefined && !(Number.isFinite(opts.seconds) && opts.seconds > 0)) {
    throw new FaultRefused(`--seconds must be a positive number of seconds, not ${opts.seconds}`);
  }
  if (opts.delaySeconds !== undefined && kind !== 'slow-ready')
    throw new FaultRefused('--delay goes with slow-ready only');
  if (opts.version !== undefined && kind !== 'install-fails')
    throw new FaultRefused('--version goes with install-fails only');
  if (opts.how !== undefined && kind !== 'api-down') throw new FaultRefused('--how goes with api-down only');
  if (opts.how !== undefined && opts.how !== 'pause' && opts.how !== 'stop')
    throw new FaultRefused(`--how is pause or stop, not "${opts.how}"`);

  return withLock(stateDir, async () => {
    const faults = readFaults(stateDir);
    const existing = faults.find((f) => f.kind === kind && f.node === opts.node);
    if (existing) {
      throw new FaultRefused(
        `${kind}${opts.node ? ` on ${opts.node}` : ''} is already active (since ${existing.since}); clear it first: scripts/sandbox fault clear ${kind}${opts.node ? ` ${opts.node}` : ''}`,
      );
    }
    const now = new Date();
    const fault: Fault = {
      kind: kind as FaultKind,
      ...(opts.node ? { node: opts.node } : {}),
      since: now.toISOString(),
      ...(opts.seconds ? { until: new Date(now.getTime() + opts.seconds * 1000).toISOString() } : {}),
      ...(kind === 'slow-ready' ? { delaySeconds: opts.delaySeconds ?? 30 } : {}),
      ...(opts.version ? { version: opts.version } : {}),
      ...(kind === 'api-down' ? { how: opts.how ?? 'pause' } : {}),
    };
    const undo = readJson<Undo>(undoFile(stateDir), {});
    const entry: Undo[string] = {};
    const next = [...faults, fault];
    if (kind === 'api-down') {
      // Published before the API goes: the runner reads the ConfigMap, which cannot be written while it is down.
      await publishTwin(stateDir, next);
      entry.apiserver = await apiDown(state, fault.how!);
    } else {
      await act(state, stateDir, fault, true, faults);
      await publishTwin(stateDir, next);
    }
    if (opts.seconds) entry.timer = startTimer(stateDir, fault, opts.seconds, opts.cli ?? defaultCli);
    undo[keyOf(fault)] = entry;
    writeJson(undoFile(stateDir), undo);
    return fault;
  });
}

/** A detached `fault clear` that waits first; recorded so a manual clear or `down` ends it. */
function startTimer(stateDir: string, fault: Fault, seconds: number, cli: string): ProcessRecord {
  const args = [
    cli,
    'fault',
    'clear',
    fault.kind,
    ...(fault.node ? [fault.node] : []),
    '--state-dir',
    resolve(stateDir),
    '--after',
    String(seconds),
    '--only-since',
    fault.since,
  ];
  const log = join(resolve(stateDir), 'logs', 'fault-timers.log');
  mkdirSync(join(resolve(stateDir), 'logs'), { recursive: true });
  const p = startProcess(`fault-timer ${keyOf(fault)}`, process.execPath, args, log, resolve(stateDir));
  return { name: p.name, pid: p.pid, log: p.log, marker: p.marker };
}

// ------------------------------------------------------------------ clearing

export interface ClearOptions {
  /** A kind, or every fault when absent / 'all'. */
  kind?: string;
  node?: string;
  /** Only the fault injected at this instant (a timer must not clear a newer fault of the same kind). */
  onlySince?: string;
  /** Set by the timer process itself: do not kill it. */
  fromTimer?: boolean;
}

/** Clears the matching faults (undoing what each did) and returns them. */
export async function clearFaults(stateDir: string, opts: ClearOptions = {}): Promise<Fault[]> {
  const kind = opts.kind === 'all' ? undefined : opts.kind;
  if (kind && !faultSpec(kind))
    throw new FaultRefused(`unknown fault "${kind}"; the kinds are: ${FAULT_KINDS.join(', ')} (or all)`);
  const state = readSandbox(stateDir);
  return withLock(stateDir, async () => {
    const faults = readFaults(stateDir);
    const match = (f: Fault) =>
      (!kind || f.kind === kind) &&
      (!opts.node || f.node === opts.node) &&
      (!opts.onlySince || f.since === opts.onlySince);
    const cleared = faults.filter(match);
    const left = faults.filter((f) => !match(f));
    const undo = readJson<Undo>(undoFile(stateDir), {});
    // The API first: every other undo and the publication need it.
    for (const f of [...cleared].sort((a, b) => Number(b.kind === 'api-down') - Number(a.kind === 'api-down'))) {
      const entry = undo[keyOf(f)] ?? {};
      if (entry.timer && !opts.fromTimer && isOurs(entry.timer)) await stopProcesses([entry.timer], 2_000);
      if (f.kind === 'api-down') await apiBack(state, stateDir, entry.apiserver);
      else await act(state, stateDir, f, false, left);
      delete undo[keyOf(f)];
    }
    writeJson(undoFile(stateDir), undo);
    await publishTwin(stateDir, left);
    return cleared;
  });
}

/**
 * For `down`, before it stops the processes (synchronous, safe to call when
 * nothing is active): ends the `--seconds` timers and resumes a paused API
 * server, which would otherwise ignore SIGTERM until the SIGKILL 10 s later.
 * Everything else a fault did lives in the state dir or in etcd, and goes with them.
 */
export function releaseFaults(stateDir: string): void {
  const undo = readJson<Undo>(undoFile(stateDir), {});
  for (const entry of Object.values(undo)) {
    if (entry.timer && isOurs(entry.timer))
      try {
        process.kill(-entry.timer.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  }
  const state = readJson<SandboxState | undefined>(join(resolve(stateDir), 'state.json'), undefined);
  const apiserver = state?.processes.find((p) => p.name === 'kube-apiserver');
  if (apiserver && isOurs(apiserver))
    try {
      process.kill(-apiserver.pid, 'SIGCONT');
    } catch {
      /* gone */
    }
}

// ------------------------------------------------------------------ what each fault does

async function act(state: SandboxState, stateDir: string, f: Fault, on: boolean, others: Fault[] = []): Promise<void> {
  switch (f.kind) {
    case 'k3s-stopped':
      return annotateNode(state, f.node!, { [K3S_ANNOTATION]: on ? 'stopped' : 'running' });
    case 'disk-pressure':
    case 'memory-pressure': {
      // Both kinds share one annotation: its value lists what is under pressure ("disk", "memory", "disk,memory").
      const kinds = new Set(others.filter((o) => o.node === f.node && o.kind.endsWith('-pressure')).map((o) => o.kind));
      if (on) kinds.add(f.kind);
      else kinds.delete(f.kind);
      const value = ['disk', 'memory'].filter((k) => kinds.has(`${k}-pressure` as FaultKind)).join(',');
      return annotateNode(state, f.node!, { [PRESSURE_ANNOTATION]: value || null });
    }
    case 'pdb-block':
      return on ? pdbBlock(state, f.node!) : pdbUnblock(state, f.node!, others);
    case 'unreachable':
      await setNodeSshd(stateDir, f.node!, !on);
      return setOperatorRoute(stateDir, f.node!, !on);
    // Acted out by the simulator from faults.json.
    case 'install-fails':
    case 'never-returns':
    case 'slow-ready':
    case 'nas-unreachable':
    case 'api-down':
      return;
  }
}

async function annotateNode(
  state: SandboxState,
  node: string,
  annotations: Record<string, string | null>,
): Promise<void> {
  const { CoreV1Api, setHeaderOptions, PatchStrategy } = await import('@kubernetes/client-node');
  const core = (await kubeConfig(state)).makeApiClient(CoreV1Api);
  await core.patchNode(
    { name: node, body: { metadata: { annotations } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** twin-machine's sshd control (scripts/sandbox-lib/twin/index.ts), loaded only for this fault. */
async function setNodeSshd(stateDir: string, node: string, running: boolean): Promise<void> {
  const spec = './index.ts';
  const machine = (await import(spec).catch(() => undefined)) as
    | { setNodeSshd?: (stateDir: string, node: string, running: boolean) => Promise<void> }
    | undefined;
  if (typeof machine?.setNodeSshd !== 'function') {
    throw new FaultRefused(
      "unreachable needs the twin's sshd control (setNodeSshd in scripts/sandbox-lib/twin/index.ts), which this checkout does not have",
    );
  }
  await machine.setNodeSshd(resolve(stateDir), node, running);
}

/** The operator's machine loses (or regains) its route to the node too (operator.ts, setOperatorReach). */
async function setOperatorRoute(stateDir: string, node: string, reachable: boolean): Promise<void> {
  const [{ readTwin }, { setOperatorReach }] = await Promise.all([import('./index.ts'), import('./operator.ts')]);
  const address = readTwin(resolve(stateDir))?.nodes.find((n) => n.name === node)?.address;
  if (address) setOperatorReach(resolve(stateDir), address, reachable);
}

const pdbName = (node: string) => `pdb-block-${node}`;

async function pdbBlock(state: SandboxState, node: string): Promise<void> {
  const lib = await import('@kubernetes/client-node');
  const kc = await kubeConfig(state);
  const core = kc.makeApiClient(lib.CoreV1Api);
  const apps = kc.makeApiClient(lib.AppsV1Api);
  const policy = kc.makeApiClient(lib.PolicyV1Api);
  const name = pdbName(node);
  const labels = { app: 'pdb-block', 'twin.k3s-lab/fault-node': node };
  try {
    await core.createNamespace({
      body: { metadata: { name: FAULT_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'scripts-sandbox' } } },
    });
  } catch (err) {
    if (httpCode(err) !== 409) throw err;
  }
  await policy.createNamespacedPodDisruptionBudget({
    namespace: FAULT_NAMESPACE,
    body: {
      metadata: { name, labels },
      spec: { maxUnavailable: 0, selector: { matchLabels: labels } },
    },
  });
  await apps.createNamespacedDeployment({
    namespace: FAULT_NAMESPACE,
    body: {
      metadata: { name, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            // Bound to the node directly: it lands even on a cordoned node, as a pod that was there before the cordon.
            nodeName: node,
            tolerations: [{ operator: 'Exists' }],
            containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }],
          },
        },
      },
    },
  });
  // Blocking only once the disruption controller has counted the pod: until then an eviction may pass.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pdb = await policy.readNamespacedPodDisruptionBudget({ name, namespace: FAULT_NAMESPACE });
    const pods = await core.listNamespacedPod({
      namespace: FAULT_NAMESPACE,
      labelSelector: `twin.k3s-lab/fault-node=${node}`,
    });
    const running = pods.items.filter((p) => p.status?.phase === 'Running').length;
    if (running === 1 && pdb.status?.currentHealthy === 1 && pdb.status.disruptionsAllowed === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `pdb-block on ${node}: the pod is not Running under its budget after 60 s (running ${running}, budget ${JSON.stringify(pdb.status ?? {})})`,
      );
    }
    await sleep(250);
  }
}

async function pdbUnblock(state: SandboxState, node: string, others: Fault[]): Promise<void> {
  const lib = await import('@kubernetes/client-node');
  const kc = await kubeConfig(state);
  const ignore404 = (err: unknown) => {
    if (httpCode(err) !== 404) throw err;
  };
  const name = pdbName(node);
  await kc
    .makeApiClient(lib.AppsV1Api)
    .deleteNamespacedDeployment({ name, namespace: FAULT_NAMESPACE, propagationPolicy: 'Background' })
    .catch(ignore404);
  await kc
    .makeApiClient(lib.PolicyV1Api)
    .deleteNamespacedPodDisruptionBudget({ name, namespace: FAULT_NAMESPACE })
    .catch(ignore404);
  if (!others.some((f) => f.kind === 'pdb-block')) {
    await kc.makeApiClient(lib.CoreV1Api).deleteNamespace({ name: FAULT_NAMESPACE }).catch(ignore404);
  }
}

function apiserverOf(state: SandboxState): ProcessRecord {
  const rec = state.processes.find((p) => p.name === 'kube-apiserver');
  if (!rec || !isOurs(rec))
    throw new FaultRefused('the sandbox kube-apiserver is not running (see scripts/sandbox status)');
  return rec;
}

async function apiDown(state: SandboxState, how: 'pause' | 'stop'): Promise<Undo[string]['apiserver']> {
  const rec = apiserverOf(state);
  if (how === 'pause') {
    process.kill(-rec.pid, 'SIGSTOP');
    return undefined;
  }
  // Its command line, to start the same process again (same port, flags, log) on clear.
  const [bin, ...args] = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  await stopProcesses([rec]);
  return { bin: bin!, args, rec };
}

async function apiBack(state: SandboxState, stateDir: string, stopped: Undo[string]['apiserver']): Promise<void> {
  if (!stopped) {
    const rec = state.processes.find((p) => p.name === 'kube-apiserver');
    if (rec && isOurs(rec)) process.kill(-rec.pid, 'SIGCONT');
  } else if (!isOurs(state.processes.find((p) => p.name === 'kube-apiserver') ?? stopped.rec)) {
    const again = startProcess(stopped.rec.name, stopped.bin, stopped.args, stopped.rec.log, stopped.rec.marker);
    // Recorded where `down` and `status` look for it (state.json, written as sandbox.ts writes it).
    const file = join(resolve(stateDir), 'state.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
    saved.processes = saved.processes.map((p) =>
      p.name === stopped.rec.name ? { name: again.name, pid: again.pid, log: again.log, marker: again.marker } : p,
    );
    writeJson(file, saved);
    state.processes = saved.processes;
  }
  const pki = join(resolve(stateDir), 'pki');
  const tls = {
    ca: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(pki, 'admin.crt'), 'utf8'),
    key: readFileSync(join(pki, 'admin.key'), 'utf8'),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await probe(`${state.server}/readyz`, tls);
    if (r.ok) return;
    if (Date.now() > deadline)
      throw new Error(
        `the kube-apiserver did not answer /readyz within 60 s after the api-down fault was cleared (last: ${r.detail})`,
      );
    await sleep(200);
  }
}

// ------------------------------------------------------------------ showing

/** One line per active fault, for `scripts/sandbox status` and `fault list`. */
export function faultLines(stateDir: string, now = Date.now()): string[] {
  return readFaults(stateDir).map(describeFault(now));
}

export function describeFault(now = Date.now()): (f: Fault) => string {
  return (f) => {
    const opts = [
      f.how && `--how ${f.how}`,
      f.delaySeconds !== undefined && `--delay ${f.delaySeconds}`,
      f.version && `--version ${f.version}`,
    ].filter(Boolean);
    const left = f.until ? Math.max(0, Math.round((Date.parse(f.until) - now) / 1000)) : undefined;
    return (
      `${f.kind}${f.node ? ` ${f.node}` : ''}${opts.length ? ` (${opts.join(', ')})` : ''} since ${f.since}` +
      (left !== undefined ? `, clears by itself in ${left} s` : ', until `scripts/sandbox fault clear`')
    );
  };
}

/**
 * The `--seconds` timer's wait: in steps of a second, so a sandbox that went
 * away meanwhile (`down`) ends the timer at once. Resolves false then.
 */
export async function waitWhileSandbox(stateDir: string, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (!existsSync(join(resolve(stateDir), 'state.json'))) return false;
    const left = deadline - Date.now();
    if (left <= 0) return true;
    await sleep(Math.min(1000, left));
  }
}
