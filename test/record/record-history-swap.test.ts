// scripts/record-history's last step on folders of its own: the rehearsals a history
// wrote replace the old ones page by page; every record that is not a rehearsal stays,
// README.md and other files beside the page folders are not touched, and a partial
// history (--only) leaves the rehearsals of pages it did not play alone.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { swapInto } from '../../scripts/record-history.ts';

const root = mkdtempSync(join(tmpdir(), 'record-history-swap-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const runs = join(root, 'runs');
const fresh = join(root, 'fresh');

const put = (dir: string, page: string, name: string, rehearsal: boolean) => {
  mkdirSync(join(dir, page), { recursive: true });
  writeFileSync(
    join(dir, page, `${name}.json`),
    JSON.stringify({ runId: name, ...(rehearsal ? { rehearsal: { twin: true, faults: [] } } : {}) }),
  );
};
const list = (dir: string) =>
  Object.fromEntries(readdirSync(dir).map((d) => [d, d.endsWith('.md') ? 'file' : readdirSync(join(dir, d)).sort()]));

beforeEach(() => {
  rmSync(runs, { recursive: true, force: true });
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(runs, { recursive: true });
  writeFileSync(join(runs, 'README.md'), '# Run records\n');
  put(runs, 'cluster-health', 'sandbox-run', false);
  put(runs, 'cluster-health', 'old-rehearsal', true);
  put(runs, 'k3s-upgrade', 'old-upgrade', true);
  put(runs, 'node-maintenance', 'old-maintenance', true);
  put(fresh, 'cluster-health', 'new-health', true);
  put(fresh, 'k3s-upgrade', 'new-upgrade', true);
});

describe('record-history swaps its rehearsals in', () => {
  it('replaces every rehearsal, keeps the rest, and drops a page left with nothing', () => {
    expect(swapInto(fresh, runs, false)).toBe(2);
    expect(list(runs)).toEqual({
      'README.md': 'file',
      'cluster-health': ['new-health.json', 'sandbox-run.json'],
      'k3s-upgrade': ['new-upgrade.json'],
    });
    expect(
      JSON.parse(readFileSync(join(runs, 'cluster-health', 'sandbox-run.json'), 'utf8')).rehearsal,
    ).toBeUndefined();
    expect(readdirSync(runs).some((d) => d.startsWith('.'))).toBe(false);
  });

  it('a partial history replaces only the pages it played', () => {
    rmSync(join(fresh, 'k3s-upgrade'), { recursive: true });
    expect(swapInto(fresh, runs, true)).toBe(1);
    expect(list(runs)).toEqual({
      'README.md': 'file',
      'cluster-health': ['new-health.json', 'sandbox-run.json'],
      'k3s-upgrade': ['old-upgrade.json'],
      'node-maintenance': ['old-maintenance.json'],
    });
    expect(existsSync(join(runs, '.cluster-health.old'))).toBe(false);
  });
});
