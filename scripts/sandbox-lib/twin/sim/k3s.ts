// /usr/local/bin/k3s on a twin node: the subcommands the runbooks run, each following
// docs.k3s.io and named as a simulation wherever its output could pass for the real thing.
//   --version                    docs.k3s.io/cli (k3s version)
//   kubectl                      docs.k3s.io/cli (embedded kubectl, /etc/rancher/k3s/k3s.yaml)
//   etcd-snapshot save|ls|prune|delete   docs.k3s.io/cli/etcd-snapshot
//   token rotate                 docs.k3s.io/cli/token
//   server --cluster-reset [--cluster-reset-restore-path]   docs.k3s.io/datastore/backup-restore, cli/etcd-snapshot
//   certificate check|rotate     docs.k3s.io/cli/certificate
//   secrets-encrypt status       docs.k3s.io/cli/secrets-encrypt
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { type Node, SimError, refuse, tokenPassword } from './node.ts';
import { kubectl } from './kube.ts';
import { createdAtOf, forgetSnapshots, recordSnapshot } from './snapshot-objects.ts';

const sim = '(lab twin simulation)';
const dataDir = '/var/lib/rancher/k3s';

function logInfo(msg: string): void {
  process.stderr.write(`INFO[0000] ${msg}\n`);
}
function fatal(msg: string): never {
  throw new SimError(`FATA[0000] ${msg}`, 1);
}

function config(node: Node): Record<string, unknown> {
  try {
    return (parse(readFileSync(node.root('/etc/rancher/k3s/config.yaml'), 'utf8')) as Record<string, unknown>) ?? {};
  } catch {
    return {};
  }
}

/** `--flag value`, `--flag=value`; the --etcd- prefix may be left out on etcd-snapshot (docs.k3s.io/cli/etcd-snapshot). */
function flag(args: string[], ...names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    for (const n of names) {
      const a = args[i] ?? '';
      if (a === `--${n}`) return args[i + 1];
      if (a.startsWith(`--${n}=`)) return a.slice(n.length + 3);
    }
  }
  return undefined;
}
const has = (args: string[], name: string) => args.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));

function requireVersion(node: Node): string {
  const v = node.installedVersion();
  if (!v) throw new SimError('sh: 1: k3s: not found', 127);
  return v;
}

function requireServer(node: Node, what: string): void {
  if (!node.isServer) fatal(`${what}: ${node.name} runs no K3s server (it is an agent) ${sim}`);
}

function requireRunning(node: Node, what: string): void {
  if (node.service('k3s')?.state !== 'active') {
    fatal(
      `${what}: failed to connect to the k3s server: dial tcp 127.0.0.1:6443: connect: connection refused (k3s.service is not running) ${sim}`,
    );
  }
}

function snapshotDir(node: Node, args: string[]): { real: string; path: string } {
  const real =
    flag(args, 'etcd-snapshot-dir', 'dir') ??
    String(config(node)['etcd-snapshot-dir'] ?? `${dataDir}/server/db/snapshots`);
  return { real, path: node.root(real) };
}

interface SnapshotBody {
  simulation: string;
  node: string;
  name: string;
  createdAt: string;
  k3sVersion: string;
  token: string;
  /**
   * The Nodes that were cordoned when the snapshot was taken: the one piece of API state a
   * restore of this twin puts back (the sandbox's etcd is its own). A rollback drains every
   * node before the reset; restoring a real snapshot brings back their schedulable state.
   */
  cordoned?: string[];
}

const withCordons = (node: Node) => {
  const c = cordonedNodes(node);
  return c ? { cordoned: c } : {};
};

/** The names of the cordoned Nodes, as the API shows them now (undefined when it does not answer). */
function cordonedNodes(node: Node): string[] | undefined {
  const r = kubectl(node, [
    'get',
    'nodes',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.spec.unschedulable}{"\\n"}{end}',
  ]);
  if (r.status !== 0) return undefined;
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([n, u]) => n && u === 'true')
    .map(([n]) => n!);
}

