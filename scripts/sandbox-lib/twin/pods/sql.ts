// The statements the simulated PostgreSQL answers: the ones the lab's runbooks and weekends
// run (listed in pods/commands.ts's table), matched by shape after normalising whitespace
// and case. Anything else is an ERROR naming the simulation, never a silent success.
import { databaseSize, sizePretty, type PgDatabase, type Session } from './postgres.ts';

export interface Result {
  columns: string[];
  rows: string[][];
  numeric?: boolean[];
  command?: string;
}
export class SqlError extends Error {}

/** Splits a script into statements at top-level `;` and `\gexec` (which runs each result cell as a statement). */
export function splitStatements(sql: string): Array<{ text: string; gexec: boolean }> {
  const out: Array<{ text: string; gexec: boolean }> = [];
  let cur = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    // Quoted text ('…', "…", $tag$…$tag$) is copied whole: a ; or \ inside it is not a separator.
    const tag = ch === "'" || ch === '"' ? ch : ch === '$' ? /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0] : undefined;
    if (tag) {
      const close = sql.indexOf(tag, i + tag.length);
      const j = close < 0 ? sql.length - 1 : close + tag.length - 1;
      cur += sql.slice(i, j + 1);
      i = j;
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      cur += ' ';
      continue;
    }
    if (ch === ';') {
      if (cur.trim()) out.push({ text: cur.trim(), gexec: false });
      cur = '';
      continue;
    }
    if (ch === '\\') {
      const m = /^\\(\w+)/.exec(sql.slice(i));
      if (m?.[1] === 'gexec') {
        if (cur.trim()) out.push({ text: cur.trim(), gexec: true });
        cur = '';
        i += m[0].length - 1;
        continue;
      }
      throw new SqlError(`the lab twin's psql simulates no meta-command \\${m?.[1] ?? ''} but \\gexec`);
    }
    cur += ch;
  }
  if (cur.trim()) out.push({ text: cur.trim(), gexec: false });
  return out;
}

const norm = (s: string) =>
  s
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*([,=<>|])\s*/g, '$1')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .toLowerCase();
const unquote = (s: string) => s.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');

