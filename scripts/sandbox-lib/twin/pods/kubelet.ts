// The twin's kubelet API: `kubectl exec`, `logs` (and attach, port-forward) into the
// lab's simulated pods. kwok serves it (--server-address); this module starts kwok so
// that whatever an exec runs can reach no network but loopback:
//
//   kwok runs in `unshare --pid --net --mount --fork --kill-child`: a network with only
//   `lo` and its own mount namespace: / read-only, a tmpfs on /opt holding the pods'
//   password files at the chart's paths and, under /opt/lab-twin, this dir (pods/), the
//   simulator's sources (sim/) and node, each bound there. kwok's local exec runs each
//   command as a child of kwok (kwok v0.7.0, pkg/kwok/server/debugging_exec.go), so every
//   exec'd process inherits that namespace and kwok's environment, whose PATH holds only
//   /opt/lab-twin/pods/bin: the pod simulator's commands and a few coreutils. It runs as
//   uid/gid 1001, as the Bitnami containers do (an /etc/passwd line bound inside only),
//   so it can write nothing but the simulated servers' state (pods/data).
//
//   Inside, 127.0.0.1:<apiserver port> forwards to the API through <pods>/api.sock (a
//   host-side socat), so kwok's kubeconfig works unchanged; kwok listens on
//   127.0.0.1:<kubelet port> inside, reached from the host through <pods>/kubelet.sock.
//   On the host one socat per node listens on that node's InternalIP (127.0.1.x) at the
//   kubelet port the node's status names (kwok --node-port): that is where the apiserver
//   dials. Nothing listens on a non-loopback address.
//
// Layout of <state>/twin/pods: init.sh, pods.yaml (kwok's ClusterExec/ClusterLogs),
// pods.json (what the simulator knows of each pod), bin/, logs/, secrets/, data/.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { loadWorkloads, type LabWorkloads } from '../workloads-schema.ts';
import { POD_COMMAND_TABLE, POD_COREUTILS, POD_REFUSED, type PodInfo, type PodsConfig } from './commands.ts';

export interface PodsTools {
  unshare: string;
  bash: string;
  socat: string;
  ip: string;
  mount: string;
  node: string;
}

export function podsPaths(stateDir: string) {
  const dir = join(resolve(stateDir), 'twin', 'pods');
  return {
    dir,
    init: join(dir, 'init.sh'),
    kwokConfig: join(dir, 'pods.yaml'),
    podsJson: join(dir, 'pods.json'),
    bin: join(dir, 'bin'),
    prelude: join(dir, 'sh-prelude.bash'),
    logs: join(dir, 'logs'),
    secrets: join(dir, 'secrets'),
    data: join(dir, 'data'),
    apiSocket: join(dir, 'api.sock'),
    kubeletSocket: join(dir, 'kubelet.sock'),
  };
}

/** The simulator's sources (this dir), bound read-only at /opt/lab-twin/sim inside. */
export const POD_SIM_DIR = new URL('.', import.meta.url).pathname.replace(/\/$/, '');
/** Where kwok's namespace sees things (kubelet.ts's init.sh binds them there). */
export const INSIDE = {
  root: '/opt/lab-twin',
  pods: '/opt/lab-twin/pods',
  sim: '/opt/lab-twin/sim',
  node: '/opt/lab-twin/node',
} as const;
/** The pods' user: Bitnami's containers run as 1001:1001 (the chart's containerSecurityContext). */
export const POD_UID = 1001;

/** The pods of one namespace's workloads, as the simulator sees them (from src/content/lab/workloads.yaml). */
export function podsConfig(doc: LabWorkloads, stateDir: string): PodsConfig {
  const p = podsPaths(stateDir);
  const pods: PodInfo[] = [];
  for (const ns of doc.namespaces) {
    for (const w of ns.workloads) {
      const claims = [
        ...(w.claims ?? []).map((c) => ({
          name: c,
          claim: c,
          storageClass: ns.claims?.find((x) => x.name === c)?.storageClass ?? '',
          size: String(ns.claims?.find((x) => x.name === c)?.size ?? ''),
        })),
        ...(w.volumeClaims ?? []).map((v) => ({
          name: v.name,
          claim: `${v.name}-${w.name}-0`,
          storageClass: v.storageClass,
          size: String(v.size),
        })),
      ].map((c) => ({ ...c, mountPath: w.mounts?.[c.name] ?? `/mnt/${c.name}` }));
      const secretFiles = (w.secretMounts ?? []).flatMap((m) => {
        const sec = ns.secrets?.find((s) => s.name === m.secret);
        return Object.keys(sec?.data ?? {}).map((key) => ({ secret: m.secret, key, path: `${m.mountPath}/${key}` }));
      });
      pods.push({
        namespace: ns.name,
        workload: w.name,
        kind: w.kind,
        pod: w.kind === 'StatefulSet' ? `${w.name}-0` : `${w.name}-…`,
        containers: w.containers,
        claims,
        env: w.env ?? [],
        secretFiles,
        ...(w.simulate ? { simulate: w.simulate } : {}),
      });
    }
  }
  const nfs = doc.storageClasses.find((s) => s.provisioner === 'nfs.csi.k8s.io');
  return {
    dataDir: `${INSIDE.pods}/data`,
    logsDir: p.logs,
    nfs: nfs ? { server: nfs.parameters?.server ?? '', share: nfs.parameters?.share ?? '' } : undefined,
    secrets: Object.fromEntries(
      doc.namespaces.flatMap((ns) => (ns.secrets ?? []).map((s) => [`${ns.name}/${s.name}`, s.data])),
    ),
    pods,
  };
}

