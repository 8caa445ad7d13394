// The operator's machine of the twin: where a rehearsal runs its LOCAL steps.
//
// A run's local steps run on the operator's workstation; in the lab they reach
// https://grafana.home.jetzinger.com and friends. A rehearsal runs them on this
// host, so they would ask the host's DNS and send packets off loopback. Instead
// the runner enters this namespace for every local step (RUNBOOK_STEP_NAMESPACE,
// runner/execute/local.ts): a process tree started by
// `unshare --pid --net --mount --fork --kill-child` whose network has only `lo`
// and whose mount namespace differs from the host's in a few bound files:
//
//   /etc/hosts        every lab hostname of src/content/lab/services.yaml → 127.0.0.1
//   /etc/resolv.conf  nameserver 127.0.0.1, where nothing answers: DNS fails at once
//   /etc/nsswitch.conf  hosts: files dns (no resolved/mdns module reaching a host daemon)
//   the system CA bundle  the host's, with the twin CA appended: TLS verifies
//
// Inside, 127.0.0.1:<the apiserver's own port> forwards to the sandbox API
// (socat → <state>/twin/api.sock), so the run's kubeconfig works unchanged, and
// operator-web.ts answers the lab's services on 127.0.0.1:443 and :80. Unix
// sockets are the filesystem's, so the twin's ssh ProxyCommand reaches the
// nodes from inside. /proc stays the host's (no --mount-proc): the runner enters
// the network and mount namespaces only, never the pid namespace, so a step's
// pids, process group and marks are the host's as before.
//
// Files: <state>/twin/operator/{init.sh,hosts,resolv.conf,nsswitch.conf,ca.crt,
// server.crt,server.key,ca-bundle/*,web.json,ready,namespace.json,operator.log}.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isOurs, startProcess, tail, type ProcessRecord } from '../processes.ts';
import { makeTwinCertificates } from './operator-ca.ts';
import { loadServices, servicesFile } from './operator-services.ts';
import type { WebConfig } from './operator-web.ts';
import { childPid } from './machine.ts';

/** What `scripts/sandbox env` exports: the runner enters the namespace this file names for every local step. */
export const STEP_NAMESPACE_VAR = 'RUNBOOK_STEP_NAMESPACE';

/** The host's CA bundles that get the twin CA appended inside (Debian/Ubuntu, Fedora/RHEL, Alpine/others). */
export const CA_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
] as const;

export interface OperatorTools {
  unshare: string;
  bash: string;
  socat: string;
  ip: string;
  mount: string;
  sleep: string;
  node: string;
}

export interface OperatorSpec {
  stateDir: string;
  twinDir: string;
  apiSocket: string;
  /** The sandbox apiserver's port on the host's 127.0.0.1: the same port answers inside. */
  apiPort: number;
  tools: OperatorTools;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Defaults to src/content/lab/services.yaml. */
  servicesFile?: string;
  /**
   * The twin's machines: each one's stand-in address answers on port 22 here (forwarded to its
   * ssh.sock) and to the simulated ping (operatorPing), as the lab's machines answer the operator.
   */
  nodes?: Array<{ address: string; sshSocket: string }>;
}

/** <state>/twin/operator/namespace.json: what the runner reads to enter the namespace. */
export interface StepNamespace {
  /** Host pid of the namespace's pid 1 (bash init.sh): the runner enters /proc/<pid>/ns/{net,mnt}. */
  pid: number;
  /** Its init script; the runner checks pid's command line is exactly `bash <init>`. */
  init: string;
  stateDir: string;
  hostnames: string[];
  caCert: string;
}

export function operatorPaths(twinDir: string) {
  const dir = join(twinDir, 'operator');
  return {
    dir,
    init: join(dir, 'init.sh'),
    log: join(dir, 'operator.log'),
    hosts: join(dir, 'hosts'),
    resolv: join(dir, 'resolv.conf'),
    nsswitch: join(dir, 'nsswitch.conf'),
    caCert: join(dir, 'ca.crt'),
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
    bundles: join(dir, 'ca-bundle'),
    web: join(dir, 'web.json'),
    ready: join(dir, 'ready'),
    namespace: join(dir, 'namespace.json'),
    /** Shims laid over /usr/local/bin inside (an overlay, read-only): the simulated ping. */
    shims: join(dir, 'bin'),
  };
}

export const namespaceFile = (stateDir: string) => operatorPaths(join(resolve(stateDir), 'twin')).namespace;

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const realpath = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
};

export interface OperatorFiles {
  hostnames: string[];
  /** host path → the twin's file bound over it inside the namespace. */
  binds: Array<{ source: string; target: string }>;
}

