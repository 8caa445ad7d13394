// PostgreSQL's client tools in a twin pod, against the simulated server (postgres.ts):
// psql, pg_dump, pg_restore, pg_dumpall, createdb, dropdb, pg_isready. Options are read as
// PostgreSQL's getopt reads them (clustered short flags such as -Atc, --name=value).
import type { PodContext } from './commands.ts';
import { PodSimError } from './errors.ts';
import { readArchive, tableOfContents, writeArchive, type Archive } from './archive.ts';
import { connect, withServer, type PgServer, type Session } from './postgres.ts';
import { execute, formatResult, splitStatements, SqlError } from './sql.ts';
import { readStdin } from './stdin.ts';

interface Parsed {
  opts: Map<string, string[]>;
  flags: Set<string>;
  positional: string[];
}

/**
 * getopt_long for one tool: `valued` maps each option that takes a value (short letter or
 * long name) to its canonical name; `aliases` maps flags without value.
 */
function parseArgs(
  tool: string,
  args: string[],
  valued: Record<string, string>,
  aliases: Record<string, string>,
): Parsed {
  const p: Parsed = { opts: new Map(), flags: new Set(), positional: [] };
  const put = (k: string, v: string) => p.opts.set(k, [...(p.opts.get(k) ?? []), v]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      p.positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (valued[name]) {
        const v = inline ?? args[++i];
        if (v === undefined) throw usage(tool, `option '--${name}' requires an argument`);
        put(valued[name]!, v);
        continue;
      }
      if (aliases[name]) {
        p.flags.add(aliases[name]!);
        continue;
      }
      throw usage(tool, `unrecognized option '--${name}'`);
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (valued[c]) {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) throw usage(tool, `option requires an argument -- '${c}'`);
          put(valued[c]!, v);
          break;
        }
        if (aliases[c]) {
          p.flags.add(aliases[c]!);
          continue;
        }
        throw usage(tool, `invalid option -- '${c}'`);
      }
      continue;
    }
    p.positional.push(a);
  }
  return p;
}

const usage = (tool: string, why: string) =>
  new PodSimError(
    `${tool}: ${why}\n${tool}: hint: Try "${tool} --help" for more information. (lab twin: the options this simulator reads are in scripts/sandbox-lib/twin/pods/commands.ts)`,
    1,
  );
const last = (p: Parsed, k: string) => p.opts.get(k)?.at(-1);

const CONN = {
  U: 'username',
  username: 'username',
  d: 'dbname',
  dbname: 'dbname',
  h: 'host',
  host: 'host',
  p: 'port',
  port: 'port',
};
const CONN_FLAGS = { w: 'no-password', 'no-password': 'no-password', W: 'password', password: 'password' };

interface Conn {
  user: string;
  db: string;
  host: string | undefined;
  port: string;
  password: string | undefined;
}

function connOf(ctx: PodContext, p: Parsed, dbFromPositional = true): Conn {
  const user = last(p, 'username') ?? ctx.env.PGUSER ?? 'postgres';
  const db = last(p, 'dbname') ?? (dbFromPositional ? p.positional[0] : undefined) ?? ctx.env.PGDATABASE ?? user;
  return {
    user,
    db,
    host: last(p, 'host') ?? ctx.env.PGHOST,
    port: last(p, 'port') ?? ctx.env.PGPORT ?? '5432',
    password: ctx.env.PGPASSWORD,
  };
}

const open = (s: PgServer, tool: string, c: Conn): Session =>
  connect(s, tool, c.user, c.db, c.password, c.host, c.port);

