/**
 * Rehearsals on the lab twin (records with `rehearsal`) on the built site: "rehearsed N
 * days ago" beside "verified N days ago", never counted as verification, and a run page
 * that says "Rehearsal on the lab twin" with the faults that were active. A real
 * `astro build` of a sandbox copy of the site whose only records are this file's
 * fixtures (nothing is added to src/content/runs), opened in Debian's Chromium.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildSite, launchChromium, makeSandbox, openPage, serveDir, textOf, writeFiles } from './harness.ts';
import { makeRun } from './fixtures/make-run.ts';
import { loadProcedure } from '../../runner/project.ts';
import { loadInventory } from '../../runner/inventory/load.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY - 3_600_000).toISOString();

const runbook = (title: string) =>
  `---\ntitle: ${title}\nrunbook:\n  risk: low\n  cluster: homelab\n---\n\n\`\`\`bash step=hello check\necho hello\n\`\`\`\n`;
const FILES = {
  'src/content/docs/index.mdx': `---\ntitle: Home\ntemplate: splash\n---\n\nimport LabFigures from '~/components/landing/LabFigures.astro';\nimport RunbookFreshness from '~/components/landing/RunbookFreshness.astro';\n\n<LabFigures />\n\n<RunbookFreshness />\n`,
  // The figures strip links here.
  'src/content/docs/architecture/hardware.mdx': `---\ntitle: Hardware\n---\n\nThe machines.\n`,
  'src/content/docs/runbooks/both.mdx': runbook('Verified and rehearsed'),
  'src/content/docs/runbooks/twin-only.mdx': runbook('Rehearsed only'),
  'src/content/docs/weekends/weekend-1-demo.mdx': `---\ntitle: "Weekend 1: demo"\nweekend:\n  number: 1\n  status: done\n  goal: "A demo weekend."\nrunbook:\n  risk: low\n---\n\n\`\`\`bash step=works check\necho works\n\`\`\`\n`,
};

const FAULTS = [
  { kind: 'slow-ready', node: 'k3s-worker-01', since: daysAgo(2), delaySeconds: 40 },
  { kind: 'api-down', since: daysAgo(2), until: daysAgo(2), how: 'pause' },
];

let dir = '';
let url = '';
let close: (() => Promise<void>) | undefined;
let browser: Browser;
const records: Record<string, RunRecord> = {};

/** A record as the runner writes it for this page, against the lab or (rehearsal) the twin. */
function record(file: string, at: string, rehearsal?: { faults: typeof FAULTS }): RunRecord {
  const procedure = loadProcedure(dir, file);
  const { inventory } = loadInventory(join(dir, 'src/content/lab/inventory.yaml'));
  const r = makeRun(procedure, inventory, { at, outcome: 'succeeded', operator: 'tester@ci' });
  if (rehearsal) {
    r.cluster.server = 'https://127.0.0.1:6443';
    r.rehearsal = { twin: true, faults: rehearsal.faults };
  }
  return runRecordSchema.parse(r);
}

beforeAll(async () => {
  dir = makeSandbox('site-rehearsal', { content: false });
  writeFiles(dir, FILES);
  records.lab = record('src/content/docs/runbooks/both.mdx', daysAgo(10));
  records.both = record('src/content/docs/runbooks/both.mdx', daysAgo(2), { faults: FAULTS });
  records.twinOnly = record('src/content/docs/runbooks/twin-only.mdx', daysAgo(5), { faults: [] });
  records.weekend = record('src/content/docs/weekends/weekend-1-demo.mdx', daysAgo(3), { faults: [] });
  writeFiles(
    dir,
    Object.fromEntries(
      Object.values(records).map((r) => [
        `src/content/runs/${r.runbook.id}/${r.runId}.json`,
        JSON.stringify(r, null, 2),
      ]),
    ),
  );
  buildSite(dir);
  const server = await serveDir(join(dir, 'dist'));
  url = server.url;
  close = server.close;
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Pagefind's search UI has no index in a page-picked sandbox build: not what this file tests.
const open = (path: string) => openPage(browser, url, path, /Pagefind/);
const text = textOf;

describe('rehearsals on the site', () => {
  test('a runbook page shows verified from the lab run and, beside it, rehearsed from the rehearsal', async () => {
    const { page, problems } = await open('/runbooks/both/');
    const verified = await text(page, '.rb-header .verified');
    expect(verified).toMatch(/^10 days ago rehearsed 2 days ago$/);
    expect(await page.locator('.rb-header .verified .rehearsed a').getAttribute('href')).toBe(
      `/runs/${records.both!.runbook.id}/${records.both!.runId}/`,
    );
    expect(problems).toEqual([]);
  });

  test('a rehearsal is never verification: a runbook rehearsed only is "never" verified', async () => {
    const { page } = await open('/runbooks/twin-only/');
    expect(await text(page, '.rb-header .verified')).toBe('never rehearsed 5 days ago');
  });

  test('the weekend header says last verified only from lab runs, and when it was rehearsed', async () => {
    const { page } = await open('/weekends/weekend-1-demo/');
    const line = await text(page, '.wk-criteria .sub');
    expect(line).toContain('rehearsed 3 days ago');
    expect(line).not.toContain('last verified');
  });

  test('the landing page counts no rehearsal as verified and shows rehearsed beside verified', async () => {
    const { page } = await open('/');
    const figures = await text(page, '.figures');
    expect(figures).toContain('1 verified by a run');
    expect(figures).toContain('2 rehearsed on the twin'); // both and twin-only (the weekend plan is no runbook)
    const rows = page.locator('table tr', { hasText: 'Rehearsed only' });
    expect((await rows.first().innerText()).replace(/\s+/g, ' ')).toMatch(/never rehearsed 5 days ago/);
    const both = page.locator('table tr', { hasText: 'Verified and rehearsed' });
    expect((await both.first().innerText()).replace(/\s+/g, ' ')).toMatch(/10 days ago rehearsed 2 days ago/);
  });

  test('a rehearsal\'s run page says "Rehearsal on the lab twin" with the faults active during the run', async () => {
    const r = records.both!;
    const { page, problems } = await open(`/runs/${r.runbook.id}/${r.runId}/`);
    const box = await text(page, '[data-rehearsal]');
    expect(box).toContain('Rehearsal on the lab twin.');
    expect(box).toContain('never counts as verification');
    expect(await text(page, '[data-fault="slow-ready"]')).toMatch(
      /^slow-ready on k3s-worker-01 \(delay 40 s\) · since /,
    );
    expect(await text(page, '[data-fault="api-down"]')).toMatch(/^api-down \(how pause\) · since .*, until /);
    expect(await text(page, '.run-summary .headline')).toContain('rehearsal');
    expect(problems).toEqual([]);

    const lab = records.lab!;
    const labPage = (await open(`/runs/${lab.runbook.id}/${lab.runId}/`)).page;
    expect(await labPage.locator('[data-rehearsal]').count()).toBe(0);
    const noFaults = records.twinOnly!;
    expect(
      await text((await open(`/runs/${noFaults.runbook.id}/${noFaults.runId}/`)).page, '[data-rehearsal]'),
    ).toContain('No fault was injected.');
  });

  test('the run history marks rehearsals as such, not as sandbox runs', async () => {
    const { page } = await open('/runs/');
    const row = page.locator('tr', {
      has: page.locator(`a[href="/runs/${records.both!.runbook.id}/${records.both!.runId}/"]`),
    });
    const cells = (await row.innerText()).replace(/\s+/g, ' ');
    expect(cells).toContain('rehearsal');
    expect(cells).not.toContain('sandbox');
  });
});