/** Writes the namespace's files: hosts, resolv.conf, nsswitch.conf, certificates, CA bundles, web.json, init.sh. */
export function prepareOperator(spec: OperatorSpec): OperatorFiles {
  const p = operatorPaths(spec.twinDir);
  rmSync(p.dir, { recursive: true, force: true });
  mkdirSync(p.bundles, { recursive: true, mode: 0o700 });
  const services = loadServices(spec.servicesFile ?? servicesFile);
  const hostnames = services.map((s) => s.hostname);
  const binds: OperatorFiles['binds'] = [];

  const hostsTarget = realpath('/etc/hosts');
  if (!hostsTarget)
    throw new Error("the twin's operator namespace binds its hosts file over /etc/hosts, and this host has none");
  writeFileSync(
    p.hosts,
    [
      "# The lab twin's operator namespace (scripts/sandbox-lib/twin/operator.ts): only loopback exists here.",
      "# The lab's services (src/content/lab/services.yaml) answer on 127.0.0.1, simulated; nothing else resolves.",
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      `127.0.1.1\t${hostname()}`,
      ...services.map((s) => `127.0.0.1\t${s.hostname}\t# ${s.name} (lab twin, simulated)`),
      '',
    ].join('\n'),
  );
  binds.push({ source: p.hosts, target: hostsTarget });

  // A nameserver on the namespace's own loopback where nothing listens: a query is refused at once, and no packet leaves.
  writeFileSync(
    p.resolv,
    "# The lab twin's operator namespace: no DNS here (nothing listens on 127.0.0.1:53); names are in /etc/hosts.\n" +
      'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
  );
  const resolvTarget = realpath('/etc/resolv.conf');
  if (resolvTarget) binds.push({ source: p.resolv, target: resolvTarget });
  // Without resolv.conf glibc asks 127.0.0.1 too: the same answer.

  // nss modules such as resolve (systemd-resolved) or mdns ask a host daemon over a unix socket: files and dns only.
  const nssTarget = realpath('/etc/nsswitch.conf');
  if (nssTarget) {
    const lines = readFileSync(nssTarget, 'utf8')
      .split('\n')
      .filter((l) => !/^\s*hosts\s*:/.test(l));
    writeFileSync(
      p.nsswitch,
      `${lines.join('\n').trimEnd()}\n# The lab twin's operator namespace: names from /etc/hosts only.\nhosts: files dns\n`,
    );
    binds.push({ source: p.nsswitch, target: nssTarget });
  }

  const certs = makeTwinCertificates(hostnames);
  writeFileSync(p.caCert, certs.caCert);
  writeFileSync(p.cert, certs.serverCert);
  writeFileSync(p.key, certs.serverKey, { mode: 0o600 });
  const seen = new Set<string>();
  CA_BUNDLES.forEach((bundle, i) => {
    const target = realpath(bundle);
    if (!target || seen.has(target)) return;
    seen.add(target);
    const source = join(p.bundles, `${i}-${bundle.split('/').pop()}`);
    const host = readFileSync(target, 'utf8');
    writeFileSync(
      source,
      `${host.trimEnd()}\n\n# The lab twin's CA (scripts/sandbox-lib/twin/operator.ts): only inside the operator namespace.\n${certs.caCert}`,
    );
    binds.push({ source, target });
  });

  const web: WebConfig = {
    servicesFile: spec.servicesFile ?? servicesFile,
    cert: p.cert,
    key: p.key,
    https: 443,
    http: 80,
    apiPort: spec.apiPort,
    ready: p.ready,
  };
  writeFileSync(p.web, `${JSON.stringify(web, null, 2)}\n`);
  mkdirSync(p.shims, { recursive: true });
  writeFileSync(join(p.shims, 'ping'), operatorPing((spec.nodes ?? []).map((n) => n.address)), { mode: 0o755 });
  writeFileSync(p.init, initScript(spec, binds), { mode: 0o755 });
  return { hostnames, binds };
}

