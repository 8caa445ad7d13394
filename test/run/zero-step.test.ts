import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runbook } from '../helpers/cli.ts';

// A page with no step fences cannot "succeed": run refuses it and leaves no record; check warns.
const tmp = mkdtempSync(join(tmpdir(), 'zero-step-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

const runbookPage = write(
  'no-steps-here.md',
  '---\ntitle: Empty\nrunbook:\n  risk: low\n---\n\n# Empty\n\n```bash\necho not a step\n```\n',
);
const plainPage = write('plain-notes.md', '# Notes\n\nJust text.\n');

describe('a page with no steps', () => {
  for (const [what, file] of [
    ['a runbook page', runbookPage],
    ['plain Markdown', plainPage],
  ] as const) {
    it(`run of ${what} is refused with exit 2 and writes no record`, () => {
      const records = join(tmp, `rec-${what.replaceAll(' ', '-')}`);
      const r = runbook(['run', file, '--yes', '--records', records]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toContain('no steps');
      expect(r.stderr).toContain('step=<id>');
      expect(existsSync(records) ? readdirSync(records) : []).toEqual([]);
    });
  }

  it('check warns about a runbook page with 0 steps', () => {
    const r = runbook(['check', runbookPage]);
    expect(r.stdout + r.stderr).toMatch(/warning\s+no-steps/);
    expect(r.stdout + r.stderr).toContain('1 warning');
    expect(runbook(['check', '--strict', runbookPage]).code).not.toBe(0);
  });
});
