import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { findRunProcesses } from '../../runner/execute/process-group.ts';
import { livingProcesses, makeLab, runCli, startCli, step, type Lab } from './helpers.ts';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

/** first → wait (blocks until the gate file exists, reporting SIGINT if it gets one) → last; counts runs of `first`. */
function gatedRunbook(name: string) {
  const gate = join(lab.dir, `${name}.gate`);
  const count = join(lab.dir, `${name}.count`);
  const file = lab.runbook(
    name,
    step('step=first', `echo ran >> ${count}`) +
      step(
        'step=wait title="Wait for the gate"',
        `trap 'echo "wait got SIGINT"; exit 130' INT\necho "waiting-for-gate"\nwhile [ ! -f ${gate} ]; do sleep 0.05; done\necho "gate open"`,
      ) +
      step('step=last', 'echo last'),
  );
  return { file, gate, count };
}

/** The records on disk right now, read as any reader would: `.json` files only (a write in progress is a hidden temp file). */
function recordsNow(): RunRecord[] {
  const found: RunRecord[] = [];
  for (const folder of readdirSync(lab.records, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const name of readdirSync(join(lab.records, folder.name)).filter((n) => n.endsWith('.json'))) {
      found.push(runRecordSchema.parse(JSON.parse(readFileSync(join(lab.records, folder.name, name), 'utf8'))));
    }
  }
  return found;
}
/** history takes no --inventory. */
const historyFlags = () => ['--records', lab.records];

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('Ctrl-C and kill -9 mid-step, then resume', () => {
  it('SIGINT reaches the step first, the run is recorded interrupted with exit 130, and resume finishes it', async () => {
    const { file, gate, count } = gatedRunbook('sigint');
    const cli = startCli(['run', file, ...lab.flags], lab.env);
    await cli.waitFor('waiting-for-gate');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);

    const record = lab.onlyRecord();
    expect(record.status).toBe('interrupted');
    expect(record.steps.map((s) => s.status)).toEqual(['succeeded', 'interrupted', 'pending']);
    // The step's own trap ran: it got SIGINT (not an outright kill), and nothing of it is left.
    expect(record.steps[1]!.output).toContain('wait got SIGINT');
    expect(livingProcesses(gate)).toEqual([]);
    expect(r.stdout).toContain(
      `Resume with: runbook resume ${record.runId} --records ${lab.records} --inventory ${lab.inventory}`,
    );

    const history = await runCli(['history', ...historyFlags()], lab.env);
    expect(history.stdout).toMatch(
      new RegExp(`${record.runId}\\s+interrupted at wait(?: \\(sandbox\\))?\\s+\\S+ \\S+\\s+\\S+\\s+1/3\\s+\\S+@\\S+`),
    );

    writeFileSync(gate, '');
    const resumed = await runCli(['resume', record.runId, ...lab.flags], lab.env);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at wait');
    const after = lab.readRecords();
    expect(after).toHaveLength(1); // appended to the same record
    const rec = after[0]!.record;
    expect(rec.status).toBe('succeeded');
    expect(rec.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(rec.steps[1]!.output).toContain('gate open');
    expect(rec.resumes).toMatchObject([{ from: 'wait' }]);
    expect(readFileSync(count, 'utf8')).toBe('ran\n'); // `first` was not run again
  });

  it('a step that ignores SIGINT gets SIGTERM after the grace period, and SIGKILL if it ignores that too', async () => {
    const file = lab.runbook(
      'stubborn',
      step(
        'step=stubborn',
        `trap 'echo "ignored INT"' INT\ntrap 'echo "ignored TERM"' TERM\necho ready\nwhile true; do sleep 0.05 || true; done`,
      ),
    );
    const env = { ...lab.env, RUNBOOK_GRACE_MS: '400' };
    const cli = startCli(['run', file, ...lab.flags], env);
    await cli.waitFor('ready');
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(800);
    const step0 = lab.readRecords()[0]!.record.steps[0]!;
    expect(step0.status).toBe('interrupted');
    // In order: SIGINT (ignored), SIGTERM (ignored; bash also reports its sleep `Terminated`), then SIGKILL.
    expect(step0.output).toMatch(/^ready\nignored INT\n[\s\S]*ignored TERM\n/);
    expect(step0.output.indexOf('ignored TERM')).toBeGreaterThan(step0.output.lastIndexOf('ignored INT'));
    expect(livingProcesses('ignored TERM')).toEqual([]);
  });

  it('kill -9 of the runner leaves a valid record that readers report as interrupted, and the step dies with it; resume finishes', async () => {
    const { file, gate, count } = gatedRunbook('sigkill');
    const cli = startCli(['run', file, ...lab.flags], { ...lab.env, RUNBOOK_GRACE_MS: '300' });
    await cli.waitFor('waiting-for-gate');
    // The record marks a step `running` once it has been going for a moment.
    await until(() => recordsNow()[0]?.steps[1]?.status === 'running');
    cli.child.kill('SIGKILL');
    await cli.done;
    // The run's watchdog ends the step the killed runner could not stop (the gate never opened), then itself.
    await until(() => livingProcesses(gate).length === 0, 5000);
    await until(() => findRunProcesses(lab.onlyRecord().runId).length === 0, 5000);

    // Valid against the schema (readRecords parses it) and honest about where it stopped.
    const record = lab.onlyRecord();
    expect(record.status).toBe('running');
    expect(record.steps.map((s) => s.status)).toEqual(['succeeded', 'running', 'pending']);
    const history = await runCli(['history', 'sigkill', '--json', ...historyFlags()], lab.env);
    expect(JSON.parse(history.stdout)).toMatchObject([
      { runId: record.runId, status: 'interrupted', stoppedAt: 'wait' },
    ]);

    writeFileSync(gate, '');
    const resumed = await runCli(['resume', record.runId, ...lab.flags], lab.env);
    expect(resumed.code).toBe(0);
    const rec = lab.readRecords()[0]!.record;
    expect(rec.status).toBe('succeeded');
    expect(rec.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(readFileSync(count, 'utf8')).toBe('ran\n');
  });

  it('resume refuses when the remaining steps changed, unless --force', async () => {
    const file = lab.runbook('changing', step('step=ok', 'echo ok') + step('step=broken', 'exit 1'));
    expect((await runCli(['run', file, ...lab.flags], lab.env)).code).toBe(1);
    const { runId } = lab.readRecords()[0]!.record;
    writeFileSync(file, readFileSync(file, 'utf8').replace('exit 1', 'echo fixed'));
    const refused = await runCli(['resume', runId, ...lab.flags], lab.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('2. broken');
    expect(refused.stderr).toContain('--force');
    const forced = await runCli(['resume', runId, '--force', ...lab.flags], lab.env);
    expect(forced.code).toBe(0);
    const rec = lab.readRecords()[0]!.record;
    expect(rec.steps[1]).toMatchObject({ status: 'succeeded', output: 'fixed\n' });
    expect(rec.stepHashes.broken).toBe(rec.steps[1]!.hash);
  });

  it('resume refuses a run that succeeded or does not exist', async () => {
    const file = lab.runbook('done', step('step=ok', 'true'));
    await runCli(['run', file, ...lab.flags], lab.env);
    const { runId } = lab.readRecords()[0]!.record;
    expect((await runCli(['resume', runId, ...lab.flags], lab.env)).stderr).toContain('nothing to resume');
    const missing = runId.replace(/-[0-9a-f]{4}$/, runId.endsWith('0000') ? '-ffff' : '-0000');
    expect((await runCli(['resume', missing, ...lab.flags], lab.env)).stderr).toContain(`no run ${missing} under`);
    expect((await runCli(['resume', 'no-such-run', ...lab.flags], lab.env)).stderr).toContain(
      '"no-such-run" is not a run id',
    );
  });
});