export async function psql(ctx: PodContext, args: string[]): Promise<number> {
  const p = parseArgs(
    'psql',
    args,
    {
      ...CONN,
      c: 'command',
      command: 'command',
      f: 'file',
      file: 'file',
      v: 'set',
      set: 'set',
      variable: 'set',
      F: 'field-separator',
      'field-separator': 'field-separator',
    },
    {
      ...CONN_FLAGS,
      A: 'no-align',
      'no-align': 'no-align',
      t: 'tuples-only',
      'tuples-only': 'tuples-only',
      X: 'no-psqlrc',
      'no-psqlrc': 'no-psqlrc',
      q: 'quiet',
      quiet: 'quiet',
      e: 'echo-queries',
      a: 'echo-all',
      '1': 'single-transaction',
      'single-transaction': 'single-transaction',
    },
  );
  if (p.opts.has('file') && last(p, 'file') !== '-')
    throw new PodSimError(
      "psql: error: the lab twin's psql reads SQL from -c or stdin only (-f -), not from files in the pod",
      1,
    );
  const c = connOf(ctx, p);
  if (p.positional[1]) c.user = last(p, 'username') ?? p.positional[1];
  const vars = new Map((p.opts.get('set') ?? []).map((v) => v.split(/=(.*)/s, 2) as [string, string]));
  const stopOnError = /^(1|on|true)$/i.test(vars.get('ON_ERROR_STOP') ?? '');
  const print = {
    unaligned: p.flags.has('no-align'),
    tuplesOnly: p.flags.has('tuples-only'),
    fieldSep: last(p, 'field-separator') ?? '|',
  };
  const commands = p.opts.get('command');
  const script = commands ? undefined : (await readStdin()).toString('utf8');
  return withServer(
    ctx,
    (server) => {
      const session = open(server, 'psql', c);
      const sources = commands ?? [script!];
      let failed = false;
      for (const src of sources) {
        let statements: ReturnType<typeof splitStatements>;
        try {
          statements = splitStatements(src);
        } catch (e) {
          ctx.err(`psql: error: ${(e as Error).message}\n`);
          return 1;
        }
        for (const st of statements) {
          try {
            const r = execute(session, st.text);
            if (!st.gexec) {
              ctx.out(formatResult(r, print));
              continue;
            }
            for (const row of r.rows) for (const cell of row) ctx.out(formatResult(execute(session, cell), print));
          } catch (e) {
            if (!(e instanceof SqlError)) throw e;
            ctx.err(`${commands ? '' : 'psql:<stdin>: '}ERROR:  ${e.message}\n`);
            failed = true;
            // One -c stops at its error; a script goes on unless ON_ERROR_STOP is set.
            if (commands) return 1;
            if (stopOnError) return 3;
          }
        }
      }
      return failed && commands ? 1 : 0;
    },
    true,
  );
}

export async function pgDump(ctx: PodContext, args: string[]): Promise<number> {
  const p = parseArgs(
    'pg_dump',
    args,
    {
      ...CONN,
      F: 'format',
      format: 'format',
      f: 'file',
      file: 'file',
      n: 'schema',
      schema: 'schema',
      t: 'table',
      table: 'table',
      Z: 'compress',
      compress: 'compress',
      j: 'jobs',
      jobs: 'jobs',
    },
    {
      ...CONN_FLAGS,
      v: 'verbose',
      verbose: 'verbose',
      c: 'clean',
      clean: 'clean',
      'if-exists': 'if-exists',
      C: 'create',
      create: 'create',
      O: 'no-owner',
      'no-owner': 'no-owner',
      x: 'no-privileges',
      'no-acl': 'no-privileges',
      'no-privileges': 'no-privileges',
    },
  );
  if (p.opts.has('file'))
    throw new PodSimError(
      "pg_dump: error: the pod's filesystem is read-only on the lab twin: write the dump to stdout (no -f) and redirect it on your side",
      1,
    );
  const format = (last(p, 'format') ?? 'p').toLowerCase();
  const c = connOf(ctx, p);
  const s = await withServer(ctx, (server) => open(server, 'pg_dump', c), false);
  const archive: Archive = {
    format: 'lab-twin-pg_dump/1',
    dbname: s.database.name,
    owner: s.database.owner,
    createdAt: new Date().toISOString(),
    serverVersion: s.server.version,
    tables: s.database.tables,
  };
  if (format === 'c' || format === 'custom') {
    ctx.out(writeArchive(archive));
    return 0;
  }
  if (format === 'p' || format === 'plain') {
    ctx.out(plainSql(archive));
    return 0;
  }
  throw new PodSimError(
    `pg_dump: error: the lab twin's pg_dump writes the custom (-Fc) and plain (-Fp) formats, not "${format}"`,
    1,
  );
}

function plainSql(a: Archive): string {
  return [
    '--',
    `-- PostgreSQL database dump of ${a.dbname} (lab twin simulation: tables and row counts only)`,
    '--',
    '',
    ...a.tables.flatMap((t) => [
      `CREATE TABLE ${t.schema}.${t.name} (id integer);`,
      `ALTER TABLE ${t.schema}.${t.name} OWNER TO ${a.owner};`,
      `-- ${t.rows} rows of ${t.schema}.${t.name} (simulated)`,
      '',
    ]),
    '--',
    '-- PostgreSQL database dump complete',
    '--',
    '',
  ].join('\n');
}

