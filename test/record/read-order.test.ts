// Records sort newest first without localeCompare for the runner's own timestamps (runner/record/read.ts):
// the order must be the one localeCompare gives, for those and for any other strings a record may hold.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { byNewest } from '../../runner/record/read.ts';

const localeOrder = (a: Run, b: Run) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId);
type Run = { startedAt: string; runId: string };
const iso = fc
  .date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
  .map((d) => d.toISOString());
const run = fc.record({
  startedAt: fc.oneof(
    iso,
    iso,
    fc.string({ maxLength: 30 }),
    iso.map((s) => s.replace(/\.\d+Z$/, 'Z')),
  ),
  runId: fc.oneof(fc.stringMatching(/^\d{8}T\d{6}Z-[A-Za-z0-9._-]{1,12}-[0-9a-f]{4}$/), fc.string({ maxLength: 12 })),
});

describe('records newest first', () => {
  it('orders every pair as localeCompare does (property)', () => {
    fc.assert(
      fc.property(run, run, (a, b) => {
        expect(Math.sign(byNewest(a, b))).toBe(Math.sign(localeOrder(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders equal start times by run id, and the same start and id as equal', () => {
    const at = '2026-12-02T03:58:35.929Z';
    expect(byNewest({ startedAt: at, runId: 'b' }, { startedAt: at, runId: 'a' })).toBeLessThan(0);
    expect(byNewest({ startedAt: at, runId: 'a' }, { startedAt: at, runId: 'a' })).toBe(0);
    expect(
      byNewest({ startedAt: at, runId: 'a' }, { startedAt: '2026-12-02T03:58:35.930Z', runId: 'a' }),
    ).toBeGreaterThan(0);
  });
});