export function initScript(spec: OperatorSpec, binds: OperatorFiles['binds']): string {
  const t = spec.tools;
  const p = operatorPaths(spec.twinDir);
  const webEntry = new URL('./operator-web.ts', import.meta.url).pathname;
  return `#!${t.bash}
# pid 1 of the lab twin's operator namespace (written by scripts/sandbox-lib/twin/operator.ts, run through unshare).
# The runner runs every local step of a rehearsal in this network and mount namespace (RUNBOOK_STEP_NAMESPACE).
# When it ends, the kernel ends every process of the namespace and drops every mount made here.
set -euo pipefail
${q(t.ip)} link set lo up
# Inside this mount namespace only (unshare --propagation private): the host's files stay as they are.
${binds.map((b) => `${q(t.mount)} --bind ${q(b.source)} ${q(b.target)}`).join('\n')}
# The run's kubeconfig names https://127.0.0.1:${spec.apiPort}: the same port leads to the sandbox API here.
${q(t.socat)} TCP-LISTEN:${spec.apiPort},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${q(spec.apiSocket)} &
# Each twin machine's address answers on port 22 (its sshd, through its ssh.sock), as a lab machine answers the operator.
${(spec.nodes ?? []).map((n) => `${q(t.socat)} TCP-LISTEN:22,bind=${n.address},fork,reuseaddr UNIX-CONNECT:${q(n.sshSocket)} &`).join('\n')}
# The simulated ping over /usr/local/bin (first in PATH); the host's /usr/local/bin shows through below it.
${q(t.mount)} -t overlay lab-twin-operator -o ro,lowerdir=${q(p.shims)}:/usr/local/bin /usr/local/bin
# The lab's web services on 127.0.0.1:443 and :80 (src/content/lab/services.yaml).
${q(t.node)} ${q(webEntry)} ${q(p.web)} &
# Keeps pid 1 (and so the namespace) until unshare is stopped, even if a server above ends.
${q(t.sleep)} infinity &
wait
`;
}

/**
 * `ping` in the operator namespace, simulated (the namespace has only lo, and the host may
 * have no ping): a twin machine's address replies while its port 22 accepts here (the
 * `unreachable` fault blackholes it, setOperatorReach); 127.0.0.1 replies; anything else is
 * unreachable. Options are read as ping reads them; -c sets the count.
 */
export function operatorPing(addresses: string[]): string {
  return `#!/bin/bash
# ping in the lab twin's operator namespace (simulated, scripts/sandbox-lib/twin/operator.ts): no ICMP is sent.
count=3 host=
while [ $# -gt 0 ]; do
  case "$1" in
    -c) count="$2"; shift 2 ;;
    -c*) count="\${1#-c}"; shift ;;
    -[WwiIstQlpSM]) shift 2 ;;
    -*) shift ;;
    *) host="$1"; shift ;;
  esac
done
[ -n "$host" ] || { echo "ping: usage error: Destination address required" >&2; exit 2; }
if [[ "$host" =~ ^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$ ]]; then addr="$host"; else addr="$(getent ahostsv4 "$host" 2>/dev/null | awk '{ print $1; exit }')"; fi
[ -n "$addr" ] || { echo "ping: $host: Name or service not known (lab twin operator namespace)" >&2; exit 2; }
case " 127.0.0.1 ${addresses.join(' ')} " in
  *" $addr "*) ;;
  *) echo "ping: connect: Network is unreachable (lab twin operator namespace: only the twin's machines answer)" >&2; exit 2 ;;
esac
echo "PING $host ($addr) 56(84) bytes of data. (lab twin, simulated)"
if [ "$addr" = 127.0.0.1 ] || timeout 2 bash -c "</dev/tcp/$addr/22" 2>/dev/null; then
  for i in $(seq 1 "$count"); do echo "64 bytes from $addr: icmp_seq=$i ttl=64 time=0.1 ms"; done
  echo; echo "--- $host ping statistics ---"; echo "$count packets transmitted, $count received, 0% packet loss"
  exit 0
fi
for i in $(seq 1 "$count"); do echo "From $addr icmp_seq=$i Destination Host Unreachable"; done
echo; echo "--- $host ping statistics ---"; echo "$count packets transmitted, 0 received, +$count errors, 100% packet loss"
exit 1
`;
}

/**
 * The \`unreachable\` fault seen from the operator's machine: the node's address is
 * blackholed inside the namespace (a /32 in its local table), so ping and port 22 fail
 * there as they do for a machine off the network. Nothing changes outside the namespace.
 */
export function setOperatorReach(stateDir: string, address: string, reachable: boolean): void {
  const ns = readNamespace(stateDir);
  if (!ns?.pid || !holder(stateDir)) return; // no operator namespace: nothing to change
  const args = [
    `--net=/proc/${ns.pid}/ns/net`,
    '--',
    'ip',
    'route',
    reachable ? 'del' : 'replace',
    'blackhole',
    `${address}/32`,
    'table',
    'local',
  ];
  const r = spawnSync('nsenter', args, { encoding: 'utf8' });
  if (r.status !== 0 && !(reachable && /No such process|not found/i.test(r.stderr))) {
    throw new Error(
      `could not ${reachable ? 'restore' : 'cut'} the operator's route to ${address}: ${r.stderr.trim() || r.error?.message}`,
    );
  }
}

