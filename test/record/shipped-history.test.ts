/**
 * The run history the site ships (src/content/runs) is the runner's own: every record
 * there was written by `runbook run` (scripts/record-history on the lab twin, or a run
 * against a plain sandbox), never made up. So each one parses with the record schema,
 * is a rehearsal or a sandbox run (never the synthetic `host: workstation` records,
 * which live in test/site/fixtures/runs), lives at <page id>/<runId>.json, and names a
 * page that exists. A rehearsal, which the script records again whenever asked, records
 * exactly the step instances the page's plan has today: when a page's steps change, this
 * fails until the history is recorded again (`npm run fixtures:runs`). A sandbox run is
 * kept as it was recorded (the script cannot run it again), so it may predate a step;
 * the site marks such steps as new since the run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadAll } from '../../runner/project.ts';
import { loadInventory } from '../../runner/inventory/load.ts';
import { planProcedure } from '../../runner/plan/plan.ts';
import { runRecordSchema } from '../../runner/record/schema.ts';
import { isSandboxServer } from '../../runner/record/sandbox.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RUNS = join(ROOT, 'src/content/runs');
const procedures = new Map(loadAll(ROOT).map((p) => [p.id, p]));
const { inventory } = loadInventory(join(ROOT, 'src/content/lab/inventory.yaml'));
const hint = 'record the history again: npm run fixtures:runs (scripts/record-history)';

const files = readdirSync(RUNS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(RUNS, d.name))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `${d.name}/${f}`),
  )
  .sort();

describe('the shipped run history was written by the runner', () => {
  test('it has records, and rehearsals among them', () => {
    expect(files.length).toBeGreaterThan(0);
    const rehearsals = files.filter((f) => JSON.parse(readFileSync(join(RUNS, f), 'utf8')).rehearsal !== undefined);
    expect(rehearsals.length, hint).toBeGreaterThan(0);
  });

  for (const file of files) {
    test(file, () => {
      const record = runRecordSchema.parse(JSON.parse(readFileSync(join(RUNS, file), 'utf8')));
      expect(file).toBe(`${record.runbook.id}/${record.runId}.json`);
      expect(record.host, 'synthetic records belong in test/site/fixtures/runs').not.toBe('workstation');
      expect(
        record.rehearsal !== undefined || isSandboxServer(record.cluster.server),
        'a rehearsal on the twin or a run against the sandbox',
      ).toBe(true);

      const procedure = procedures.get(record.runbook.id);
      expect(procedure, `no page has the id ${record.runbook.id}`).toBeDefined();
      if (!record.rehearsal) return;
      // The run's own params (secrets are not recorded: planning is lenient about them).
      const sets = Object.fromEntries(record.params.filter((p) => !p.secret).map((p) => [p.name, p.value]));
      const { plan } = planProcedure(procedure!, inventory, { sets, env: {}, lenient: true });
      expect(
        record.steps.map((s) => s.id),
        `${file}: the page's steps changed since this run; ${hint}`,
      ).toEqual(plan!.instances.map((i) => i.id));
    });
  }
});
