// Every runbook that scripts/rehearse-plan.txt marks `rehearses` still goes through end to end
// on the lab twin: `scripts/rehearse-all --expected` rehearses them one after another on one
// twin of its own, in the plan's order. A content change that breaks a rehearsal fails here
// (the script prints the failing run's last lines); a runbook that starts to rehearse is
// marked so in the plan.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const plan = readFileSync('scripts/rehearse-plan.txt', 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
  .filter((w) => w[0]);
const expected = plan.filter((w) => w[1] === 'rehearses').map((w) => w[0]!);

function rehearseAll(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['scripts/rehearse-all', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('the rehearsal plan', () => {
  it('names every line as rehearses or stops', () => {
    expect(plan.filter((w) => w[1] !== 'rehearses' && w[1] !== 'stops').map((w) => w.join(' '))).toEqual([]);
    expect(expected.length).toBeGreaterThan(0);
  });

  it('every runbook it marks `rehearses` rehearses end to end', async () => {
    const r = await rehearseAll(['--expected']);
    expect(r.code, r.out).toBe(0);
    for (const id of expected) expect(r.out, r.out).toMatch(new RegExp(`^${id}\\s+rehearsed\\s`, 'm'));
    expect(r.out).toContain(`${expected.length} of ${expected.length} rehearse end to end`);
  }, 900_000);
});