export interface OperatorRecord extends ProcessRecord {
  /** Host pid of the namespace's pid 1. */
  initPid: number;
}

/**
 * Writes the operator namespace's files and starts it. `onProcess` gets the
 * unshare process as soon as it exists (the twin records it for `down`).
 * Resolves once the web services listen and the API port accepts inside.
 */
export async function startOperator(
  spec: OperatorSpec,
  onProcess?: (rec: ProcessRecord) => void,
): Promise<OperatorRecord> {
  const p = operatorPaths(spec.twinDir);
  const files = prepareOperator(spec);
  const marker = resolve(spec.stateDir);
  const proc = startProcess(
    'twin/operator',
    spec.tools.unshare,
    [
      '--pid',
      '--net',
      '--mount',
      '--propagation',
      'private',
      '--fork',
      '--kill-child=SIGKILL',
      spec.tools.bash,
      p.init,
    ],
    p.log,
    marker,
  );
  onProcess?.({ name: proc.name, pid: proc.pid, log: proc.log, marker: proc.marker });
  const deadline = Date.now() + (spec.timeoutMs ?? 30_000);
  while (!existsSync(p.ready)) {
    spec.signal?.throwIfAborted();
    const exited = proc.exitedWith();
    if (exited)
      throw new Error(
        `the twin's operator namespace stopped while starting (${exited})\n  log: ${p.log}\n${tail(p.log, 15)}`,
      );
    if (Date.now() > deadline)
      throw new Error(
        `the twin's operator namespace did not get ready within ${(spec.timeoutMs ?? 30_000) / 1000}s\n  log: ${p.log}\n${tail(p.log, 15)}`,
      );
    await sleep(20);
  }
  const initPid = childPid(proc.pid) ?? 0;
  if (!initPid) throw new Error(`the twin's operator namespace has no pid 1 (unshare pid ${proc.pid}); log: ${p.log}`);
  const ns: StepNamespace = {
    pid: initPid,
    init: p.init,
    stateDir: marker,
    hostnames: files.hostnames,
    caCert: p.caCert,
  };
  writeFileSync(`${p.namespace}.tmp`, `${JSON.stringify(ns, null, 2)}\n`);
  renameSync(`${p.namespace}.tmp`, p.namespace);
  return { name: proc.name, pid: proc.pid, log: proc.log, marker, initPid };
}

function readNamespace(stateDir: string): StepNamespace | undefined {
  try {
    return JSON.parse(readFileSync(namespaceFile(stateDir), 'utf8')) as StepNamespace;
  } catch {
    return undefined;
  }
}

/** The namespace's pid 1 while it is still ours (`bash <init.sh>` of this state dir). */
function holder(stateDir: string): ProcessRecord | undefined {
  const ns = readNamespace(stateDir);
  if (!ns?.pid) return undefined;
  const rec = { name: 'twin/operator pid 1', pid: ns.pid, log: '', marker: ns.init };
  return isOurs(rec) ? rec : undefined;
}

/**
 * After the twin's processes are stopped (unshare's --kill-child has killed pid 1):
 * waits until the namespace's pid 1 is gone, killing it if it is not.
 */
export async function operatorDown(stateDir: string): Promise<void> {
  const h = holder(stateDir);
  if (!h) return;
  try {
    process.kill(h.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  const deadline = Date.now() + 10_000;
  while (holder(stateDir)) {
    if (Date.now() > deadline) throw new Error(`the twin's operator namespace (pid ${h.pid}) did not end`);
    await sleep(20);
  }
  rmSync(namespaceFile(stateDir), { force: true });
}

export interface OperatorStatus {
  /** The namespace's pid 1 runs. */
  alive: boolean;
  /** The lab hostnames answered inside. */
  hostnames: string[];
  namespaceFile: string;
}

export function operatorStatus(stateDir: string): OperatorStatus | undefined {
  const ns = readNamespace(stateDir);
  if (!ns) return undefined;
  return { alive: !!holder(stateDir), hostnames: ns.hostnames, namespaceFile: namespaceFile(stateDir) };
}

/** What `scripts/sandbox env` exports for the operator namespace (nothing when it does not run). */
export function operatorEnv(stateDir: string): Record<string, string> {
  return holder(stateDir) ? { [STEP_NAMESPACE_VAR]: namespaceFile(stateDir) } : {};
}
