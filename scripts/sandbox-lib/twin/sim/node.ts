// The simulated node the simulator acts on: its directory (<state>/twin/nodes/<node>),
// its state (sim.json), its files (root/), its log (the journal stand-in) and the
// faults the twin has injected. Every command of the simulator starts here.
//
// The simulator always reads and writes the node's files through <nodeDir>/root/…,
// never through the real paths: inside the node's mount namespace both are the same
// files (root/ is bind-mounted over /etc/rancher, /var/lib/rancher, …), and outside
// it (the unit tests) the real paths are the host's and must stay untouched.
import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type ServiceName = 'k3s' | 'k3s-agent';
export type ServiceState = 'active' | 'inactive' | 'failed' | 'activating';

export interface ServiceRecord {
  state: ServiceState;
  /** ISO time of the last change; a fault newer than this wins (see effectiveState). */
  changedAt: string;
  enabled: boolean;
  /** The version the running process was started from (the binary may since have been replaced). */
  runningVersion?: string;
  /** Why the unit is not running, when it failed. */
  result?: string;
}

export interface SimState {
  /** Written by prepareNodeRoot; the simulator never changes these. */
  node: string;
  role: 'server' | 'agent';
  /** The sandbox kubectl binary. */
  kubectl: string;
  /** The kubeconfig the simulator drives the Node object with (https://127.0.0.1:6443 inside the node). */
  kubeconfig: string;
  /** <state>/twin: faults.json, the NAS twin, cluster.json. */
  twinDir: string;
  /** Delay between `systemctl start` and the Node turning Ready. */
  readyDelayMs: number;
  /** How long a simulated reboot keeps the node down. */
  bootMs: number;
  /** The node's stand-in address (127.0.1.x), for ip/ping. */
  address: string;
  /** The other twin machines' stand-in addresses → names (they answer ping and appear as neighbours). */
  peers?: Record<string, string>;
  hardware?: { cpu?: number; memoryGiB?: number; diskGB?: number };
  /** Everything below changes as the node is used. */
  services: Partial<Record<ServiceName, ServiceRecord>>;
  bootId: string;
  bootedAt: string;
  certsRotatedAt: string;
  packagesUpgradedAt?: string;
  /** Security updates the node's archive offers (sim/apt.ts): unattended-upgrade installs them; `reboot` ones ask for a reboot. */
  securityUpdates?: Array<{ package: string; from: string; to: string; reboot?: boolean }>;
  /** Unit files as systemd last loaded them (daemon-reload): `show` and `start` use these. */
  loadedUnits?: Record<string, string>;
  /** Simulated NFS mounts by target; `under`: read-only binds made below it (a share's #snapshot), unmounted first. */
  mounts: Record<string, { source: string; dir: string; readOnly: boolean; bind: boolean; under?: string[] }>;
}

export interface Fault {
  kind: string;
  node?: string;
  since?: string;
  [option: string]: unknown;
}

export class SimError extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.code = code;
  }
}

/** `<command>: refused on the lab twin: <why>` — exit 2, so a step never passes by accident. */
export function refuse(command: string, why: string): never {
  throw new SimError(`${command}: refused on the lab twin (simulation): ${why}`, 2);
}

export class Node {
  readonly dir: string;
  readonly state: SimState;
  private faultsCache: Fault[] | undefined;

  constructor(dir: string) {
    this.dir = dir;
    const file = join(dir, 'sim.json');
    if (!existsSync(file)) {
      throw new SimError(
        `lab twin simulator: ${file} does not exist; the node dir ${dir} was not prepared (prepareNodeRoot)`,
        2,
      );
    }
    this.state = JSON.parse(readFileSync(file, 'utf8')) as SimState;
  }

  get name(): string {
    return this.state.node;
  }
  get isServer(): boolean {
    return this.state.role === 'server';
  }
  get unit(): ServiceName {
    return this.isServer ? 'k3s' : 'k3s-agent';
  }

