/**
 * The staleness badge marks exactly the steps whose text changed since the
 * last successful lab run: computed here from the pages (runner's parser) and the
 * records (runner's schema), compared with what every built procedure page shows.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import { ROOT } from './harness.ts';
import { loadAll } from '../../runner/project.ts';
import { runRecordSchema } from '../../runner/record/schema.ts';
import { isSandboxServer } from '../../runner/record/sandbox.ts';

const dist = inject('siteDist');
const runsDir = inject('siteRuns');
const procedures = new Map(loadAll(ROOT).map((p) => [p.id, p]));
const withRecords = readdirSync(runsDir).filter((id) => procedures.has(id));

/** Step ids shown as changed/new on a built page. */
function flagged(html: string): string[] {
  return [
    ...html.matchAll(/data-step-result="([a-z0-9-]+)"><span class="pill tone-warn[^>]*>(?:△ changed|＋ new)/g),
  ].map((m) => m[1]!);
}

function pageFile(file: string): string {
  const rel = file
    .replace(/^src\/content\/docs\//, '')
    .replace(/^src\/content\//, '')
    .replace(/\.mdx?$/, '');
  return join(dist, rel, 'index.html');
}

describe('staleness badges', () => {
  test('the example records include a page edited after its last successful run', () => {
    const stale = withRecords.filter((id) => expected(id).length > 0);
    expect(stale.length).toBeGreaterThan(0);
  });

  for (const id of withRecords) {
    test(`${id}: flagged steps are those changed since the last success`, () => {
      const file = pageFile(procedures.get(id)!.file);
      expect(existsSync(file), `${file} should be built`).toBe(true);
      expect(flagged(readFileSync(file, 'utf8')).sort()).toEqual(expected(id).sort());
    });
  }
});

function expected(id: string): string[] {
  const records = readdirSync(join(runsDir, id))
    .filter((f) => f.endsWith('.json'))
    .map((f) => runRecordSchema.parse(JSON.parse(readFileSync(join(runsDir, id, f), 'utf8'))))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  // As the site reads it: the last successful run against the lab (sandbox runs and rehearsals never verify).
  const success = records.find((r) => r.status === 'succeeded' && !r.rehearsal && !isSandboxServer(r.cluster.server));
  if (!success) return [];
  return procedures
    .get(id)!
    .steps.filter((s) => success.stepHashes[s.id] !== s.hash)
    .map((s) => s.id);
}
