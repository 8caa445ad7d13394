// pg_dump's custom-format archive, as the lab twin writes it: the real header
// ("PGDMP", archive version 1.16.0, int size 4, offset size 8, format 1 = custom), so
// `file` and a glance with `head -c5` recognise it, then the simulated database as JSON
// after a line saying so. Only the twin's pg_restore reads the rest; PostgreSQL's own
// would stop after the header.
import { PodSimError } from './errors.ts';
import type { PgTable } from './postgres.ts';

export const MAGIC = Buffer.from('PGDMP');
const HEADER = Buffer.concat([MAGIC, Buffer.from([1, 16, 0, 4, 8, 1])]);
const MARK = "\n-- lab twin simulated pg_dump custom archive: JSON follows (read only by the twin's pg_restore) --\n";

export interface Archive {
  format: 'lab-twin-pg_dump/1';
  dbname: string;
  owner: string;
  createdAt: string;
  serverVersion: string;
  tables: PgTable[];
}

export function writeArchive(a: Archive): Buffer {
  return Buffer.concat([HEADER, Buffer.from(MARK), Buffer.from(JSON.stringify(a)), Buffer.from('\n')]);
}

export function readArchive(buf: Buffer, tool = 'pg_restore'): Archive {
  if (buf.length < HEADER.length || !buf.subarray(0, 5).equals(MAGIC)) {
    throw new PodSimError(`${tool}: error: input file does not appear to be a valid archive`, 1);
  }
  const text = buf.subarray(HEADER.length).toString('utf8');
  if (!text.startsWith(MARK)) {
    throw new PodSimError(
      `${tool}: error: this custom-format archive was not written by the lab twin's simulated pg_dump; the twin's pg_restore reads only its own`,
      1,
    );
  }
  try {
    const a = JSON.parse(text.slice(MARK.length)) as Archive;
    if (a.format !== 'lab-twin-pg_dump/1') throw new Error('format');
    return a;
  } catch {
    throw new PodSimError(`${tool}: error: could not read the archive's table of contents (truncated or damaged)`, 1);
  }
}

/** `pg_restore --list`: the header comment and one TABLE and one TABLE DATA entry per table, as pg_restore prints them. */
export function tableOfContents(a: Archive): string {
  const at = a.createdAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  const sorted = [...a.tables].sort((x, y) => (`${x.schema}.${x.name}` < `${y.schema}.${y.name}` ? -1 : 1));
  const lines = [
    ';',
    `; Archive created at ${at}`,
    `;     dbname: ${a.dbname}`,
    `;     TOC Entries: ${sorted.length * 2 + 1}`,
    ';     Compression: gzip',
    ';     Dump Version: 1.16-0',
    ';     Format: CUSTOM',
    ';     Integer: 4 bytes',
    ';     Offset: 8 bytes',
    `;     Dumped from database version: ${a.serverVersion}`,
    `;     Dumped by pg_dump version: ${a.serverVersion}`,
    ';',
    ';',
    '; Selected TOC Entries:',
    ';',
    `5; 2615 2200 SCHEMA - public ${a.owner}`,
  ];
  lines.push(...sorted.map((t, i) => `${215 + i}; 1259 ${16_385 + i} TABLE ${t.schema} ${t.name} ${a.owner}`));
  lines.push(...sorted.map((t, i) => `${3_400 + i}; 0 ${16_385 + i} TABLE DATA ${t.schema} ${t.name} ${a.owner}`));
  return `${lines.join('\n')}\n`;
}
