/**
 * The site tests' fixed run history (test/site/fixtures/runs) must match the pages
 * as written today, or the tests would assert against steps the pages no longer
 * have: regenerating it from the current pages gives the committed files, except
 * for the source line of each step (prose edits move steps without changing what
 * they do). A page edit that changes a step without regenerating would otherwise
 * show a staleness badge nobody intended (the intended ones are the scenarios'
 * `editedSince`).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ROOT } from './harness.ts';
import { EXAMPLE_RUNS, FIXTURE_RUNS, writeExampleRuns } from './fixtures/example-runs.ts';
import { FIXTURE_HOST } from './fixtures/make-run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'site-fixtures-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `<runbook>/<file>` → the fixture records under a runs folder, as JSON without step line numbers. */
function fixtures(runsDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of Object.keys(EXAMPLE_RUNS)) {
    let files: string[];
    try {
      files = readdirSync(join(runsDir, id)).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    for (const f of files) {
      const record = JSON.parse(readFileSync(join(runsDir, id, f), 'utf8'));
      if (record.host !== FIXTURE_HOST) continue;
      for (const step of record.steps) delete step.line;
      out.set(`${id}/${f}`, JSON.stringify(record, null, 2));
    }
  }
  return out;
}

test('the committed fixture records are what the generator writes from the current pages', () => {
  for (const dir of ['src/content/docs', 'src/content/adrs', 'src/content/lab'])
    cpSync(join(ROOT, dir), join(tmp, dir), { recursive: true });
  writeExampleRuns(tmp, EXAMPLE_RUNS, () => {});
  const expected = fixtures(join(tmp, FIXTURE_RUNS));
  const committed = fixtures(join(ROOT, FIXTURE_RUNS));
  expect(expected.size).toBeGreaterThan(0);
  const hint = `${FIXTURE_RUNS} is out of date with the pages: run \`node test/site/fixtures/example-runs.ts\` and commit the records`;
  expect([...committed.keys()].sort(), hint).toEqual([...expected.keys()].sort());
  for (const [file, text] of expected) expect(committed.get(file), `${file}: ${hint}`).toBe(text);
});

test("regenerating is idempotent: a dropped scenario's file goes, records the runner wrote stay", () => {
  const runs = join(tmp, FIXTURE_RUNS);
  const before = fixtures(runs);
  writeExampleRuns(tmp, EXAMPLE_RUNS, () => {});
  expect(fixtures(runs)).toEqual(before);

  const [id, scenarios] = Object.entries(EXAMPLE_RUNS).find(([, s]) => s.length > 1)!;
  const real = join(runs, id, '20990101T000000Z-real.json');
  const fixture = [...before.entries()].find(([f]) => f.startsWith(`${id}/`))![1];
  writeFileSync(real, JSON.stringify({ ...JSON.parse(fixture), host: 'operator-laptop' }));
  writeExampleRuns(tmp, { ...EXAMPLE_RUNS, [id]: scenarios.slice(1) }, () => {});
  expect(fixtures(runs).size).toBe(before.size - 1);
  expect(existsSync(real)).toBe(true);
});