/** kwok's ClusterExec and ClusterLogs: per namespace, per container, the env the simulator needs. */
export function kwokPodsConfig(cfg: PodsConfig, paths: ReturnType<typeof podsPaths>): string {
  const docs: unknown[] = [];
  const namespaces = [...new Set(cfg.pods.map((p) => p.namespace))];
  for (const ns of namespaces) {
    const pods = cfg.pods.filter((p) => p.namespace === ns);
    const containers = [...new Set(pods.flatMap((p) => p.containers))];
    // A container name shared by two workloads of a namespace (config-reloader) answers as the first.
    const owner = (c: string) => pods.find((p) => p.containers.includes(c))!;
    docs.push({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterExec',
      metadata: { name: `lab-twin-${ns}` },
      spec: {
        selector: { matchNamespaces: [ns] },
        execs: containers.map((c) => {
          const pod = owner(c);
          const env = [
            { name: 'TWIN_POD_NAMESPACE', value: ns },
            { name: 'TWIN_POD_WORKLOAD', value: pod.workload },
            { name: 'TWIN_POD_CONTAINER', value: c },
            { name: 'HOSTNAME', value: pod.pod },
            ...(pod.containers[0] === c ? pod.env : []),
          ];
          return {
            containers: [c],
            local: { workDir: '/', envs: env, securityContext: { runAsUser: POD_UID, runAsGroup: POD_UID } },
          };
        }),
      },
    });
    docs.push({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterLogs',
      metadata: { name: `lab-twin-${ns}` },
      spec: {
        selector: { matchNamespaces: [ns] },
        logs: containers.map((c) => ({ containers: [c], logsFile: join(paths.logs, `${ns}_${c}.log`), follow: false })),
      },
    });
  }
  // Any other pod (a fault's, a test's): exec'd commands still run in the namespace, as "unknown".
  docs.push({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterExec',
    metadata: { name: 'lab-twin-any' },
    spec: {
      execs: [
        {
          local: {
            workDir: '/',
            envs: [{ name: 'TWIN_POD_NAMESPACE', value: '' }],
            securityContext: { runAsUser: POD_UID, runAsGroup: POD_UID },
          },
        },
      ],
    },
  });
  docs.push({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: 'lab-twin-any' },
    spec: { logs: [{ logsFile: join(paths.logs, 'any.log'), follow: false }] },
  });
  // JSON documents: kwok reads YAML 1.1, where an unquoted no or on would be a boolean.
  return docs.map((d) => `${JSON.stringify(d, null, 1)}\n`).join('---\n');
}

/** One CRI-format log line (what kwok's log reader parses, as a kubelet's files are). */
function criLine(at: Date, line: string): string {
  return `${at.toISOString()} stdout F ${line}\n`;
}

function logLines(pod: PodInfo | undefined, container: string): string[] {
  const note = `lab twin: simulated log of container ${container}${pod ? ` in ${pod.namespace}/${pod.pod}` : ''} (no container runs; kwok simulates the pod, scripts/sandbox-lib/twin/pods/)`;
  if (pod?.simulate === 'postgresql' && container === pod.containers[0]) {
    return [
      note,
      'postgresql 00:00:01.00 INFO  ==> ** Starting PostgreSQL setup ** (simulated)',
      'postgresql 00:00:01.10 INFO  ==> Validating settings in POSTGRESQL_* env vars..',
      'postgresql 00:00:01.20 INFO  ==> Configuring authentication (md5 for local and host connections)',
      'postgresql 00:00:01.30 INFO  ==> ** PostgreSQL setup finished! **',
      'postgresql 00:00:01.40 INFO  ==> ** Starting PostgreSQL **',
      'LOG:  database system is ready to accept connections (lab twin simulation)',
    ];
  }
  return [note];
}

