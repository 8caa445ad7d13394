import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeLab, runCli, startCli, step, type Lab } from './helpers.ts';
import { acquireLock } from '../../runner/record/lock.ts';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

describe('one run of a runbook at a time on a machine', () => {
  it('a second run refuses and names the holder; after the first ends the runbook is free again', async () => {
    const gate = join(lab.dir, 'gate');
    const file = lab.runbook(
      'exclusive',
      step('step=hold', `echo holding; while [ ! -f ${gate} ]; do sleep 0.05; done`),
    );
    const first = startCli(['run', file, ...lab.flags], lab.env);
    await first.waitFor('holding');
    const second = await runCli(['run', file, ...lab.flags], lab.env);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(
        `exclusive is already running on this machine: run \\S+, pid ${first.child.pid}, started \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    writeFileSync(gate, '');
    expect((await first.done).code).toBe(0);
    expect(lab.readRecords()).toHaveLength(1); // the refused run wrote nothing
    expect(existsSync(join(lab.dir, 'locks', 'exclusive.lock'))).toBe(false);
    expect((await runCli(['run', file, ...lab.flags], lab.env)).code).toBe(0);
  });

  it('a lock left by a dead process is taken over', async () => {
    const dead = spawnSync('true').pid!; // a pid that has exited
    writeFileSync(
      join(lab.dir, 'locks', 'orphaned.lock'),
      JSON.stringify({
        runbook: 'orphaned',
        runId: 'old-run',
        pid: dead,
        host: hostname(),
        startedAt: '2026-01-01T00:00:00.000Z',
      }),
    );
    const file = lab.runbook('orphaned', step('step=x', 'true'));
    expect((await runCli(['run', file, ...lab.flags], lab.env)).code).toBe(0);
  });

  it('acquireLock: one holder at a time, released explicitly', () => {
    const dir = join(lab.dir, 'locks');
    const holder = {
      runbook: 'unit',
      runId: 'r1',
      pid: process.pid,
      host: hostname(),
      startedAt: new Date().toISOString(),
    };
    const a = acquireLock(holder, dir);
    expect('release' in a).toBe(true);
    const b = acquireLock({ ...holder, runId: 'r2' }, dir);
    expect(b).toEqual({ heldBy: holder });
    if ('release' in a) a.release();
    const c = acquireLock({ ...holder, runId: 'r3' }, dir);
    expect('release' in c).toBe(true);
    if ('release' in c) c.release();
  });
});
