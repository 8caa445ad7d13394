import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { effectiveStatus, runRecordSchema, type RunRecord, type RunStatus } from './schema.ts';
import { processAlive } from './lock.ts';
import { UsageError, formatZodIssues } from '../errors.ts';

/** Where records live unless `--records DIR` says otherwise; one folder per runbook id. */
export const RUNS_DIR = 'src/content/runs';

export function recordsDir(root: string, records?: string): string {
  return records ? resolve(records) : join(root, RUNS_DIR);
}

export function recordFile(dir: string, runbookId: string, runId: string): string {
  return join(dir, runbookId, `${runId}.json`);
}

/** `20261123T101502Z-k3s-upgrade-3f9a`: sorts by start time, unique enough for one operator's lab. */
export function newRunId(runbookId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${runbookId}-${randomBytes(2).toString('hex')}`;
}

/**
 * Validates and writes a record atomically: a temp file in the same folder, then
 * rename(2). A runner killed at any moment leaves either the old or the new record.
 */
export function writeRecord(file: string, record: RunRecord, options: { fsync?: boolean } = {}): void {
  const checked = runRecordSchema.safeParse(record);
  if (!checked.success) throw new Error(`refusing to write an invalid run record ${file}:\n${formatZodIssues(checked.error.issues, file)}`);
  mkdirSync(join(file, '..'), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(checked.data, null, 2)}\n`);
    if (options.fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

export function readRecord(file: string): RunRecord {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: not a readable run record (${(err as Error).message})`);
  }
  const checked = runRecordSchema.safeParse(data);
  if (!checked.success) throw new UsageError(`${file}: not a valid run record:\n${formatZodIssues(checked.error.issues, file)}`);
  return checked.data;
}

export interface StoredRecord {
  file: string;
  record: RunRecord;
}

/** Every record under `dir` (one runbook's when `runbookId` is given), newest first; unreadable files are reported, not fatal. */
export function listRecords(dir: string, runbookId?: string): { records: StoredRecord[]; problems: string[] } {
  const records: StoredRecord[] = [];
  const problems: string[] = [];
  if (!existsSync(dir)) return { records, problems };
  const folders = runbookId ? [runbookId] : readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  for (const folder of folders) {
    const path = join(dir, folder);
    if (!existsSync(path)) continue;
    for (const name of readdirSync(path)) {
      if (!name.endsWith('.json')) continue;
      try {
        records.push({ file: join(path, name), record: readRecord(join(path, name)) });
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  records.sort((a, b) => b.record.startedAt.localeCompare(a.record.startedAt) || b.record.runId.localeCompare(a.record.runId));
  return { records, problems };
}

export function findRecord(dir: string, runId: string): StoredRecord {
  if (existsSync(dir)) {
    for (const folder of readdirSync(dir, { withFileTypes: true })) {
      const file = join(dir, folder.name, `${runId}.json`);
      if (folder.isDirectory() && existsSync(file)) return { file, record: readRecord(file) };
    }
  }
  throw new UsageError(`no run ${runId} under ${dir}; \`runbook history\` lists the runs (pass --records DIR if they were written elsewhere)`);
}

/** The status a reader should believe: a `running` record whose runner is gone was interrupted. */
export function statusHere(record: RunRecord): RunStatus {
  return effectiveStatus(record, { host: hostname(), isAlive: processAlive });
}