function userDatabases(s: Session, n: string): PgDatabase[] {
  let dbs = s.server.databases.filter((d) => !(/not datistemplate/.test(n) && d.template));
  for (const m of n.matchAll(/datname(<>|!=)'([^']*)'/g)) dbs = dbs.filter((d) => d.name !== m[2]);
  const eq = /datname='([^']*)'/.exec(n);
  if (eq) dbs = dbs.filter((d) => d.name === eq[1]);
  return [...dbs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Runs one statement in the session; may change the server (the caller saves it). */
export function execute(s: Session, text: string): Result {
  const n = norm(text);
  if (/^select version\(\)$/.test(n)) {
    return {
      columns: ['version'],
      rows: [
        [
          `PostgreSQL ${s.server.version} on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit (simulated by the lab twin)`,
        ],
      ],
    };
  }
  if (/^select 1$/.test(n)) return { columns: ['?column?'], rows: [['1']], numeric: [true] };
  if (/^select current_user$/.test(n)) return { columns: ['current_user'], rows: [[s.role.name]] };
  if (/^select pg_is_in_recovery\(\)$/.test(n)) return { columns: ['pg_is_in_recovery'], rows: [['f']] };
  let m =
    /^select datname,pg_size_pretty\(pg_database_size\(datname\)\)(?: as (\w+))? from pg_database( where .*?)?( order by (datname|1))?$/.exec(
      n,
    );
  if (m)
    return {
      columns: ['datname', m[1] ?? 'pg_size_pretty'],
      rows: userDatabases(s, n).map((d) => [d.name, sizePretty(databaseSize(d))]),
    };
  if (/^select datname from pg_database( where [^;]*)?( order by (datname|1))?$/.test(n)) {
    return { columns: ['datname'], rows: userDatabases(s, n).map((d) => [d.name]) };
  }
  if (/^select 1 from pg_database where datname='[^']*'$/.test(n))
    return { columns: ['?column?'], rows: userDatabases(s, n).map(() => ['1']), numeric: [true] };
  if (/^select usename,application_name,pg_terminate_backend\(pid\) from pg_stat_activity where /.test(n)) {
    // The simulated server has no session but the caller's.
    return { columns: ['usename', 'application_name', 'pg_terminate_backend'], rows: [] };
  }
  if (/^select count\(\*\) from pg_stat_user_tables$/.test(n))
    return { columns: ['count'], rows: [[String(s.database.tables.length)]], numeric: [true] };
  // current_schema(): the first schema of the default search_path ("$user", public) that exists.
  m = /^select count\(\*\) from pg_tables where schemaname=(current_schema\(\)|'(\w+)')$/.exec(n);
  if (m) {
    const schema = m[2] ?? (s.database.tables.some((t) => t.schema === s.role.name) ? s.role.name : 'public');
    return {
      columns: ['count'],
      rows: [[String(s.database.tables.filter((t) => t.schema === schema).length)]],
      numeric: [true],
    };
  }
  // The runbooks' exact row counts: a catalog query whose every cell is a statement for \gexec.
  if (
    /^select format\(.*\) from pg_tables where schemaname not in ?\('pg_catalog','information_schema'\)( order by 1)?$/.test(
      n.replace(/\$n\$/g, "'"),
    )
  ) {
    const tables = [...s.database.tables].sort((a, b) => (`${a.schema}.${a.name}` < `${b.schema}.${b.name}` ? -1 : 1));
    return {
      columns: ['format'],
      rows: tables.map((t) => [`select '${t.schema}.${t.name} ' || count(*) from "${t.schema}"."${t.name}"`]),
    };
  }
  m = /^select '([^']*)'\|\|count\(\*\) from "?(\w+)"?\."?(\w+)"?$/.exec(n);
  if (m) {
    const t = s.database.tables.find((x) => x.schema === m![2] && x.name === m![3]);
    if (!t) throw new SqlError(`relation "${m[2]}.${m[3]}" does not exist`);
    return { columns: ['?column?'], rows: [[`${m[1]}${t.rows}`]] };
  }
  m = /^select count\(\*\) from "?(\w+)"?(?:\."?(\w+)"?)?$/.exec(n);
  if (m) {
    const [schema, name] = m[2] ? [m[1]!, m[2]] : ['public', m[1]!];
    const t = s.database.tables.find((x) => x.schema === schema && x.name === name);
    if (!t) throw new SqlError(`relation "${m[2] ? `${schema}.${name}` : name}" does not exist`);
    return { columns: ['count'], rows: [[String(t.rows)]], numeric: [true] };
  }
  m = /^create database ("[^"]+"|\w+)(?: owner ("[^"]+"|\w+))?$/.exec(n);
  if (m) {
    const name = unquote(text.match(/database\s+("[^"]+"|\w+)/i)![1]!);
    if (!s.role.superuser && !s.role.createdb) throw new SqlError('permission denied to create database');
    if (s.server.databases.some((d) => d.name === name)) throw new SqlError(`database "${name}" already exists`);
    s.server.databases.push({ name, owner: m[2] ? unquote(m[2]) : s.role.name, tables: [] });
    return { columns: [], rows: [], command: 'CREATE DATABASE' };
  }
  m = /^drop database (if exists )?("[^"]+"|\w+)$/.exec(n);
  if (m) {
    const name = unquote(text.match(/database\s+(?:if\s+exists\s+)?("[^"]+"|\w+)/i)![1]!);
    const db = s.server.databases.find((d) => d.name === name);
    if (!db) {
      if (m[1]) return { columns: [], rows: [], command: 'DROP DATABASE' };
      throw new SqlError(`database "${name}" does not exist`);
    }
    if (db.name === s.database.name) throw new SqlError('cannot drop the currently open database');
    if (!s.role.superuser && db.owner !== s.role.name) throw new SqlError(`must be owner of database ${name}`);
    s.server.databases = s.server.databases.filter((d) => d !== db);
    return { columns: [], rows: [], command: 'DROP DATABASE' };
  }
  throw new SqlError(
    `the lab twin's simulated PostgreSQL does not run this statement (scripts/sandbox-lib/twin/pods/sql.ts lists what it answers): ${text.replace(/\s+/g, ' ').slice(0, 200)}`,
  );
}

export interface PrintOptions {
  unaligned: boolean;
  tuplesOnly: boolean;
  fieldSep: string;
}

/** Prints a result as psql does: aligned with a header and "(N rows)", or unaligned (-A), or tuples only (-t). */
export function formatResult(r: Result, o: PrintOptions): string {
  if (r.command) return `${r.command}\n`;
  if (o.unaligned) {
    const lines = [
      ...(o.tuplesOnly ? [] : [r.columns.join(o.fieldSep)]),
      ...r.rows.map((row) => row.join(o.fieldSep)),
      ...(o.tuplesOnly ? [] : [`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`]),
    ];
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
  const widths = r.columns.map((c, i) => Math.max(c.length, ...r.rows.map((row) => row[i]!.length)));
  const cell = (v: string, i: number) => (r.numeric?.[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!));
  const body = r.rows.map((row) => ` ${row.map(cell).join(' | ')} `.replace(/\s+$/, ''));
  if (o.tuplesOnly) return body.length ? `${body.join('\n')}\n` : '';
  const center = (c: string, w: number) => {
    const left = Math.floor((w - c.length) / 2);
    return ' '.repeat(left) + c + ' '.repeat(w - c.length - left);
  };
  const header = ` ${r.columns.map((c, i) => center(c, widths[i]!)).join(' | ')} `.replace(/\s+$/, '');
  const rule = widths.map((w) => '-'.repeat(w + 2)).join('+');
  return `${[header, rule, ...body, `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`].join('\n')}\n\n`;
}
