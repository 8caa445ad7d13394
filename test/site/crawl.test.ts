/**
 * Every built page, in Chromium: it loads, its diagrams render, and it logs no
 * console error and makes no failed request. Catches what the focused tests
 * do not visit (a Mermaid diagram that does not parse, a missing asset).
 */
import { builtPages } from './pages.ts';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './harness.ts';

const url = inject('siteUrl');
const dist = inject('siteDist');
const paths = builtPages(dist);

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

test(`all ${paths.length} pages load without console errors or failed requests`, { timeout: 600_000 }, async () => {
  expect(paths.length).toBeGreaterThan(10);
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  let current = '';
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${current}: console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${current}: uncaught: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`${current}: HTTP ${res.status()} ${res.url()}`);
  });
  for (const path of paths) {
    current = path;
    await page.goto(url + path, { waitUntil: 'load' });
    const diagrams = await page.locator('pre.mermaid').count();
    if (diagrams > 0) {
      await page.waitForFunction(
        () => [...document.querySelectorAll('pre.mermaid')].every((p) => p.hasAttribute('data-processed')),
        null,
        { timeout: 20_000 },
      );
      // Mermaid draws its own error graphic when a diagram does not parse.
      expect(
        await page.locator('pre.mermaid svg[aria-roledescription="error"]').count(),
        `${path}: a Mermaid diagram failed to render`,
      ).toBe(0);
    }
  }
  await context.close();
  expect(problems).toEqual([]);
});
