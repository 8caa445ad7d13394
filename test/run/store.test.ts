import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { findRecord, listRecords, newRunId, readRecord, recordFile, writeRecord } from '../../runner/record/store.ts';
import { statusHere } from '../../runner/record/view.ts';
import type { RunRecord } from '../../runner/record/schema.ts';
import { makeLab, type Lab } from './helpers.ts';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

const RA = '20261101T000000Z-demo-000a';
const RB = '20261102T000000Z-demo-000b';

function record(runId: string, startedAt: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    schemaVersion: 1,
    runId,
    runbook: { id: 'demo', title: 'Demo', file: 'demo.mdx', kind: 'runbook' },
    git: { commit: null, dirty: false },
    pageHash: 'h',
    stepHashes: {},
    params: [],
    operator: 'op@host',
    host: hostname(),
    pid: process.pid,
    cluster: {},
    status: 'succeeded',
    startedAt,
    resumes: [],
    steps: [],
    ...over,
  };
}

describe('run record store', () => {
  it('run ids sort by start time and carry the runbook id', () => {
    const id = newRunId('k3s-upgrade', new Date('2026-11-23T10:15:02.123Z'));
    expect(id).toMatch(/^20261123T101502Z-k3s-upgrade-[0-9a-f]{4}$/);
  });

  it('writes atomically (no temp file left), reads back, lists newest first and finds by id', () => {
    const [ra, rb] = [RA, RB];
    const a = recordFile(lab.records, 'demo', ra);
    const b = recordFile(lab.records, 'demo', rb);
    writeRecord(a, record(ra, '2026-11-01T00:00:00.000Z'));
    writeRecord(b, record(rb, '2026-11-02T00:00:00.000Z'));
    expect(readdirSync(join(lab.records, 'demo')).sort()).toEqual([`${ra}.json`, `${rb}.json`]);
    expect(listRecords(lab.records).records.map((r) => r.record.runId)).toEqual([rb, ra]);
    expect(findRecord(lab.records, ra).record).toEqual(readRecord(a));
  });

  it('refuses to write an invalid record and reports unreadable ones without failing the listing', () => {
    expect(() =>
      writeRecord(recordFile(lab.records, 'demo', RA), { ...record(RA, 'x'), status: 'weird' as never }),
    ).toThrow(/invalid run record/);
    mkdirSync(join(lab.records, 'demo'), { recursive: true });
    writeFileSync(join(lab.records, 'demo', 'junk.json'), '{');
    writeRecord(recordFile(lab.records, 'demo', RB), record(RB, '2026-11-03T00:00:00.000Z'));
    const { records, problems } = listRecords(lab.records, 'demo');
    expect(records.map((r) => r.record.runId)).toEqual([RB]);
    expect(problems[0]).toMatchObject({
      file: expect.stringContaining('junk.json'),
      message: expect.stringContaining('not a readable run record'),
    });
  });

  it('a running record whose runner is gone reads as interrupted', () => {
    const dead = spawnSync('true').pid!;
    expect(statusHere(record('x', 'y', { status: 'running', pid: dead }))).toBe('interrupted');
    expect(statusHere(record('x', 'y', { status: 'running', pid: process.pid }))).toBe('running');
  });
});
