/**
 * Accessibility as a tested property: axe-core's WCAG 2 A and AA rules report
 * no violation on any built page (the pages the crawl visits), in the light and
 * the dark theme. One browser, one tab per theme, pages in sequence: about a
 * second a page and theme on a 2-core machine.
 */
import { builtPages } from './pages.ts';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ROOT, launchChromium } from './harness.ts';

const url = inject('siteUrl');
const dist = inject('siteDist');
const AXE = join(ROOT, 'node_modules/axe-core/axe.min.js');
const THEMES = ['light', 'dark'] as const;
type Theme = (typeof THEMES)[number];

const paths = builtPages(dist);

/** One failing element of one rule, with what a reader needs to find and fix it. */
interface Finding {
  page: string;
  theme: Theme;
  rule: string;
  impact: string;
  target: string;
  /** For colour contrast: "fg on bg = ratio (needs n)". */
  detail?: string;
}

/** Runs axe's WCAG 2 A/AA rules in `page` (axe must be loaded) and flattens its violations to one finding per element. */
async function audit(page: Page, path: string, theme: Theme): Promise<Finding[]> {
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    type AxeViolation = {
      id: string;
      impact: string;
      nodes: Array<{ target: unknown[]; any: Array<{ data?: Record<string, unknown> }> }>;
    };
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => ({
        target: n.target.map(String).join(' '),
        data: n.any.find((c) => c.data?.contrastRatio !== undefined)?.data,
      })),
    }));
  });
  return violations.flatMap((v) =>
    v.nodes.map((n) => ({
      page: path,
      theme,
      rule: v.id,
      impact: v.impact,
      target: n.target,
      ...(n.data
        ? {
            detail: `${n.data.fgColor} on ${n.data.bgColor} = ${n.data.contrastRatio}:1 (needs ${n.data.expectedContrastRatio})`,
          }
        : {}),
    })),
  );
}

/** Opens `path` in `page` the way a reader sees it: diagrams drawn, then axe loaded. */
async function load(page: Page, path: string): Promise<void> {
  const response = await page.goto(url + path, { waitUntil: 'load' });
  expect(response?.status(), `${path} should be served`).toBe(200);
  // Mermaid draws in the browser; audit the drawn SVG, not the source text.
  await page.waitForFunction(
    () => [...document.querySelectorAll('pre.mermaid')].every((p) => p.hasAttribute('data-processed')),
    null,
    { timeout: 20_000 },
  );
  // Expressive Code makes a code block that overflows focusable from a script (after a
  // 250 ms debounce and an idle callback): give it that time; if it never does, axe says so.
  await page
    .waitForFunction(
      () =>
        [...document.querySelectorAll('.expressive-code pre')].every(
          (p) => p.scrollWidth <= p.clientWidth || p.hasAttribute('tabindex'),
        ),
      null,
      { timeout: 3_000 },
    )
    .catch(() => undefined);
  await page.addScriptTag({ path: AXE });
}

const format = (f: Finding) =>
  `${f.page} [${f.theme}] ${f.rule} (${f.impact}) ${f.target}${f.detail ? `: ${f.detail}` : ''}`;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

test.each(THEMES)(
  `axe (WCAG 2 A, AA) finds no violation on any of the ${paths.length} pages, %s theme`,
  { timeout: 600_000 },
  async (theme) => {
    expect(paths.length).toBeGreaterThan(10);
    const context = await browser.newContext({ colorScheme: theme, viewport: { width: 1440, height: 900 } });
    // Starlight reads the theme from localStorage before first paint.
    await context.addInitScript((t) => localStorage.setItem('starlight-theme', t), theme);
    const page = await context.newPage();
    const findings: Finding[] = [];
    for (const path of paths) {
      await load(page, path);
      expect(await page.evaluate(() => document.documentElement.dataset.theme), `${path}: theme`).toBe(theme);
      findings.push(...(await audit(page, path, theme)));
    }
    await context.close();
    expect(findings.map(format)).toEqual([]);
  },
);
