// The pod simulator's ONE command table: what a `kubectl exec` into one of the lab twin's
// pods can run. Nothing else is on the pod's PATH (<state>/twin/pods/bin): a command the
// table lacks is refused by name ("… is not simulated in pod X on the lab twin"), and
// whatever runs, runs in kwok's namespace with only `lo` (kubelet.ts). This table is also
// the documentation: `node scripts/sandbox-lib/twin/pods/main.ts --table` prints it.
//
// Loading this module loads no handler: main.ts imports the one a call needs.

export interface PodCommand {
  name: string;
  /** Which pods have it: every pod, or only those the workloads file marks `simulate: postgresql`. */
  pods: 'all' | 'postgresql';
  summary: string;
}

export const POD_COMMAND_TABLE: ReadonlyArray<PodCommand> = [
  {
    name: 'sh',
    pods: 'all',
    summary:
      "the host's bash (not POSIX mode) with this PATH: `sh -c '…'` scripts run as in the container; a command not in this table is refused by name",
  },
  { name: 'bash', pods: 'all', summary: 'as sh' },
  {
    name: 'df',
    pods: 'all',
    summary:
      "[-h] [-k] [-P] [-T] [mount…]: the container's filesystems: overlay on /, and each claim it mounts at the chart's path (an nfs-csi claim shows the NAS share <server>:<share>/<namespace>-<claim>, the size of the whole share, as NFS sub-directories do)",
  },
  {
    name: 'psql',
    pods: 'postgresql',
    summary:
      "-U -d -h -p -c -A -t -X -q -v ON_ERROR_STOP=1, SQL from -c or stdin: version(), select 1, the database list with sizes, databases by name, pg_stat_activity (no other sessions), pg_stat_user_tables counts, the tables of current_schema() or a named schema (pg_tables), row counts per table (the catalog query with \\gexec), CREATE/DROP DATABASE; password authentication (md5) of postgres and the chart's user against the Secret's values; other SQL refused with a message naming the simulation",
  },
  {
    name: 'pg_dump',
    pods: 'postgresql',
    summary:
      "-U -d [-Fc|-Fp] to stdout: -Fc writes a custom-format archive (PGDMP header of archive version 1.16, then the simulated database as JSON; only this simulator reads it back); -Fp writes SQL; -f refused (the pod's filesystem is read-only)",
  },
  {
    name: 'pg_restore',
    pods: 'postgresql',
    summary:
      "--list (archive on stdin, kubectl exec -i): the table of contents as pg_restore prints it (; dbname: …, entries numbered); -d DB [--clean --if-exists --single-transaction --no-owner --no-acl --exit-on-error -C]: loads the archive's tables into DB (an existing table without --clean is an error; --single-transaction or --exit-on-error then change nothing)",
  },
  {
    name: 'pg_dumpall',
    pods: 'postgresql',
    summary:
      '--globals-only | --roles-only: CREATE ROLE/ALTER ROLE statements with SCRAM verifiers (made up by the twin)',
  },
  { name: 'createdb', pods: 'postgresql', summary: '-U [-O owner] DB: creates an empty database' },
  { name: 'dropdb', pods: 'postgresql', summary: '-U [--if-exists] DB: drops a database' },
  {
    name: 'pg_isready',
    pods: 'postgresql',
    summary: '[-h -p -U -d -q]: "<host>:5432 - accepting connections" (exit 0)',
  },
];

/** Harmless host tools linked into the pod's PATH (they read, or write to stdout only). */
export const POD_COREUTILS: ReadonlyArray<{ name: string; path: string }> = [
  'cat',
  'echo',
  'printf',
  'ls',
  'head',
  'tail',
  'wc',
  'grep',
  'sort',
  'uniq',
  'cut',
  'tr',
  'date',
  'sleep',
  'true',
  'false',
  'test',
  '[',
  'env',
  'basename',
  'dirname',
  'id',
  'whoami',
  'sed',
  'awk',
  'sha256sum',
  'base64',
  'seq',
  'xargs',
  'tee',
].map((name) => ({ name, path: `/usr/bin/${name}` }));

