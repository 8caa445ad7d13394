import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runRecordSchema, type RunRecord } from './schema.ts';
import { UsageError, fieldIssues, formatZodIssues } from '../errors.ts';
import { describeFsError, removeStaleTemps, replaceFileDurably, type FileIo } from './durable.ts';
import {
  assertPathSegment,
  describeRecordProblem,
  gatherRecords,
  MAX_ID_LENGTH,
  parseRecordFile,
  pathSegmentProblem,
  shownName,
  subfolders,
  unreadable,
  type ParsedRecord,
  type RecordProblem,
  type StoredRecord,
} from './read.ts';

// The read path without the schema lives in ./read.ts (what `show` loads); its names are the store's too.
export {
  assertPathSegment,
  describeRecordProblem,
  MAX_ID_LENGTH,
  pathSegmentProblem,
  type RecordProblem,
  type StoredRecord,
} from './read.ts';
export { recordsDir, RUNS_DIR } from './read.ts';

// Run ids, and the paths made of ids (./read.ts checks each id as a path segment).
const STAMP = String.raw`\d{8}T\d{6}Z`;
const RUN_ID = new RegExp(`^${STAMP}-(.+)-[0-9a-f]{4}$`);
const RUN_ID_EXAMPLE = '20261123T101502Z-k3s-upgrade-3f9a';

/** The runbook id inside a run id, or undefined when `runId` does not have the shape newRunId gives. */
export function runIdRunbook(runId: string): string | undefined {
  if (runId.length > MAX_ID_LENGTH + 22) return undefined;
  const id = RUN_ID.exec(runId)?.[1];
  return id !== undefined && pathSegmentProblem(id) === undefined ? id : undefined;
}

export function assertRunId(runId: string): void {
  if (runIdRunbook(runId) === undefined) {
    throw new UsageError(
      `${shownName(runId)} is not a run id (they look like ${RUN_ID_EXAMPLE}); \`runbook history\` lists the runs`,
    );
  }
}

/** `dir/<runbook>/<run>.json`, refusing names that would leave `dir` (also through a symlinked folder). */
export function recordFile(dir: string, runbookId: string, runId: string): string {
  assertPathSegment(runbookId, 'runbook id');
  assertRunId(runId);
  const file = join(resolve(dir), runbookId, `${runId}.json`);
  assertInside(dir, file);
  return file;
}

/**
 * `file` resolves inside `dir`: lexically, and through the symlinks that already
 * exist on the way (a folder under the records that links elsewhere is refused).
 */
export function assertInside(dir: string, file: string): void {
  const root = resolve(dir);
  const within = (base: string, path: string) =>
    path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
  if (!within(root, resolve(file))) throw new UsageError(`${file} is outside the records folder ${root}`);
  const realRoot = realOrSelf(root);
  // The deepest part of the path that exists, resolved: it must still be under the records folder.
  let existing = resolve(file);
  while (existing !== root && !exists(existing)) existing = dirname(existing);
  if (existing === root) return;
  let real: string;
  try {
    real = realpathSync(existing);
  } catch (err) {
    throw new UsageError(`cannot use ${existing} in the records folder ${root}: ${describeFsError(err)}`);
  }
  if (!within(realRoot, real)) {
    throw new UsageError(
      `${existing} leads outside the records folder ${root} (to ${real}); records are kept only inside it`,
    );
  }
}

const exists = (path: string) => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};
const realOrSelf = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/** `20261123T101502Z-k3s-upgrade-3f9a`: sorts by start time, unique enough for one operator's lab. */
export function newRunId(runbookId: string, now = new Date()): string {
  assertPathSegment(runbookId, 'runbook id');
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${runbookId}-${randomBytes(2).toString('hex')}`;
}

// ── Writing ──────────────────────────────────────────────────────────────────

/** A record could not be written: the folder and the cause, in words an operator can act on. */
export class RecordWriteError extends Error {
  override name = 'RecordWriteError';
  readonly dir: string;
  readonly code: string | undefined;

  constructor(dir: string, cause: unknown) {
    super(`cannot write the run record in ${dir}: ${describeFsError(cause)}`, { cause });
    this.dir = dir;
    this.code = (cause as NodeJS.ErrnoException)?.code;
  }
}

export interface WriteOptions {
  /** The fs calls to use (tests inject failures). */
  io?: FileIo;
  /** false skips the fsyncs: only for measuring what durability costs (scripts/bench-run). */
  fsync?: boolean;
}

const cleaned = new Set<string>();

/**
 * Validates and replaces a record durably (durable.ts): a reader, a crash or a
 * full disk leaves either the previous complete record or the new complete one.
 * Throws RecordWriteError when the write did not happen.
 */
export function writeRecord(file: string, record: RunRecord, options: WriteOptions = {}): void {
  const checked = runRecordSchema.safeParse(record);
  if (!checked.success) {
    throw new Error(`refusing to write an invalid run record ${file}:\n${formatZodIssues(checked.error.issues, file)}`);
  }
  if (!cleaned.has(file)) {
    cleaned.add(file);
    removeStaleTemps(file);
  }
  try {
    // Checked again at every write, not only when the run starts: a step may swap its
    // runbook folder for a symlink to elsewhere while the run goes on.
    assertInside(dirname(dirname(file)), file);
    replaceFileDurably(file, `${JSON.stringify(checked.data, null, 2)}\n`, options);
  } catch (err) {
    throw new RecordWriteError(dirname(file), err);
  }
}

// ── Reading ──────────────────────────────────────────────────────────────────

/** JSON.parse and the schema over a record's bytes: a record, or the problem with each field issue. */
export function validateRecord(file: string, bytes: Buffer): ParsedRecord {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return unreadable(file, err);
  }
  const checked = runRecordSchema.safeParse(data);
  if (!checked.success)
    return { problem: { file, message: 'not a valid run record', issues: fieldIssues(checked.error.issues) } };
  return { record: checked.data };
}

export function readRecord(file: string): RunRecord {
  const parsed = parseRecordFile(file, validateRecord)!;
  if ('problem' in parsed) throw new UsageError(describeRecordProblem(parsed.problem));
  return parsed.record;
}

/**
 * Every record under `dir` (one runbook's when `runbookId` is given), newest first;
 * unreadable files are reported, not fatal.
 */
export function listRecords(dir: string, runbookId?: string): { records: StoredRecord[]; problems: RecordProblem[] } {
  return gatherRecords(dir, runbookId, validateRecord)!;
}

/**
 * The record of `runId` under `dir`: first in the folder its runbook id names,
 * then in any runbook folder (a page whose id changed since). Refuses anything
 * that is not a run id, so `resume ../../etc/passwd` reads nothing.
 */
export function findRecord(dir: string, runId: string): StoredRecord {
  assertRunId(runId);
  const root = resolve(dir);
  const candidates = [runIdRunbook(runId)!, ...(existsSync(root) ? subfolders(root) : [])];
  for (const folder of candidates) {
    const file = join(root, folder, `${runId}.json`);
    if (!existsSync(file)) continue;
    assertInside(root, file);
    return { file, record: readRecord(file) };
  }
  throw new UsageError(
    `no run ${runId} under ${dir}; \`runbook history\` lists the runs (pass --records DIR if they were written elsewhere)`,
  );
}