const shellPrelude = (
  table: string,
) => `# The pod's shell on the lab twin (BASH_ENV of every exec'd bash): a command the pod
# simulator does not have is refused by name instead of "command not found".
command_not_found_handle() {
  printf '%s: %s is not simulated in pod %s on the lab twin (its commands: %s)\\n' "$1" "$1" "\${TWIN_POD_NAMESPACE:+$TWIN_POD_NAMESPACE/}\${HOSTNAME:-?}" '${table}' >&2
  return 127
}
`;

/** Writes <state>/twin/pods: the bin dir, the shell prelude, kwok's config, logs, password files, the simulator's config. */
export function preparePods(stateDir: string, tools: PodsTools, workloadsFile?: string): ReturnType<typeof podsPaths> {
  const p = podsPaths(stateDir);
  rmSync(p.dir, { recursive: true, force: true });
  // Readable by the pods' user where it must read (bin, config), writable only in data/.
  for (const d of [p.dir, p.bin, p.logs]) mkdirSync(d, { recursive: true, mode: 0o755 });
  mkdirSync(p.secrets, { mode: 0o700 });
  mkdirSync(p.data, { mode: 0o700 });
  chownSync(p.data, POD_UID, POD_UID);
  writeFileSync(
    join(p.dir, 'passwd'),
    `${readFileSync('/etc/passwd', 'utf8').replace(/\n?$/, '\n')}lab-twin-pod:x:${POD_UID}:${POD_UID}:lab twin pod user:/:/usr/sbin/nologin\n`,
  );
  writeFileSync(
    join(p.dir, 'group'),
    `${readFileSync('/etc/group', 'utf8').replace(/\n?$/, '\n')}lab-twin-pod:x:${POD_UID}:\n`,
  );
  const doc = loadWorkloads(workloadsFile);
  const cfg = podsConfig(doc, stateDir);
  writeFileSync(p.podsJson, `${JSON.stringify(cfg, null, 2)}\n`);
  writeFileSync(p.kwokConfig, kwokPodsConfig(cfg, p));
  const names = POD_COMMAND_TABLE.map((c) => c.name);
  writeFileSync(p.prelude, shellPrelude([...names, ...POD_COREUTILS.map((c) => c.name)].join(', ')));
  // Each simulated command: node <main.ts> <name> "$@" (the pod's PATH is this dir only).
  // The simulated commands, and stubs that refuse by name what an operator might exec directly
  // (kwok looks an exec's first word up in this PATH; a name absent here gets kwok's "not found").
  for (const c of [...POD_COMMAND_TABLE, ...POD_REFUSED.map((name) => ({ name }))]) {
    if (c.name === 'sh' || c.name === 'bash') continue;
    const f = join(p.bin, c.name);
    writeFileSync(f, `#!${tools.bash}\nexec ${INSIDE.node} --no-warnings ${INSIDE.sim}/main.ts ${c.name} "$@"\n`);
    chmodSync(f, 0o755);
  }
  // sh and bash: the host's bash, not in POSIX mode (argv[0] is not "sh"), so BASH_ENV's handler applies.
  for (const sh of ['sh', 'bash']) {
    const f = join(p.bin, sh);
    writeFileSync(f, `#!${tools.bash}\nexec ${tools.bash} "$@"\n`);
    chmodSync(f, 0o755);
  }
  for (const c of POD_COREUTILS) if (existsSync(c.path)) symlinkSync(c.path, join(p.bin, c.name));
  const now = new Date();
  for (const ns of [...new Set(cfg.pods.map((x) => x.namespace))]) {
    for (const c of [...new Set(cfg.pods.filter((x) => x.namespace === ns).flatMap((x) => x.containers))]) {
      const pod = cfg.pods.find((x) => x.namespace === ns && x.containers.includes(c));
      writeFileSync(
        join(p.logs, `${ns}_${c}.log`),
        logLines(pod, c)
          .map((l) => criLine(now, l))
          .join(''),
      );
    }
  }
  writeFileSync(
    join(p.logs, 'any.log'),
    criLine(now, 'lab twin: simulated log (no container runs; kwok simulates the pod)'),
  );
  // The password files, at the chart's paths inside (init.sh copies them onto its /opt).
  for (const pod of cfg.pods) {
    for (const f of pod.secretFiles) {
      const value = cfg.secrets[`${pod.namespace}/${f.secret}`]?.[f.key] ?? '';
      const dest = join(p.secrets, f.path);
      mkdirSync(join(dest, '..'), { recursive: true });
      writeFileSync(dest, value, { mode: 0o600 });
    }
  }
  return p;
}

