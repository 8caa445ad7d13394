/**
 * The site as it ships: built with the shipped run history (src/content/runs, the
 * runner's own records, mostly rehearsals on the lab twin) instead of the fixed
 * fixture history the other suites read. What a visitor sees must be honest about
 * it: a rehearsal is never lab evidence. Every expectation is computed here from the
 * records, so it holds whatever the history is when it is recorded again:
 * - the landing's "runs recorded" counts lab runs only and names the rehearsals beside them;
 * - each runbook with records says "verified" only from a successful lab run, and
 *   "rehearsed" exactly when a rehearsal went through; an ADR counts passing checks from
 *   lab runs only and says "rehearsed" beside them;
 * - every run page loads without a console error, and a rehearsal's says so.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { SHIPPED_RUNS, launchChromium, openPage, textOf } from './harness.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { isSandboxServer } from '../../runner/record/sandbox.ts';

const records: RunRecord[] = readdirSync(SHIPPED_RUNS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(SHIPPED_RUNS, d.name))
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(SHIPPED_RUNS, d.name, f)),
  )
  .map((f) => runRecordSchema.parse(JSON.parse(readFileSync(f, 'utf8'))));
const isLab = (r: RunRecord) => !r.rehearsal && !isSandboxServer(r.cluster.server);

// Built and served by global-setup.ts.
const url = inject('shippedUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

const open = (path: string) => openPage(browser, url, path);
const text = textOf;

describe('the shipped history on the site', () => {
  test('the landing counts lab runs only and names the rehearsals beside them', async () => {
    const { page, problems } = await open('/');
    const runs = page.locator('.figures li', { hasText: 'runs recorded' });
    expect((await runs.locator('.value').innerText()).trim()).toBe(String(records.filter(isLab).length));
    const rehearsals = records.filter((r) => r.rehearsal).length;
    if (rehearsals > 0) expect(await runs.locator('.sub').innerText()).toContain(`${rehearsals} rehearsal`);
    if (!records.some((r) => isLab(r) && r.runbook.id === 'k3s-upgrade' && r.status === 'succeeded')) {
      expect(await text(page, '.figures li:has-text("since last K3s upgrade") .value')).toBe('—');
    }
    await page.close();
    expect(problems).toEqual([]);
  });

  const runbooks = [...new Set(records.filter((r) => r.runbook.kind === 'runbook').map((r) => r.runbook.id))].sort();
  for (const id of runbooks) {
    test(`${id}: verified from lab runs only, rehearsed when a rehearsal went through`, async () => {
      const own = records.filter((r) => r.runbook.id === id);
      const { page, problems } = await open(`/runbooks/${id}/`);
      const verified = await text(page, '.rb-header .verified .big');
      if (!own.some((r) => isLab(r) && r.status === 'succeeded')) expect(verified).toBe('never');
      const rehearsed = own.some((r) => r.rehearsal && r.status === 'succeeded');
      expect(await page.locator('.rb-header .verified .rehearsed').count()).toBe(rehearsed ? 1 : 0);
      await page.close();
      expect(problems).toEqual([]);
    });
  }

  const adrs = [...new Set(records.filter((r) => r.runbook.kind === 'adr').map((r) => r.runbook.id))].sort();
  for (const id of adrs) {
    test(`ADR ${id}: its checks pass only by lab runs, its rehearsal said beside them`, async () => {
      const own = records.filter((r) => r.runbook.id === id);
      const { page, problems } = await open(`/adrs/${id}/`);
      const facts = await text(page, '.adr-facts');
      if (!own.some(isLab)) expect(facts).toMatch(/\b0\/\d+ passing/);
      expect(facts.includes('rehearsed'), facts).toBe(own.some((r) => r.rehearsal && r.status === 'succeeded'));
      await page.close();
      expect(problems).toEqual([]);
    });
  }

  test("every run page loads, and a rehearsal's says it was one", { timeout: 300_000 }, async () => {
    const problems: string[] = [];
    for (const r of records) {
      const { page, problems: own } = await open(`/runs/${r.runbook.id}/${r.runId}/`);
      expect(await page.locator('[data-rehearsal]').count(), r.runId).toBe(r.rehearsal ? 1 : 0);
      problems.push(...own);
      await page.close();
    }
    expect(problems).toEqual([]);
  });
});