/** After a restore: every Node's cordon as the snapshot recorded it (Nodes that joined later stay as they are). */
function restoreCordons(node: Node, body: SnapshotBody): void {
  if (!body.cordoned) return;
  const now = cordonedNodes(node) ?? [];
  for (const n of now.filter((x) => !body.cordoned!.includes(x))) {
    kubectl(node, ['patch', 'node', n, '--type=merge', '-p', '{"spec":{"unschedulable":null}}']);
    logInfo(`Restored node ${n} as the snapshot recorded it: schedulable ${sim}`);
  }
}

function tokenHash(token: string): string {
  return createHash('sha256').update(tokenPassword(token)).digest('hex');
}

function etcdSnapshot(node: Node, args: string[], out: (s: string) => void): number {
  const sub = args[0];
  const rest = args.slice(1);
  requireServer(node, 'etcd-snapshot');
  if (!existsSync(node.root(`${dataDir}/server/db/etcd`)))
    fatal(`etcd datastore disabled: ${node.name} does not run embedded etcd ${sim}`);
  const { real, path } = snapshotDir(node, rest);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const list = () =>
    readdirSync(path)
      .filter((f) => statSync(join(path, f)).isFile())
      .map((f) => ({ f, st: statSync(join(path, f)) }))
      .sort((a, b) => a.st.mtimeMs - b.st.mtimeMs);
  switch (sub) {
    case 'save': {
      requireRunning(node, 'etcd-snapshot save');
      const name = flag(rest, 'name') ?? 'on-demand';
      const compress = has(rest, 'etcd-snapshot-compress') || has(rest, 'compress');
      const now = Math.floor(Date.now() / 1000);
      const file = `${name}-${node.name}-${now}${compress ? '.zip' : ''}`;
      const body: SnapshotBody = {
        simulation: 'lab twin etcd snapshot: not an etcd database, a record of what the twin knew',
        node: node.name,
        name,
        createdAt: new Date().toISOString(),
        k3sVersion: node.service('k3s')?.runningVersion ?? requireVersion(node),
        token: tokenHash(node.cluster().token),
        ...withCordons(node),
      };
      writeFileSync(join(path, file), `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      logInfo(`Saving etcd snapshot to ${real}/${file} ${sim}`);
      // K3s 1.27+ records the snapshot in the API as an ETCDSnapshotFile (snapshot-objects.ts).
      recordSnapshot(node, {
        file,
        node: node.name,
        path: `${real}/${file}`,
        size: statSync(join(path, file)).size,
        createdAt: new Date(now * 1000),
        compressed: compress,
        tokenHash: body.token,
      });
      logInfo(`Snapshot ${file} saved.`);
      return 0;
    }
    case 'ls':
    case 'list':
    case 'l': {
      const rows = list().map(({ f, st }) => [
        f,
        `file://${real}/${f}`,
        String(st.size),
        new Date(st.mtimeMs).toISOString().replace(/\.\d+Z$/, 'Z'),
      ]);
      const head = ['Name', 'Location', 'Size', 'Created'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      for (const r of [head, ...rows])
        out(
          `${r
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join(' ')
            .trimEnd()}\n`,
        );
      return 0;
    }
    case 'prune': {
      const name = flag(rest, 'name') ?? 'on-demand';
      const keep = Number(
        flag(rest, 'snapshot-retention', 'etcd-snapshot-retention') ?? config(node)['etcd-snapshot-retention'] ?? 5,
      );
      if (!Number.isInteger(keep) || keep < 1) fatal(`invalid --snapshot-retention ${keep}`);
      const mine = list().filter(({ f }) => f.startsWith(`${name}-`));
      const pruned = mine.slice(0, Math.max(0, mine.length - keep));
      for (const { f } of pruned) {
        rmSync(join(path, f));
        logInfo(`Removing local snapshot ${real}/${f}`);
      }
      forgetSnapshots(
        node,
        pruned.map(({ f, st }) => ({ file: f, path: `${real}/${f}`, createdAt: createdAtOf(f, st.mtimeMs) })),
      );
      return 0;
    }
    case 'delete':
    case 'rm': {
      const names = rest.filter((a) => !a.startsWith('-'));
      if (names.length === 0) fatal('no snapshots given for removal');
      for (const n of names) {
        const f = basename(n);
        if (!existsSync(join(path, f))) {
          logInfo(`Snapshot ${f} not found ${sim}`);
          continue;
        }
        const { mtimeMs } = statSync(join(path, f));
        rmSync(join(path, f));
        forgetSnapshots(node, [{ file: f, path: `${real}/${f}`, createdAt: createdAtOf(f, mtimeMs) }]);
        logInfo(`Removing the given locally stored etcd snapshot(s)\nINFO[0000] Snapshot ${f} deleted.`);
      }
      return 0;
    }
    default:
      refuse(`k3s etcd-snapshot ${sub ?? ''}`.trim(), 'the twin simulates save, ls, prune and delete');
  }
}

