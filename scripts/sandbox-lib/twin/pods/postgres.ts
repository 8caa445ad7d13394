// The simulated PostgreSQL server of a twin pod (a workload marked `simulate: postgresql`):
// roles, databases and their tables with row counts, kept in
// <state>/twin/pods/data/<namespace>/<workload>.json so a dump, a drop and a restore act
// on the same server. Seeded as the Bitnami image initialises it from the chart's env:
// POSTGRES_USER (when not postgres) owns POSTGRES_DATABASE and has POSTGRES_PASSWORD[_FILE];
// the postgres superuser has POSTGRES_POSTGRES_PASSWORD[_FILE] (or POSTGRES_PASSWORD when
// no other user is set). Every connection authenticates with a password (the image's
// pg_hba.conf turns trust into md5 once a password is set).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PodContext, PodInfo, PodsConfig } from './commands.ts';
import { PodSimError } from './errors.ts';

export const PG_VERSION = '17.4';

export interface PgTable {
  schema: string;
  name: string;
  rows: number;
}
export interface PgDatabase {
  name: string;
  owner: string;
  template?: boolean;
  tables: PgTable[];
}
export interface PgRole {
  name: string;
  superuser: boolean;
  createdb: boolean;
  password: string;
}
export interface PgServer {
  version: string;
  roles: PgRole[];
  databases: PgDatabase[];
}

/** What n8n's migrations create (its TypeORM entities), with a lab's worth of rows. */
const N8N_TABLES: Array<[string, number]> = [
  ['credentials_entity', 6],
  ['execution_data', 412],
  ['execution_entity', 412],
  ['folder', 2],
  ['migrations', 96],
  ['project', 1],
  ['project_relation', 1],
  ['settings', 11],
  ['shared_credentials', 6],
  ['shared_workflow', 14],
  ['tag_entity', 3],
  ['user', 1],
  ['webhook_entity', 4],
  ['workflow_entity', 14],
  ['workflows_tags', 9],
];

function envValue(pod: PodInfo, config: PodsConfig, name: string): string | undefined {
  const direct = pod.env.find((e) => e.name === name)?.value;
  if (direct !== undefined) return direct;
  const file = pod.env.find((e) => e.name === `${name}_FILE`)?.value;
  const f = file ? pod.secretFiles.find((s) => s.path === file) : undefined;
  return f ? config.secrets[`${pod.namespace}/${f.secret}`]?.[f.key] : undefined;
}

export function seedServer(pod: PodInfo, config: PodsConfig): PgServer {
  const user = envValue(pod, config, 'POSTGRES_USER');
  const custom = user && user !== 'postgres' ? user : undefined;
  const userPassword = envValue(pod, config, 'POSTGRES_PASSWORD') ?? '';
  const superPassword = custom ? (envValue(pod, config, 'POSTGRES_POSTGRES_PASSWORD') ?? '') : userPassword;
  const database = envValue(pod, config, 'POSTGRES_DATABASE');
  const roles: PgRole[] = [{ name: 'postgres', superuser: true, createdb: true, password: superPassword }];
  // The image creates the custom user WITH LOGIN CREATEDB and makes it the owner of POSTGRES_DATABASE.
  if (custom) roles.push({ name: custom, superuser: false, createdb: true, password: userPassword });
  const databases: PgDatabase[] = [
    { name: 'postgres', owner: 'postgres', tables: [] },
    { name: 'template0', owner: 'postgres', template: true, tables: [] },
    { name: 'template1', owner: 'postgres', template: true, tables: [] },
  ];
  if (database && database !== 'postgres') {
    const tables = database === 'n8n' ? N8N_TABLES.map(([name, rows]) => ({ schema: 'public', name, rows })) : [];
    databases.push({ name: database, owner: custom ?? 'postgres', tables });
  }
  return { version: PG_VERSION, roles, databases };
}

const serverFile = (ctx: PodContext) => join(ctx.config.dataDir, ctx.pod!.namespace, `${ctx.pod!.workload}.json`);

export function loadServer(ctx: PodContext): PgServer {
  const f = serverFile(ctx);
  if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as PgServer;
  return seedServer(ctx.pod!, ctx.config);
}

/** Writes the server's state (whole-file replace: a reader sees the old or the new state). */
export function saveServer(ctx: PodContext, s: PgServer): void {
  const f = serverFile(ctx);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(`${f}.tmp`, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(`${f}.tmp`, f);
}

/** Serialises writers of one server (a lock file next to it; the simulator's commands are short). */
export async function withServer<T>(ctx: PodContext, fn: (s: PgServer) => T | Promise<T>, write: boolean): Promise<T> {
  if (!write) return fn(loadServer(ctx));
  const lock = `${serverFile(ctx)}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 10_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx');
    } catch {
      if (Date.now() > deadline) throw new PodSimError(`the lab twin's simulated PostgreSQL is busy (lock ${lock})`, 2);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    const s = loadServer(ctx);
    const r = await fn(s);
    saveServer(ctx, s);
    return r;
  } finally {
    closeSync(fd);
    try {
      (await import('node:fs')).rmSync(lock, { force: true });
    } catch {
      /* gone */
    }
  }
}

/** Bytes a database takes: an empty one ~7.5 MB as in PostgreSQL 17, plus its rows. */
export function databaseSize(db: PgDatabase): number {
  return 7_553_827 + db.tables.reduce((n, t) => n + 16_384 + t.rows * 2_048, 0);
}

/** pg_size_pretty: bytes, kB, MB, GB with PostgreSQL's rounding (half up, 10240 as the step). */
export function sizePretty(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (i < units.length - 1 && Math.abs(v) >= 10_240) {
    v = v / 1024;
    i++;
  }
  return `${Math.round(v)} ${units[i]}`;
}

export interface Session {
  server: PgServer;
  role: PgRole;
  database: PgDatabase;
}

/** What libpq prints for the socket or host the client named. */
export function connectionTarget(host: string | undefined, port: string): string {
  return host && !host.startsWith('/')
    ? `connection to server at "${host}", port ${port} failed`
    : `connection to server on socket "${host ?? '/tmp'}/.s.PGSQL.${port}" failed`;
}

/** Authenticates as the real server does (md5/scram for every connection); a failure is libpq's message. */
export function connect(
  server: PgServer,
  tool: string,
  user: string,
  dbName: string,
  password: string | undefined,
  host: string | undefined,
  port: string,
): Session {
  const where = connectionTarget(host, port);
  if (password === undefined || password === '')
    throw new PodSimError(`${tool}: error: ${where}: fe_sendauth: no password supplied`, 2);
  const role = server.roles.find((r) => r.name === user);
  // PostgreSQL says the same for a role that does not exist: it does not tell which.
  if (!role || role.password !== password)
    throw new PodSimError(`${tool}: error: ${where}: FATAL:  password authentication failed for user "${user}"`, 2);
  const database = server.databases.find((d) => d.name === dbName);
  if (!database) throw new PodSimError(`${tool}: error: ${where}: FATAL:  database "${dbName}" does not exist`, 2);
  if (database.name === 'template0')
    throw new PodSimError(
      `${tool}: error: ${where}: FATAL:  database "template0" is not currently accepting connections`,
      2,
    );
  return { server, role, database };
}