  /** The node's view of a real path: root('/etc/rancher/k3s/config.yaml'). */
  root(path: string): string {
    return join(this.dir, 'root', path);
  }

  save(): void {
    const file = join(this.dir, 'sim.json');
    writeFileSync(`${file}.tmp`, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }

  /** One journal line for a unit, as journalctl shows it (short format). */
  log(unit: string, message: string, at = new Date()): void {
    const file = this.journalFile(unit);
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify({ t: at.toISOString(), unit, message })}\n`);
  }

  journalFile(unit: string): string {
    return this.root(`/var/log/journal/${unit.replace(/\.service$/, '')}.jsonl`);
  }

  faults(): Fault[] {
    if (this.faultsCache) return this.faultsCache;
    const file = join(this.state.twinDir, 'faults.json');
    let list: unknown = [];
    try {
      list = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      list = [];
    }
    this.faultsCache = Array.isArray(list) ? (list as Fault[]).filter((f) => f && typeof f.kind === 'string') : [];
    return this.faultsCache;
  }

  /** The active fault of this kind that applies to this node (a fault without node applies to all). */
  fault(kind: string): Fault | undefined {
    return this.faults().find((f) => f.kind === kind && (f.node === undefined || f.node === this.name));
  }

  /** The installed binary's version: read from /usr/local/bin/k3s itself, as `k3s --version` does. */
  installedVersion(): string | undefined {
    try {
      return /^# k3s-twin-version: (\S+)$/m.exec(readFileSync(this.root('/usr/local/bin/k3s'), 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  }

  /**
   * A service's state, with the k3s-stopped fault applied: a fault injected after the
   * service last changed means k3s died then; a start after the fault brings it back.
   */
  service(name: ServiceName): ServiceRecord | undefined {
    const rec = this.state.services[name];
    if (!rec) return undefined;
    const f = this.fault('k3s-stopped');
    if (f && rec.state === 'active' && Date.parse(String(f.since ?? 0)) > Date.parse(rec.changedAt)) {
      return { ...rec, state: 'failed', result: 'signal', changedAt: String(f.since) };
    }
    return rec;
  }

  setService(name: ServiceName, patch: Partial<ServiceRecord>): ServiceRecord {
    const prev = this.state.services[name] ?? {
      state: 'inactive',
      changedAt: new Date(0).toISOString(),
      enabled: false,
    };
    const next = { ...prev, ...patch, changedAt: new Date().toISOString() };
    this.state.services[name] = next;
    return next;
  }

  /** The cluster-wide facts every node agrees on: the server token (password part) and its CA hash. */
  cluster(): ClusterFacts {
    return JSON.parse(readFileSync(join(this.state.twinDir, 'cluster.json'), 'utf8')) as ClusterFacts;
  }

  setCluster(facts: ClusterFacts): void {
    writeFileSync(join(this.state.twinDir, 'cluster.json'), `${JSON.stringify(facts, null, 2)}\n`, { mode: 0o600 });
  }
}

export interface ClusterFacts {
  /** The password part of the server token. */
  token: string;
  /** sha256 of the cluster CA, as in the K10<hash>::server:<password> form. */
  caHash: string;
}

/** The node dir: TWIN_NODE_DIR, set by the per-node launcher (or a test). */
/** True when the path exists as an entry (a symlink counts even when its target resolves only inside the node). */
export function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function nodeFromEnv(env: NodeJS.ProcessEnv = process.env): Node {
  const dir = env.TWIN_NODE_DIR;
  if (!dir)
    throw new SimError(
      'lab twin simulator: TWIN_NODE_DIR is not set (run it through the node launcher <nodeDir>/bin/twin-sim)',
      2,
    );
  return new Node(dir);
}

/** The password part of a K3s token: `K10<hash>::server:<password>` or the short form. */
export function tokenPassword(token: string): string {
  const t = token.trim();
  const m = /^K10[0-9a-f]+::[^:]+:(.*)$/.exec(t);
  return m ? (m[1] ?? '') : t;
}