/**
 * The newest time at or before `now` that a K3s etcd-snapshot-schedule-cron fires (UTC, the
 * twin's system time): minute and hour fields as numbers, lists, ranges, a star and steps
 * (star-slash-N); the day fields are taken as a star (the lab's schedule is K3s's default,
 * every 12 hours on the hour).
 */
export function lastCronFire(cron: string, now: Date): Date | undefined {
  const [min, hour] = cron.trim().split(/\s+/);
  const values = (field: string | undefined, max: number): number[] => {
    const out = new Set<number>();
    for (const part of String(field ?? '*').split(',')) {
      const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
      if (!m) return [];
      const [lo, hi] =
        m[1] === '*'
          ? [0, max]
          : m[1]!.includes('-')
            ? (m[1]!.split('-').map(Number) as [number, number])
            : [Number(m[1]), m[2] ? max : Number(m[1])];
      for (let v = lo; v <= hi; v += Number(m[2] ?? 1)) out.add(v);
    }
    return [...out].sort((a, b) => a - b);
  };
  const mins = values(min, 59);
  const hours = values(hour, 23);
  if (!mins.length || !hours.length) return undefined;
  for (let day = 0; day < 2; day++) {
    const base = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - day));
    for (const h of [...hours].reverse()) {
      for (const m of [...mins].reverse()) {
        const t = new Date(base.getTime() + (h * 60 + m) * 60_000);
        if (t.getTime() <= now.getTime()) return t;
      }
    }
  }
  return undefined;
}

/**
 * What K3s's snapshot schedule did last (docs.k3s.io/cli/etcd-snapshot: scheduled snapshots are
 * named <etcd-snapshot-name>-<node>-<unix time>, `etcd-snapshot-retention` of them kept): the
 * twin's server has run since that time, so the snapshot of the newest scheduled run is on disk,
 * logged in the k3s journal at its time and recorded as an ETCDSnapshotFile. Called by the twin at
 * up (twin-sim __scheduled-snapshots); nothing when snapshots are disabled or already there.
 */