/**
 * Names an operator may exec into a pod directly that the twin refuses by name (the pod's
 * PATH has a stub for each): network tools, package managers, interpreters, editors.
 */
export const POD_REFUSED: ReadonlyArray<string> = [
  'curl',
  'wget',
  'nc',
  'ncat',
  'ping',
  'ssh',
  'scp',
  'nslookup',
  'dig',
  'apt-get',
  'apt',
  'apk',
  'microdnf',
  'python3',
  'python',
  'perl',
  'vi',
  'vim',
  'nano',
  'rm',
  'mv',
  'cp',
  'mkdir',
  'touch',
  'tar',
  'kill',
  'ps',
  'top',
  'mount',
  'pg_ctl',
  'pg_basebackup',
  'vacuumdb',
];

/** What the simulator knows of the lab's pods (<state>/twin/pods/pods.json, written by kubelet.ts). */
export interface PodInfo {
  namespace: string;
  workload: string;
  kind: 'Deployment' | 'DaemonSet' | 'StatefulSet';
  /** The pod's name for StatefulSets; `<workload>-…` otherwise (kwok does not tell an exec which pod it is). */
  pod: string;
  containers: string[];
  claims: Array<{ name: string; claim: string; storageClass: string; size: string; mountPath: string }>;
  env: Array<{ name: string; value: string }>;
  secretFiles: Array<{ secret: string; key: string; path: string }>;
  simulate?: 'postgresql';
}

export interface PodsConfig {
  dataDir: string;
  logsDir: string;
  nfs?: { server: string; share: string } | undefined;
  /** `<namespace>/<secret>` → its data (the twin's made-up values). */
  secrets: Record<string, Record<string, string>>;
  pods: PodInfo[];
}

/** What a handler gets: the pod, its config, stdin, stdout. */
export interface PodContext {
  pod: PodInfo | undefined;
  config: PodsConfig;
  env: NodeJS.ProcessEnv;
  out: (s: string | Uint8Array) => void;
  err: (s: string) => void;
}

export type PodHandler = (ctx: PodContext, args: string[]) => number | Promise<number>;

export async function podHandlerFor(name: string): Promise<PodHandler | undefined> {
  switch (name) {
    case 'df':
      return async (c, a) => (await import('./df.ts')).df(c, a);
    case 'psql':
      return async (c, a) => (await import('./postgres-cli.ts')).psql(c, a);
    case 'pg_dump':
      return async (c, a) => (await import('./postgres-cli.ts')).pgDump(c, a);
    case 'pg_restore':
      return async (c, a) => (await import('./postgres-cli.ts')).pgRestore(c, a);
    case 'pg_dumpall':
      return async (c, a) => (await import('./postgres-cli.ts')).pgDumpall(c, a);
    case 'createdb':
      return async (c, a) => (await import('./postgres-cli.ts')).createdb(c, a);
    case 'dropdb':
      return async (c, a) => (await import('./postgres-cli.ts')).dropdb(c, a);
    case 'pg_isready':
      return async (c, a) => (await import('./postgres-cli.ts')).pgIsready(c, a);
    default:
      return undefined;
  }
}

/** The table as Markdown (for the README). */
export function podTableMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| command | in | what it does in a twin pod |',
    '| --- | --- | --- |',
    ...POD_COMMAND_TABLE.map(
      (c) => `| \`${c.name}\` | ${c.pods === 'all' ? 'every pod' : 'PostgreSQL pods'} | ${esc(c.summary)} |`,
    ),
    `| ${POD_COREUTILS.map((c) => `\`${c.name}\``).join(' ')} | every pod | the host's own (they read and print; the pod's filesystem is the host's, read-only) |`,
  ].join('\n');
}