export async function pgRestore(ctx: PodContext, args: string[]): Promise<number> {
  const p = parseArgs(
    'pg_restore',
    args,
    {
      ...CONN,
      j: 'jobs',
      jobs: 'jobs',
      F: 'format',
      format: 'format',
      n: 'schema',
      t: 'table',
      f: 'file',
      file: 'file',
    },
    {
      ...CONN_FLAGS,
      l: 'list',
      list: 'list',
      c: 'clean',
      clean: 'clean',
      'if-exists': 'if-exists',
      '1': 'single-transaction',
      'single-transaction': 'single-transaction',
      O: 'no-owner',
      'no-owner': 'no-owner',
      x: 'no-privileges',
      'no-acl': 'no-privileges',
      'no-privileges': 'no-privileges',
      e: 'exit-on-error',
      'exit-on-error': 'exit-on-error',
      C: 'create',
      create: 'create',
      v: 'verbose',
      verbose: 'verbose',
      s: 'schema-only',
      a: 'data-only',
    },
  );
  if (p.positional[0])
    throw new PodSimError(
      "pg_restore: error: the pod's filesystem holds no dumps on the lab twin: stream the archive on stdin (kubectl exec -i … < file)",
      1,
    );
  const archive = readArchive(await readStdin());
  if (p.flags.has('list')) {
    ctx.out(tableOfContents(archive));
    return 0;
  }
  if (!p.opts.has('dbname')) {
    ctx.out(plainSql(archive));
    return 0;
  }
  const c = connOf(ctx, p, false);
  return withServer(
    ctx,
    (server) => {
      if (p.flags.has('create')) {
        // -C: connect to the named database only to create the archive's one.
        const admin = open(server, 'pg_restore', c);
        if (server.databases.some((d) => d.name === archive.dbname)) {
          if (!p.flags.has('clean'))
            throw new PodSimError(
              `pg_restore: error: could not execute query: ERROR:  database "${archive.dbname}" already exists`,
              1,
            );
          server.databases = server.databases.filter((d) => d.name !== archive.dbname);
        }
        server.databases.push({
          name: archive.dbname,
          owner: p.flags.has('no-owner') ? admin.role.name : archive.owner,
          tables: [],
        });
        c.db = archive.dbname;
      }
      const s = open(server, 'pg_restore', c);
      const errors: string[] = [];
      const tables = [...s.database.tables];
      for (const t of archive.tables) {
        const i = tables.findIndex((x) => x.schema === t.schema && x.name === t.name);
        if (i >= 0 && !p.flags.has('clean')) {
          errors.push(`relation "${t.schema}.${t.name}" already exists`);
          if (p.flags.has('exit-on-error')) break;
          continue;
        }
        if (i >= 0) tables.splice(i, 1);
        tables.push({ ...t });
      }
      for (const e of errors) ctx.err(`pg_restore: error: could not execute query: ERROR:  ${e}\n`);
      // --single-transaction and --exit-on-error leave the database as it was on an error.
      if (errors.length && (p.flags.has('single-transaction') || p.flags.has('exit-on-error'))) return 1;
      s.database.tables = tables;
      if (errors.length) {
        ctx.err(`pg_restore: warning: errors ignored on restore: ${errors.length}\n`);
        return 1;
      }
      return 0;
    },
    true,
  );
}