export function scheduledSnapshot(node: Node, now = new Date()): string | undefined {
  if (!node.isServer || !existsSync(node.root(`${dataDir}/server/db/etcd`))) return undefined;
  const cfg = config(node);
  if (cfg['etcd-disable-snapshots'] === true) return undefined;
  const at = lastCronFire(String(cfg['etcd-snapshot-schedule-cron'] ?? '0 */12 * * *'), now);
  if (!at) return undefined;
  const { real, path } = snapshotDir(node, []);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const base = String(cfg['etcd-snapshot-name'] ?? 'etcd-snapshot');
  const compress = cfg['etcd-snapshot-compress'] === true;
  const unix = Math.floor(at.getTime() / 1000);
  const file = `${base}-${node.name}-${unix}${compress ? '.zip' : ''}`;
  if (existsSync(join(path, file))) return undefined;
  const body: SnapshotBody = {
    simulation: 'lab twin etcd snapshot: not an etcd database, a record of what the twin knew (a scheduled snapshot)',
    node: node.name,
    name: base,
    createdAt: at.toISOString(),
    k3sVersion: node.service('k3s')?.runningVersion ?? requireVersion(node),
    token: tokenHash(node.cluster().token),
    ...withCordons(node),
  };
  writeFileSync(join(path, file), `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  utimesSync(join(path, file), at, at);
  node.log('k3s', `level=info msg="Saving etcd snapshot to ${real}/${file}"`, at);
  node.log('k3s', `level=info msg="Snapshot ${file} saved. ${sim}"`, at);
  recordSnapshot(node, {
    file,
    node: node.name,
    path: `${real}/${file}`,
    size: statSync(join(path, file)).size,
    createdAt: at,
    compressed: compress,
    tokenHash: body.token,
  });
  // Retention applies to the scheduled snapshots of this base name.
  const keep = Number(cfg['etcd-snapshot-retention'] ?? 5);
  const mine = readdirSync(path)
    .filter((f) => f.startsWith(`${base}-${node.name}-`))
    .sort();
  const gone = mine.slice(0, Math.max(0, mine.length - keep));
  for (const f of gone) rmSync(join(path, f));
  forgetSnapshots(
    node,
    gone.map((f) => ({ file: f, path: `${real}/${f}`, createdAt: createdAtOf(f, 0) })),
  );
  return file;
}

function tokenRotate(node: Node, args: string[], out: (s: string) => void): number {
  if (args[0] !== 'rotate')
    refuse(`k3s token ${args[0] ?? ''}`.trim(), 'the twin simulates only token rotate (server token rotation)');
  requireServer(node, 'token rotate');
  requireRunning(node, 'token rotate');
  const rest = args.slice(1);
  const current = flag(rest, 'token', 't') ?? process.env.K3S_TOKEN;
  const next = flag(rest, 'new-token');
  if (!next) fatal('token rotate: --new-token is required');
  const facts = node.cluster();
  if (!current || tokenPassword(current) !== facts.token)
    fatal(`token rotate: failed to rotate token: 401 Unauthorized: the --token given is not the server token ${sim}`);
  if (tokenPassword(next).length < 1) fatal('token rotate: the new token is empty');
  node.setCluster({ ...facts, token: tokenPassword(next) });
  writeFileSync(node.root(`${dataDir}/server/token`), `K10${facts.caHash}::server:${tokenPassword(next)}\n`, {
    mode: 0o600,
  });
  node.log('k3s', 'level=info msg="Server token rotated (lab twin simulation)"');
  out('Token rotated, restart k3s nodes with new token\n');
  return 0;
}

function clusterReset(node: Node, args: string[]): number {
  if (!has(args, 'cluster-reset'))
    refuse(
      'k3s server',
      'the twin runs the K3s server only through its unit (systemctl start k3s); `k3s server --cluster-reset` is the one foreground use simulated',
    );
  requireServer(node, 'cluster-reset');
  if (node.service('k3s')?.state === 'active') {
    fatal(
      `starting kubernetes: preparing server: start managed database: listen tcp 127.0.0.1:2380: bind: address already in use (stop k3s first) ${sim}`,
    );
  }
  if (config(node).server || flag(args, 'server', 's'))
    fatal('cannot perform cluster-reset while server URL is set - remove server from configuration before resetting');
  const restore = flag(args, 'cluster-reset-restore-path');
  const facts = node.cluster();
  const given =
    flag(args, 'token', 't') ??
    (typeof config(node).token === 'string' ? String(config(node).token) : undefined) ??
    readFileSync(node.root(`${dataDir}/server/token`), 'utf8');
  let token = tokenPassword(given);
  if (restore) {
    const file = node.root(restore);
    if (!existsSync(file))
      fatal(`starting kubernetes: preparing server: start managed database: snapshot file ${restore} does not exist`);
    let body: SnapshotBody;
    try {
      body = JSON.parse(readFileSync(file, 'utf8')) as SnapshotBody;
      if (!body.simulation) throw new Error('not a twin snapshot');
    } catch {
      fatal(`starting kubernetes: preparing server: ${restore} is not an etcd snapshot the lab twin wrote ${sim}`);
    }
    if (body.token !== tokenHash(token)) {
      fatal(
        `starting kubernetes: preparing server: bootstrap data already found and encrypted with different token: the snapshot was taken with another server token ${sim}`,
      );
    }
    logInfo(`Pre-restore etcd database moved to ${dataDir}/server/db/etcd-old-${Math.floor(Date.now() / 1000)}`);
    logInfo(`Restoring etcd snapshot ${restore} (${body.name} from ${body.node}, ${body.createdAt}) ${sim}`);
    restoreCordons(node, body);
  } else {
    token = facts.token;
  }
  const db = node.root(`${dataDir}/server/db`);
  const etcd = join(db, 'etcd');
  if (existsSync(etcd)) renameSync(etcd, join(db, `etcd-old-${Math.floor(Date.now() / 1000)}`));
  mkdirSync(join(etcd, 'member'), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(etcd, 'name'),
    `${node.name}-${createHash('sha256').update(String(Date.now())).digest('hex').slice(0, 8)}\n`,
  );
  node.setCluster({ ...facts, token });
  writeFileSync(node.root(`${dataDir}/server/token`), `K10${facts.caHash}::server:${token}\n`, { mode: 0o600 });
  node.log('k3s', `level=info msg="Managed etcd cluster membership has been reset ${sim}"`);
  logInfo(
    `Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. Backup and delete \${datadir}/server/db on each peer etcd server and rejoin the nodes ${sim}`,
  );
  return 0;
}

const serverCerts = [
  'client-admin',
  'client-auth-proxy',
  'client-controller',
  'client-k3s-cloud-controller',
  'client-k3s-controller',
  'client-kube-apiserver',
  'client-kube-proxy',
  'client-kubelet',
  'client-scheduler',
  'client-supervisor',
  'serving-kube-apiserver',
  'serving-kubelet',
  'etcd/client',
  'etcd/peer-server-client',
  'etcd/server-client',
];
const agentCerts = ['client-k3s-controller', 'client-kube-proxy', 'client-kubelet', 'serving-kubelet'];

function certificate(node: Node, args: string[], out: (s: string) => void): number {
  const sub = args[0];
  const base = node.isServer ? `${dataDir}/server/tls` : `${dataDir}/agent`;
  const names = node.isServer ? serverCerts : agentCerts;
  if (sub === 'check') {
    const issued = Date.parse(node.state.certsRotatedAt);
    const expires = issued + 365 * 86_400_000;
    const days = Math.floor((expires - Date.now()) / 86_400_000);
    const status = days <= 0 ? 'EXPIRED' : days <= 90 ? 'WARNING' : 'OK';
    const date = new Date(expires)
      .toUTCString()
      .replace(/^\w+, /, '')
      .replace(/:\d\d GMT$/, ' UTC');
    const format = flag(args, 'output', 'o') ?? 'text';
    if (format === 'table') {
      const rows = names.map((n) => [
        `${n}.crt`,
        n.startsWith('serving') ? node.name : `system:${n.replace(/^client-/, '')}`,
        n.startsWith('serving') ? 'ServerAuth' : 'ClientAuth',
        date,
        `${days}d`,
        status,
      ]);
      const head = ['FILENAME', 'SUBJECT', 'USAGES', 'EXPIRES', 'RESIDUAL TIME', 'STATUS'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      for (const r of [head, head.map((h) => '-'.repeat(h.length)), ...rows])
        out(
          `${r
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd()}\n`,
        );
      out(`${sim}\n`);
    } else {
      for (const n of names)
        logInfo(`Certificate ${base}/${n}.crt is ok, expires at ${new Date(expires).toISOString()} ${sim}`);
    }
    return 0;
  }
  if (sub === 'rotate') {
    const stamp = Math.floor(Date.now() / 1000);
    const backup = node.isServer ? `${dataDir}/server/tls-${stamp}` : `${dataDir}/agent/tls-${stamp}`;
    mkdirSync(node.root(backup), { recursive: true, mode: 0o700 });
    writeFileSync(node.root(`${backup}/README`), `certificates backed up by k3s certificate rotate ${sim}\n`);
    logInfo(`Backing up certificates to ${backup}`);
    const services = flag(args, 'service', 's');
    logInfo(`Rotating certificates for ${services ?? 'all'} services ${sim}`);
    logInfo(
      'Successfully backed up certificates to the backup directory, please restart k3s server or agent to rotate certificates',
    );
    node.state.certsRotatedAt = new Date().toISOString();
    node.save();
    return 0;
  }
  refuse(
    `k3s certificate ${sub ?? ''}`.trim(),
    'the twin simulates certificate check and certificate rotate (not rotate-ca)',
  );
}

function secretsEncrypt(node: Node, args: string[], out: (s: string) => void): number {
  if (args[0] !== 'status')
    refuse(`k3s secrets-encrypt ${args[0] ?? ''}`.trim(), 'the twin simulates only secrets-encrypt status');
  requireServer(node, 'secrets-encrypt');
  requireRunning(node, 'secrets-encrypt status');
  const on = config(node)['secrets-encryption'] === true;
  out(
    `Encryption Status: ${on ? 'Enabled' : 'Disabled'}\nCurrent Rotation Stage: start\nServer Encryption Hashes: All hashes match\n\nActive  Key Type  Name\n------  --------  ----\n *      AES-CBC   aescbckey ${sim}\n`,
  );
  return 0;
}

export function runKubectl(node: Node, args: string[]): number {
  const kubeconfig = process.env.KUBECONFIG || node.root('/etc/rancher/k3s/k3s.yaml');
  const r = spawnSync(node.state.kubectl, args, { stdio: 'inherit', env: { ...process.env, KUBECONFIG: kubeconfig } });
  if (r.error) throw new SimError(`kubectl ${sim}: cannot run the sandbox kubectl: ${r.error.message}`, 2);
  return r.status ?? 1;
}

export async function k3s(node: Node, args: string[], out: (s: string) => void): Promise<number> {
  const version = requireVersion(node);
  const sub = args[0];
  switch (sub) {
    case '--version':
    case '-v':
    case 'version':
      out(`k3s version ${version} ${sim}\ngo version (none: the lab twin simulates k3s)\n`);
      return 0;
    case 'kubectl':
      return runKubectl(node, args.slice(1));
    case 'etcd-snapshot':
      return etcdSnapshot(node, args.slice(1), out);
    case 'token':
      return tokenRotate(node, args.slice(1), out);
    case 'server':
      return clusterReset(node, args.slice(1));
    case 'certificate':
    case 'cert':
      return certificate(node, args.slice(1), out);
    case 'secrets-encrypt':
      return secretsEncrypt(node, args.slice(1), out);
    case 'crictl':
    case 'ctr':
      return refuse(`k3s ${sub}`, 'the twin runs no containers (pods are simulated by kwok); use kubectl');
    default:
      refuse(
        `k3s ${sub ?? ''}`.trim(),
        'the twin simulates --version, kubectl, etcd-snapshot, token rotate, server --cluster-reset, certificate check|rotate and secrets-encrypt status',
      );
  }
}
