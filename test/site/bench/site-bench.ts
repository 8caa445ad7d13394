/**
 * Site build times (run with `scripts/bench-site`):
 *  1. the example content as it is in the repo;
 *  2. N generated runbook pages with three runs each, built with the site's
 *     components (step badges, headers, results, run history, run pages)
 *     against the same pages and records built as plain Starlight
 *     (SITE_PLAIN=1, ForEach a pass-through, no custom routes), same run,
 *     alternating, ROUNDS times each; the ratio of the medians, and a third
 *     build of the same pages with the components but no run records, to
 *     show what the components cost and what the history costs.
 * Builds run in sandboxes under .cache/ and never touch dist/.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, buildSite, makeSandbox } from '../harness.ts';
import { loadInventory } from '../../../runner/inventory/load.ts';
import { generateContent } from './generate.ts';

const { values } = parseArgs({
  options: { pages: { type: 'string', default: '500' }, rounds: { type: 'string', default: '3' } },
});
const PAGES = Number(values.pages);
const ROUNDS = Number(values.rounds);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const pagesBuilt = (dir: string) =>
  readdirSync(join(dir, 'dist'), { recursive: true }).filter((f) => String(f).endsWith('.html')).length;

const inventory = loadInventory(join(ROOT, 'src/content/lab/inventory.yaml')).inventory;
const sandboxes: string[] = [];
try {
  // 1. The example content.
  const example = makeSandbox('bench-example', { content: true });
  sandboxes.push(example);
  const exampleMs = buildSite(example).ms;
  console.log(`example content: ${pagesBuilt(example)} pages in ${s(exampleMs)}`);

  // 2. Generated pages, with and without the site's components.
  const withDir = makeSandbox('bench-with', { content: false });
  const noRunsDir = makeSandbox('bench-no-history', { content: false });
  const plainDir = makeSandbox('bench-plain', { content: false });
  sandboxes.push(withDir, noRunsDir, plainDir);
  const records = generateContent(withDir, PAGES, inventory, true);
  generateContent(plainDir, PAGES, inventory, true);
  // A breakdown: the same pages with the site's components but no run records, to tell
  // what the components cost from what the history (records, run pages) costs.
  generateContent(noRunsDir, PAGES, inventory, false);
  rmSync(join(plainDir, 'src/pages'), { recursive: true, force: true });
  writeFileSync(join(plainDir, 'src/components/ForEach.astro'), '<div><slot /></div>\n');
  console.log(`generated ${PAGES} runbook pages and ${records} run records in each sandbox`);

  const times = { with: [] as number[], noRuns: [] as number[], plain: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    times.with.push(buildSite(withDir).ms);
    times.plain.push(buildSite(plainDir, { SITE_PLAIN: '1' }).ms);
    times.noRuns.push(buildSite(noRunsDir).ms);
    console.log(
      `round ${round}: with components ${s(times.with.at(-1)!)}, plain Starlight ${s(times.plain.at(-1)!)}, components without history ${s(times.noRuns.at(-1)!)}`,
    );
  }
  const w = median(times.with);
  const p = median(times.plain);
  const n = median(times.noRuns);
  console.log(
    `\n${PAGES} runbooks with history, site components: ${pagesBuilt(withDir)} pages (runbooks + a page per run) in ${s(w)}`,
  );
  console.log(`same pages and records, plain Starlight:      ${pagesBuilt(plainDir)} pages in ${s(p)}`);
  console.log(`same pages, site components, no run records:  ${pagesBuilt(noRunsDir)} pages in ${s(n)}`);
  console.log(
    `ratio with/plain: ${(w / p).toFixed(2)}; components without history/plain: ${(n / p).toFixed(2)} (medians of ${ROUNDS} alternating rounds)`,
  );
  // The history adds a page per run: per built page, the components cost less than the ratio suggests.
  const perPage = (ms: number, dir: string) => `${(ms / pagesBuilt(dir)).toFixed(1)} ms`;
  console.log(
    `per built page: with components ${perPage(w, withDir)}, plain ${perPage(p, plainDir)}, without history ${perPage(n, noRunsDir)}`,
  );
} finally {
  if (!process.env.KEEP) for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
}