/** init.sh: pid 1 of kwok's namespace; ends in `exec kwok`. */
export function writeInit(
  p: ReturnType<typeof podsPaths>,
  tools: PodsTools,
  apiPort: number,
  kubeletPort: number,
  kwok: string,
  kwokArgs: string[],
): void {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const inside = (f: string) => f.replace(p.dir, INSIDE.pods);
  const env = [
    `PATH=${inside(p.bin)}`,
    'HOME=/',
    'LANG=C.UTF-8',
    `BASH_ENV=${inside(p.prelude)}`,
    `TWIN_PODS_CONFIG=${inside(p.podsJson)}`,
  ];
  writeFileSync(
    p.init,
    `# kwok's namespace on the lab twin (scripts/sandbox-lib/twin/pods/kubelet.ts): only lo,
# / read-only except the pods' state, the chart's password files on a private /opt.
set -eu
${q(tools.ip)} link set lo up
m=${q(tools.mount)}
$m --make-rprivate /
$m -t tmpfs -o mode=755,size=1m lab-twin-pods /opt
if [ -d ${q(join(p.secrets, 'opt'))} ]; then cp -a ${q(join(p.secrets, 'opt'))}/. /opt/ && chmod -R a+rX /opt; fi
mkdir -p ${INSIDE.pods} ${INSIDE.sim} && : > ${INSIDE.node}
$m --bind ${q(p.dir)} ${q(p.dir)}
$m --bind ${q(p.dir)} ${INSIDE.pods}
$m --bind ${q(POD_SIM_DIR)} ${INSIDE.sim} && $m -o remount,bind,ro ${INSIDE.sim}
$m --bind ${q(tools.node)} ${INSIDE.node}
$m --bind ${q(join(p.dir, 'passwd'))} /etc/passwd
$m --bind ${q(join(p.dir, 'group'))} /etc/group
$m -o remount,bind,ro /
${q(tools.socat)} TCP-LISTEN:${apiPort},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${q(p.apiSocket)} &
${q(tools.socat)} UNIX-LISTEN:${q(p.kubeletSocket)},fork,mode=600,unlink-early TCP:127.0.0.1:${kubeletPort} &
exec env -i ${env.map(q).join(' ')} ${q(kwok)} ${kwokArgs.map(q).join(' ')}
`,
  );
}

/** The command that starts kwok in its namespace. */
export function kwokInNamespace(p: ReturnType<typeof podsPaths>, tools: PodsTools): { bin: string; args: string[] } {
  return { bin: tools.unshare, args: ['--pid', '--net', '--mount', '--fork', '--kill-child', tools.bash, p.init] };
}

/** A port free on every node address (and 127.0.0.1): the kubelet port every node's status names. */
export async function kubeletPort(addresses: string[]): Promise<number> {
  const tryBind = (host: string, port: number) =>
    new Promise<number>((ok, fail) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', fail);
      srv.listen({ host, port, exclusive: true }, () => {
        const a = srv.address();
        srv.close(() => (a && typeof a === 'object' ? ok(a.port) : fail(new Error('no port'))));
      });
    });
  for (let i = 0; i < 20; i++) {
    const port = await tryBind(addresses[0] ?? '127.0.0.1', 0);
    try {
      for (const a of ['127.0.0.1', ...addresses.slice(1)]) await tryBind(a, port);
      return port;
    } catch {
      /* taken on another address: next */
    }
  }
  throw new Error(`no port is free on every node address (${addresses.join(', ')})`);
}

/** Resolves true once kwok's server answers /healthz through kubelet.sock (TLS, kwok's own certificate). */
export function kubeletHealthy(p: ReturnType<typeof podsPaths>): Promise<{ ok: boolean; detail: string }> {
  return new Promise((ok) => {
    if (!existsSync(p.kubeletSocket)) return ok({ ok: false, detail: 'kubelet.sock not there yet' });
    const req = request(
      { socketPath: p.kubeletSocket, path: '/healthz', rejectUnauthorized: false, timeout: 1000 },
      (res) => {
        res.resume();
        ok({ ok: res.statusCode === 200, detail: `healthz ${res.statusCode}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => ok({ ok: false, detail: e.message }));
    req.end();
  });
}
