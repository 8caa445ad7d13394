import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunRecord } from './schema.ts';
import { UsageError, type FieldIssue } from '../errors.ts';
import { ReadCache } from '../read-cache.ts';

/**
 * Reading run records without the schema: a record validated by an earlier run of the bundle is
 * taken from runner/read-cache.ts (exactly the same bytes, or it is validated again), so that
 * `show` loads zod only for a record it has not seen. runner/record/store.ts validates (and writes).
 */

/** Where records live unless `--records DIR` says otherwise; one folder per runbook id. */
export const RUNS_DIR = 'src/content/runs';

export function recordsDir(root: string, records?: string): string {
  return records ? resolve(records) : join(root, RUNS_DIR);
}

// ── Names that become paths ──────────────────────────────────────────────────
// Runbook ids, step ids and run ids name files and folders under the records
// folder, so each is one plain path segment: no separators, no `.`/`..`, no NUL
// or control characters, short enough for any filesystem once `.json` and a temp
// suffix are added. Checked here, where the paths are made, whatever checked them before.

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_ID_LENGTH = 128;

/** A name as it may be shown in a one-line error: quoted, control characters escaped, long ones cut. */
export function shownName(name: string): string {
  const cut = name.length > 80 ? `${name.slice(0, 80)}…` : name;
  return JSON.stringify(cut);
}

/** Why `id` cannot name a file or folder, or undefined when it can. */
export function pathSegmentProblem(id: string): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_ID_LENGTH) return `it is longer than ${MAX_ID_LENGTH} characters`;
  if (!SEGMENT.test(id))
    return 'only letters, digits, ".", "_" and "-" can name a file (starting with a letter or digit)';
  return undefined;
}

export function assertPathSegment(id: string, what: string): void {
  const problem = pathSegmentProblem(id);
  if (problem) throw new UsageError(`${what} ${shownName(id)} cannot name a file under the records folder: ${problem}`);
}

// ── Reading ──────────────────────────────────────────────────────────────────

/** A record file that cannot be used: what is wrong with it, and each schema issue when it is JSON of the wrong shape. */
export interface RecordProblem {
  file: string;
  message: string;
  issues: FieldIssue[];
}

/** A problem as the lines of an error message: `file: message:` then `file  field: issue` lines. */
export function describeRecordProblem({ file, message, issues }: RecordProblem): string {
  return [
    `${file}: ${message}${issues.length ? ':' : ''}`,
    ...issues.map((i) => `${file}  ${i.field ? `${i.field}: ` : ''}${i.message}`),
  ].join('\n');
}

export interface StoredRecord {
  file: string;
  record: RunRecord;
}

export type ParsedRecord = { record: RunRecord } | { problem: RecordProblem };
/** JSON.parse and the schema over a record's bytes (runner/record/store.ts's validateRecord). */
export type ValidateRecord = (file: string, bytes: Buffer) => ParsedRecord;

const validated = new ReadCache<RunRecord>('records');

/** A problem of a file that could not be read or parsed, as the record store has always worded it. */
export const unreadable = (file: string, err: unknown): { problem: RecordProblem } => ({
  problem: { file, message: `not a readable run record (${(err as Error).message})`, issues: [] },
});

/**
 * One record file: a record validated before from these exact bytes, else `validate`'s answer
 * (stored when it is a record). Without `validate`, undefined for a file that needs it.
 */
export function parseRecordFile(file: string, validate?: ValidateRecord): ParsedRecord | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return unreadable(file, err);
  }
  const hit = validated.get(file, bytes);
  if (hit) return { record: hit };
  if (!validate) return undefined;
  const parsed = validate(file, bytes);
  if ('record' in parsed) validated.set(file, bytes, parsed.record);
  return parsed;
}

/** The records in the files, newest first, and the problems of those that are not records; undefined as parseRecordFile. */
export function gatherRecords(
  dir: string,
  runbookId: string | undefined,
  validate?: ValidateRecord,
): { records: StoredRecord[]; problems: RecordProblem[] } | undefined {
  const records: StoredRecord[] = [];
  const problems: RecordProblem[] = [];
  if (runbookId !== undefined) assertPathSegment(runbookId, 'runbook id');
  if (!existsSync(dir)) return { records, problems };
  const folders = runbookId ? [runbookId] : subfolders(dir);
  for (const folder of folders) {
    const path = join(dir, folder);
    if (!existsSync(path)) continue;
    for (const name of readdirSync(path)) {
      if (!name.endsWith('.json')) continue;
      const parsed = parseRecordFile(join(path, name), validate);
      if (!parsed) return undefined;
      if ('problem' in parsed) problems.push(parsed.problem);
      else records.push({ file: join(path, name), record: parsed.record });
    }
  }
  records.sort((a, b) => byNewest(a.record, b.record));
  return { records, problems };
}

/**
 * Newest first: by start time, then run id. localeCompare's first call costs ~10 ms (ICU's collator):
 * the timestamps the runner writes (toISOString, all one length) compare the same code unit by code unit.
 */
export function byNewest(a: Pick<RunRecord, 'startedAt' | 'runId'>, b: Pick<RunRecord, 'startedAt' | 'runId'>): number {
  const [x, y] = [b.startedAt, a.startedAt];
  if (x !== y && ISO.test(x) && ISO.test(y)) return x < y ? -1 : 1;
  return x.localeCompare(y) || b.runId.localeCompare(a.runId);
}
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * runner/record/store.ts's listRecords, loading the schema (and validating) only for records not
 * validated before: the same records, and the same problems, every run.
 */
export async function listRecordsCached(
  dir: string,
  runbookId?: string,
): Promise<{ records: StoredRecord[]; problems: RecordProblem[] }> {
  return gatherRecords(dir, runbookId) ?? gatherRecords(dir, runbookId, (await import('./store.ts')).validateRecord)!;
}

/** Real folders only: a symlink in the records folder is not followed when listing. */
export const subfolders = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