export async function pgDumpall(ctx: PodContext, args: string[]): Promise<number> {
  const p = parseArgs(
    'pg_dumpall',
    args,
    { ...CONN, l: 'database', database: 'database', f: 'file', file: 'file' },
    {
      ...CONN_FLAGS,
      g: 'globals-only',
      'globals-only': 'globals-only',
      r: 'roles-only',
      'roles-only': 'roles-only',
      c: 'clean',
      clean: 'clean',
      'if-exists': 'if-exists',
      v: 'verbose',
    },
  );
  if (!p.flags.has('globals-only') && !p.flags.has('roles-only')) {
    throw new PodSimError(
      "pg_dumpall: error: the lab twin's pg_dumpall writes --globals-only or --roles-only; dump each database with pg_dump -Fc",
      1,
    );
  }
  if (p.opts.has('file'))
    throw new PodSimError("pg_dumpall: error: the pod's filesystem is read-only on the lab twin: write to stdout", 1);
  const c = connOf(ctx, p, false);
  c.db = last(p, 'database') ?? 'postgres';
  const s = await withServer(ctx, (server) => open(server, 'pg_dumpall', c), false);
  if (!s.role.superuser)
    throw new PodSimError('pg_dumpall: error: query failed: ERROR:  permission denied for table pg_authid', 1);
  const verifier = (r: string) =>
    `SCRAM-SHA-256$4096:${Buffer.from(`lab-twin-salt-${r}`).toString('base64')}$${Buffer.from(`lab-twin-stored-${r}`).toString('base64')}:${Buffer.from(`lab-twin-server-${r}`).toString('base64')}`;
  const lines = [
    '--',
    '-- PostgreSQL database cluster dump',
    '-- (lab twin simulation: the roles of the simulated server; the SCRAM verifiers are made up)',
    '--',
    '',
    'SET default_transaction_read_only = off;',
    '',
    "SET client_encoding = 'UTF8';",
    'SET standard_conforming_strings = on;',
    '',
    '--',
    '-- Roles',
    '--',
    '',
  ];
  for (const r of [...s.server.roles].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    lines.push(`CREATE ROLE ${r.name};`);
    lines.push(
      `ALTER ROLE ${r.name} WITH ${r.superuser ? 'SUPERUSER' : 'NOSUPERUSER'} INHERIT ${r.superuser ? 'CREATEROLE' : 'NOCREATEROLE'} ${r.superuser || r.createdb ? 'CREATEDB' : 'NOCREATEDB'} LOGIN ${r.superuser ? 'REPLICATION BYPASSRLS' : 'NOREPLICATION NOBYPASSRLS'} PASSWORD '${verifier(r.name)}';`,
    );
  }
  lines.push('', '--', '-- PostgreSQL database cluster dump complete', '--', '');
  ctx.out(lines.join('\n'));
  return 0;
}

async function createOrDrop(ctx: PodContext, args: string[], tool: 'createdb' | 'dropdb'): Promise<number> {
  const p = parseArgs(
    tool,
    args,
    {
      U: 'username',
      username: 'username',
      h: 'host',
      host: 'host',
      p: 'port',
      port: 'port',
      O: 'owner',
      owner: 'owner',
      T: 'template',
      template: 'template',
      E: 'encoding',
      maintenance_db: 'maintenance-db',
      'maintenance-db': 'maintenance-db',
    },
    { ...CONN_FLAGS, 'if-exists': 'if-exists', e: 'echo', echo: 'echo', f: 'force', force: 'force' },
  );
  const name = p.positional[0];
  if (!name) throw usage(tool, 'missing required argument database name');
  const c = connOf(ctx, p, false);
  c.db = last(p, 'maintenance-db') ?? 'postgres';
  return withServer(
    ctx,
    (server) => {
      const s = open(server, tool, c);
      const sql =
        tool === 'createdb'
          ? `CREATE DATABASE "${name}"${last(p, 'owner') ? ` OWNER "${last(p, 'owner')}"` : ''}`
          : `DROP DATABASE ${p.flags.has('if-exists') ? 'IF EXISTS ' : ''}"${name}"`;
      try {
        execute(s, sql);
      } catch (e) {
        if (!(e instanceof SqlError)) throw e;
        ctx.err(
          `${tool}: error: database ${tool === 'createdb' ? 'creation' : 'removal'} failed: ERROR:  ${e.message}\n`,
        );
        return 1;
      }
      return 0;
    },
    true,
  );
}

export const createdb = (ctx: PodContext, args: string[]) => createOrDrop(ctx, args, 'createdb');
export const dropdb = (ctx: PodContext, args: string[]) => createOrDrop(ctx, args, 'dropdb');

export function pgIsready(ctx: PodContext, args: string[]): number {
  const p = parseArgs(
    'pg_isready',
    args,
    { ...CONN, t: 'timeout', timeout: 'timeout' },
    { q: 'quiet', quiet: 'quiet' },
  );
  const host = last(p, 'host') ?? ctx.env.PGHOST ?? '/tmp';
  const port = last(p, 'port') ?? ctx.env.PGPORT ?? '5432';
  if (!p.flags.has('quiet')) ctx.out(`${host}:${port} - accepting connections\n`);
  return 0;
}
