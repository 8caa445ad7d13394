import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, makeLab, operatorEnv, runCli, step, type Lab } from './helpers.ts';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

function confirmRunbook() {
  const marker = join(lab.dir, 'destroyed');
  const first = join(lab.dir, 'first');
  const file = lab.runbook(
    'destructive',
    step('step=prepare', `touch ${first}`) +
      step('step=destroy title="Destroy it" confirm', `echo "rm -rf the thing"; touch ${marker}`) +
      step('step=again confirm', 'true'),
  );
  return { file, marker, first };
}

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `keys` once the question shows. */
function onTerminal(args: string[], keys: string): Promise<{ code: number | null; output: string }> {
  const cmd = [
    'stty cols 120 rows 40;',
    process.execPath,
    join(ROOT, 'runner/cli.ts'),
    ...args.map((a) => `'${a}'`),
  ].join(' ');
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
    cwd: ROOT,
    env: operatorEnv(lab.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let typed = false;
  child.stdout.on('data', (d) => {
    output += d;
    if (!typed && output.includes('Run destroy?')) {
      typed = true;
      child.stdin.write(keys);
    }
  });
  return new Promise((res) => child.on('close', (code) => res({ code, output })));
}

describe('confirm steps', () => {
  it('without a terminal and without --yes: refuses before executing anything and names every step that needs confirmation', async () => {
    const { file, marker, first } = confirmRunbook();
    const r = await runCli(['run', file, ...lab.flags], lab.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 steps need confirmation and there is no terminal to ask');
    expect(r.stderr).toMatch(/2\. destroy \(line \d+\) Destroy it/);
    expect(r.stderr).toMatch(/3\. again \(line \d+\)/);
    expect(existsSync(first)).toBe(false);
    expect(existsSync(marker)).toBe(false);
    expect(lab.readRecords()).toEqual([]);
  });

  it('with --yes: runs them', async () => {
    const { file, marker } = confirmRunbook();
    const r = await runCli(['run', file, '--yes', ...lab.flags], lab.env);
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('on a terminal: shows the exact command, runs on yes', async () => {
    const { file, marker } = confirmRunbook();
    const r = await onTerminal(['run', file, '--only', 'destroy', ...lab.flags], 'y');
    // The pinned kubeconfig is part of what runs, so the question names it.
    expect(r.output).toMatch(/destroy needs confirmation\. It runs on local with KUBECONFIG=\S+\/kubeconfig:/);
    expect(r.output).toContain(`│ echo "rm -rf the thing"; touch ${marker}`);
    expect(r.output).toContain('⠋ destroy'); // the spinner, only on a terminal
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('on a terminal: no means the run stops there, recorded as interrupted and resumable', async () => {
    const { file, marker, first } = confirmRunbook();
    const r = await onTerminal(['run', file, ...lab.flags], 'n');
    expect(r.code).toBe(130);
    expect(existsSync(first)).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(r.output).toContain('Stopped before destroy: not confirmed.');
    const record = lab.onlyRecord();
    expect(record.status).toBe('interrupted');
    expect(record.steps.map((s) => s.status)).toEqual(['succeeded', 'pending', 'pending']);
  });
});
