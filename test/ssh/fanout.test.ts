import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createSshExecutor } from '../../runner/execute/ssh/executor.ts';
import { fanOut } from '../../runner/execute/fanout.ts';
import type { ExecResult } from '../../runner/execute/types.ts';
import { start, targetOf } from './helpers.ts';

const lab = inject('sshLab');
const dir = mkdtempSync(join(tmpdir(), 'runbook-fanout-'));
const executor = createSshExecutor({ configFile: lab.configFile });
const targets = lab.nodes.map((n) => targetOf(lab, n.name));
afterEach(() => executor.close());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ok = (r: ExecResult) => r.exitCode === 0 && !r.error;
/** Runs `script` on every node through fanOut, with NODE set as a ForEach would. */
const onAll = (script: string, options: { parallel: number; stopOnFailure: boolean }) =>
  fanOut(targets, { ...options, ok }, (t) => start(executor, t, script, { env: { NODE: t.node, DIR: dir } }).result);

/**
 * Each node notes when it starts and ends in a shared file (every daemon runs on
 * this machine). Before ending it waits (up to 10 s) until `meet` nodes have
 * started, so nodes that may overlap do. The log then shows how many ran at once.
 */
const concurrencyProbe = (log: string, meet: number) =>
  `echo "start $NODE" >> "$DIR/${log}"; touch "$DIR/${log}-$NODE"
for _ in $(seq 200); do [ "$(ls "$DIR" | grep -c "^${log}-")" -ge ${meet} ] && break; sleep 0.05; done
echo "end $NODE" >> "$DIR/${log}"`;
function maxConcurrent(log: string): number {
  let now = 0;
  let max = 0;
  for (const line of readFileSync(join(dir, log), 'utf8').trim().split('\n')) {
    now += line.startsWith('start') ? 1 : -1;
    max = Math.max(max, now);
  }
  return max;
}

describe('fan-out over nodes', () => {
  it('parallel=3 runs all three nodes at once', async () => {
    const entries = await onAll(concurrencyProbe('three.log', 3), { parallel: 3, stopOnFailure: true });
    expect(entries.map((e) => e.ran && e.result.exitCode)).toEqual([0, 0, 0]);
    expect(maxConcurrent('three.log')).toBe(3);
  });

  it('parallel=2 never runs more than two nodes at once, and parallel=1 one', async () => {
    await onAll(concurrencyProbe('two.log', 2), { parallel: 2, stopOnFailure: true });
    expect(maxConcurrent('two.log')).toBe(2);
    await onAll(concurrencyProbe('one.log', 1), { parallel: 1, stopOnFailure: true });
    expect(maxConcurrent('one.log')).toBe(1);
    // One at a time means inventory order.
    expect(readFileSync(join(dir, 'one.log'), 'utf8')).toBe(
      targets.map((t) => `start ${t.node}\nend ${t.node}\n`).join(''),
    );
  });

  it('the first failing node stops the step: later nodes do not start', async () => {
    const entries = await onAll('echo "$NODE" >> "$DIR/stop.log"; [ "$NODE" != k3s-worker-01 ]', {
      parallel: 1,
      stopOnFailure: true,
    });
    expect(entries.map((e) => (e.ran ? e.result.exitCode : e.reason))).toEqual([0, 1, 'after-failure']);
    expect(readFileSync(join(dir, 'stop.log'), 'utf8')).toBe('k3s-master\nk3s-worker-01\n');
  });

  it('continue-on-error runs every node and keeps each result', async () => {
    const entries = await onAll('echo "ran on $NODE"; [ "$NODE" != k3s-worker-01 ]', {
      parallel: 1,
      stopOnFailure: false,
    });
    expect(entries.map((e) => e.ran && [e.target.node, e.result.exitCode, e.result.output])).toEqual([
      ['k3s-master', 0, 'ran on k3s-master\n'],
      ['k3s-worker-01', 1, 'ran on k3s-worker-01\n'],
      ['k3s-worker-02', 0, 'ran on k3s-worker-02\n'],
    ]);
  });
});
