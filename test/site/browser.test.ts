/**
 * The built site in Debian's Chromium: the key pages show what they must,
 * computed independently here from the same sources (pages, inventory, run
 * records), with no console error and no failed request, in light and dark,
 * at desktop and mobile width. Screenshots go to the gitignored screenshots/.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ROOT, launchChromium } from './harness.ts';
import { fanOutRun, keyPages } from './pages.ts';
import { STATUS_LOOK } from '../../src/lib/status.ts';
import { isSandboxServer } from '../../runner/record/sandbox.ts';
import { parseProcedure } from '../../runner/format/parse.ts';
import { loadInventory } from '../../runner/inventory/load.ts';
import { selectNodes } from '../../runner/inventory/select.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';

const url = inject('siteUrl');
const dist = inject('siteDist');
const RUNS = inject('siteRuns');
const pages = keyPages(dist, RUNS);
const SHOTS = join(ROOT, 'screenshots');
const inventory = loadInventory(join(ROOT, 'src/content/lab/inventory.yaml')).inventory;

function pathOf(name: string): string {
  const p = pages[name]!;
  if (p.error !== undefined) throw new Error(p.error);
  return p.path;
}

function runsOf(id: string): RunRecord[] {
  const dir = join(RUNS, id);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => runRecordSchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8'))))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

/** Opens a page and records every console error, uncaught exception and failed request on it. */
async function open(path: string, options: { theme?: 'light' | 'dark'; mobile?: boolean } = {}) {
  const context = await browser.newContext({
    viewport: options.mobile ? { width: 390, height: 844 } : { width: 1440, height: 900 },
    isMobile: options.mobile ?? false,
    colorScheme: options.theme ?? 'dark',
  });
  if (options.theme) await context.addInitScript((t) => localStorage.setItem('starlight-theme', t), options.theme);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.url()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  const response = await page.goto(url + path, { waitUntil: 'networkidle' });
  expect(response?.status(), `${path} should be served`).toBe(200);
  // Mermaid renders in the browser; a diagram that fails keeps no data-processed or shows an error.
  await page.waitForFunction(
    () => [...document.querySelectorAll('pre.mermaid')].every((p) => p.hasAttribute('data-processed')),
    null,
    { timeout: 20_000 },
  );
  return { page, problems, close: () => context.close() };
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `test-${name}.png`) });
}

describe('landing page', () => {
  test('shows the owner, the cluster and figures computed from the content', async () => {
    const { page, problems, close } = await open('/');
    await expect.poll(() => page.locator('.hero h1').isVisible()).toBe(true);
    const owner = (await import('../../src/site.config.ts')).siteConfig.owner;
    expect(await page.locator('.hero .owner').innerText()).toContain(owner.name);
    expect(await page.locator('.hero .status').innerText()).toContain(inventory.cluster.k3sVersion);

    const figure = async (label: string) =>
      (await page.locator('.figures li', { hasText: label }).locator('.value').innerText()).trim();
    expect(await figure('nodes')).toBe(String(inventory.nodes.length));
    const adrCount = readdirSync(join(ROOT, 'src/content/adrs')).filter(
      (f) => /\.mdx?$/.test(f) && !f.startsWith('_'),
    ).length;
    expect(await figure('decisions')).toBe(String(adrCount));
    // Runs against the sandbox (a loopback API server) are not evidence about the lab.
    const runCount = readdirSync(RUNS)
      .filter((d) => !d.includes('.'))
      .flatMap((id) => runsOf(id))
      .filter((r) => !isSandboxServer(r.cluster.server)).length;
    expect(await figure('runs recorded')).toBe(String(runCount));

    // One card per inventory node, and the architecture diagram rendered as SVG.
    expect(await page.locator('.nodes li').count()).toBe(inventory.nodes.length);
    expect(await page.locator('pre.mermaid svg').count()).toBeGreaterThan(0);
    await shot(page, 'landing');
    expect(problems).toEqual([]);
    await close();
  });
});

describe('runbook page with history', () => {
  test('header, step badges with latest results, ForEach nodes and the run history', async () => {
    const path = pathOf('runbook');
    const id = path.split('/')[2]!;
    const source = readFileSync(join(ROOT, `src/content/docs/runbooks/${id}.mdx`), 'utf8');
    const procedure = parseProcedure(source, `src/content/docs/runbooks/${id}.mdx`);
    const runs = runsOf(procedure.id);
    const { page, problems, close } = await open(path);

    const header = page.locator('.rb-header');
    expect(await header.isVisible()).toBe(true);
    expect((await header.innerText()).toLowerCase()).toContain(procedure.runbook!.risk);
    expect(await header.locator('.cmd-text').innerText()).toContain(`npx runbook run ${procedure.id}`);
    for (const name of Object.keys(procedure.runbook!.params))
      expect(await header.locator('.params').innerText()).toContain(name);

    // Every step of the parsed page has its header, in order, with id and timeout.
    const ids = await page.locator('.rb-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    expect(ids).toEqual(procedure.steps.map((s) => s.id));
    const confirmSteps = procedure.steps.filter((s) => s.attrs.confirm).map((s) => s.id);
    for (const sid of confirmSteps) expect(await page.locator(`#step-${sid} .rb-chip-confirm`).count()).toBe(1);

    // The latest result of a step links to the run page that recorded it.
    const result = page.locator('.rb-result').first();
    expect(await result.isVisible()).toBe(true);
    expect(await result.getAttribute('href')).toMatch(new RegExp(`^/runs/${procedure.id}/`));

    // ForEach groups name the inventory's nodes, in inventory order.
    for (const [i, group] of procedure.groups.entries()) {
      const sel = selectNodes(inventory, group.nodes);
      if ('error' in sel) continue;
      const names = await page.locator('.foreach').nth(i).locator('.foreach-node').allInnerTexts();
      expect(names).toEqual(sel.nodes.map((n) => n.name));
    }

    // The history table lists the runs newest first, each linking to its page.
    const rows = page.locator('.run-history tbody tr');
    expect(await rows.count()).toBe(Math.min(runs.length, 20));
    expect(await rows.first().locator('a.run-link').getAttribute('href')).toBe(
      `/runs/${procedure.id}/${runs[0]!.runId}/`,
    );
    await shot(page, 'runbook');
    expect(problems).toEqual([]);
    await close();
  });
});

describe('a run against the sandbox', () => {
  test('is listed with a sandbox pill, and step results and "verified" come from lab runs only', async () => {
    const runs = runsOf('cluster-health');
    const sandbox = runs.filter((r) => isSandboxServer(r.cluster.server));
    const lab = runs.filter((r) => !isSandboxServer(r.cluster.server));
    expect(sandbox.length, 'the history holds a run of cluster-health against the sandbox').toBeGreaterThan(0);
    const { page, problems, close } = await open('/runbooks/cluster-health/');
    const rows = page.locator('.run-history tbody tr');
    for (const r of sandbox)
      expect(
        await rows.filter({ has: page.locator(`a[href="/runs/cluster-health/${r.runId}/"]`) }).innerText(),
      ).toContain('sandbox');
    for (const r of lab)
      expect(
        await rows.filter({ has: page.locator(`a[href="/runs/cluster-health/${r.runId}/"]`) }).innerText(),
      ).not.toContain('sandbox');
    // Each step's latest result links to the newest lab run that reached it, never to a sandbox run.
    const hrefs = await page.locator('.rb-result').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(sandbox.map((r) => `/runs/cluster-health/${r.runId}/`)).not.toContain(href);
    expect(problems).toEqual([]);
    await close();

    const run = await open(`/runs/cluster-health/${sandbox[0]!.runId}/`);
    expect(await run.page.locator('.run-summary .headline').innerText()).toContain('sandbox');
    expect(run.problems).toEqual([]);
    await run.close();
  });
});

describe('ADR page', () => {
  test('metadata header from frontmatter and latest results on validation checks', async () => {
    const path = pathOf('adr');
    const slug = path.split('/')[2]!;
    const file = readdirSync(join(ROOT, 'src/content/adrs')).find((f) => f.replace(/\.mdx?$/, '') === slug)!;
    const procedure = parseProcedure(
      readFileSync(join(ROOT, 'src/content/adrs', file), 'utf8'),
      `src/content/adrs/${file}`,
    );
    const status = /^status:\s*(\S+)/m.exec(readFileSync(join(ROOT, 'src/content/adrs', file), 'utf8'))![1]!;
    const { page, problems, close } = await open(path);
    expect(await page.locator('.adr-facts').innerText()).toContain(status);
    const checks = procedure.steps.filter((s) => s.attrs.check);
    expect(await page.locator('.rb-step').count()).toBe(procedure.steps.length);
    if (checks.length > 0)
      expect(await page.locator('.adr-facts').innerText()).toMatch(new RegExp(`\\d+/${checks.length} passing`));
    await shot(page, 'adr');
    expect(problems).toEqual([]);
    await close();
  });

  test('the index filters by status', async () => {
    const { page, problems, close } = await open('/adrs/');
    const rows = page.locator('.adr-table tbody tr');
    const total = await rows.count();
    expect(total).toBeGreaterThan(0);
    const statuses = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    const accepted = statuses.filter((s) => s === 'accepted').length;
    await page.locator('.filters button[data-filter="accepted"]').click();
    expect(await page.locator('.adr-table tbody tr:visible').count()).toBe(accepted);
    await page.locator('.filters button[data-filter="all"]').click();
    expect(await page.locator('.adr-table tbody tr:visible').count()).toBe(total);
    expect(await page.locator('pre.mermaid svg').count()).toBe(1);
    await shot(page, 'adr-index');
    expect(problems).toEqual([]);
    await close();
  });
});

describe('weekend plan', () => {
  test('goal, prerequisites and success criteria with their latest results', async () => {
    const path = pathOf('weekend');
    const { page, problems, close } = await open(path);
    const source = readFileSync(join(ROOT, `src/content/docs${path.replace(/\/$/, '')}.mdx`), 'utf8');
    const goal = /^\s+goal:\s*"?([^"\n]+)/m
      .exec(source)![1]!
      .trim()
      .replace(/^>-?\s*/, '');
    expect(await page.locator('.wk-header').innerText()).toContain(goal.slice(0, 30));
    const procedure = parseProcedure(source, `src/content/docs${path.replace(/\/$/, '')}.mdx`);
    const checks = procedure.steps.filter((s) => s.attrs.check).length;
    if (checks > 0)
      expect(await page.locator('.wk-criteria').innerText()).toMatch(new RegExp(`\\d+/${checks} checks passing`));
    await shot(page, 'weekend');
    expect(problems).toEqual([]);
    await close();
  });
});

describe('run page', () => {
  test('the timeline shows every step instance of the record', async () => {
    const path = pathOf('run');
    const [, , id, runId] = path.split('/');
    const record = runRecordSchema.parse(JSON.parse(readFileSync(join(RUNS, id!, `${runId}.json`), 'utf8')));
    const { page, problems, close } = await open(path);
    const items = page.locator('.timeline .tl-item');
    expect(await items.count()).toBe(record.steps.length);
    expect(await items.evaluateAll((els) => els.map((e) => e.querySelector('.tl-id')?.textContent))).toEqual(
      record.steps.map((s) => s.id),
    );
    const summary = await page.locator('.run-summary').innerText();
    expect(summary).toContain(record.operator);
    expect(summary).toContain(record.cluster.name!);
    for (const p of record.params.filter((p) => !p.secret)) expect(summary).toContain(p.value);
    // Output is collapsible: opening the first step with output shows it.
    const withOutput = record.steps.findIndex((s) => s.output);
    if (withOutput >= 0) {
      const details = items.nth(withOutput).locator('details.tl-output');
      await details.locator('summary').click();
      expect(await details.locator('pre').isVisible()).toBe(true);
    }
    await shot(page, 'run');
    expect(problems).toEqual([]);
    await close();
  });
});

describe('architecture pages', () => {
  test('the topology and network diagrams and the hardware tables are drawn from the inventory', async () => {
    const names = [...inventory.nodes.map((n) => n.name), ...(inventory.devices ?? []).map((d) => d.name)];
    for (const path of ['/architecture/overview/', '/architecture/network/', '/architecture/hardware/']) {
      const { page, problems, close } = await open(path);
      const shown = path.endsWith('hardware/')
        ? await page.locator('main table').allInnerTexts()
        : await page.locator('pre.mermaid svg').allTextContents();
      for (const name of names) expect(shown.join('\n'), `${path} should show ${name}`).toContain(name);
      if (path.endsWith('network/'))
        for (const n of inventory.nodes)
          expect(shown.join('\n')).toContain(`.${n.address.split('.').at(-1)} ${n.name}`);
      expect(problems).toEqual([]);
      await close();
    }
  });
});

describe('run page of a node fan-out', () => {
  test('each node has its own result; nodes after the failing one are skipped, not started', async () => {
    const ref = fanOutRun(RUNS);
    expect(ref, 'the example records should include a fan-out stopped at a failing node').toBeDefined();
    const record = runRecordSchema.parse(JSON.parse(readFileSync(join(RUNS, `${ref}.json`), 'utf8')));
    const { page, problems, close } = await open(`/runs/${ref}/`);
    for (const step of record.steps.filter((s) => s.targets.length > 1)) {
      const nodes = page.locator(`[id="i-${step.id}"] .tl-node`);
      expect(await nodes.evaluateAll((els) => els.map((e) => e.getAttribute('data-target')))).toEqual(
        step.targets.map((t) => t.target),
      );
      for (const [i, target] of step.targets.entries()) {
        const text = await nodes.nth(i).innerText();
        expect(text).toContain(STATUS_LOOK[target.status].label);
        if (target.error) expect(text).toContain(target.error);
        if (target.attempts === 0) expect(text).toContain('not started');
        // A failing node's output is open; the others' output is one click away.
        if (target.output) {
          const details = nodes.nth(i).locator('details.tl-output');
          if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open)))
            await details.locator('summary').click();
          expect(await details.locator('pre').innerText()).toBe(target.output);
        }
      }
    }
    await shot(page, 'fan-out-run');
    expect(problems).toEqual([]);
    await close();
  });
});

/** Elements of the page's main column that reach past the viewport outside any horizontal scroller. */
function offscreen(): string[] {
  const scrolls = (el: Element | null): boolean => {
    for (let p = el; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  return [...document.querySelectorAll('main *')]
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > window.innerWidth + 1 && !scrolls(el.parentElement);
    })
    .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`)
    .slice(0, 5);
}

describe('themes and mobile', () => {
  for (const theme of ['light', 'dark'] as const) {
    test(`${theme} theme applies and the runbook page fits a phone`, async () => {
      const { page, problems, close } = await open(pathOf('runbook'), { theme, mobile: true });
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
      // No sideways scrolling of the page itself: wide tables and code scroll inside their boxes.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      // Nor content cut off at the right edge: anything wider than the screen sits in a scroller.
      expect(await page.evaluate(offscreen)).toEqual([]);
      await shot(page, `runbook-mobile-${theme}`);
      expect(problems).toEqual([]);
      await close();
    });
  }

  test('the other key pages fit a phone too', async () => {
    const others = ['landing', 'adr', 'adr-index', 'weekend', 'weekends', 'run', 'fan-out-run', 'runs', 'network'];
    for (const name of others) {
      const { page, problems, close } = await open(pathOf(name), { mobile: true });
      expect(
        await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
        `${name}: sideways scroll`,
      ).toBeLessThanOrEqual(1);
      expect(await page.evaluate(offscreen), `${name}: cut off at the right edge`).toEqual([]);
      expect(problems).toEqual([]);
      await close();
    }
  });

  test('fact strips keep every value inside its cell at desktop width', async () => {
    for (const name of ['runbook', 'adr', 'run', 'fan-out-run']) {
      const { page, close } = await open(pathOf(name));
      const spilling = await page
        .locator('.lab-facts > div')
        .evaluateAll((cells) =>
          cells.filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent?.trim().slice(0, 40)),
        );
      expect(spilling, `${name}: values running into the next cell`).toEqual([]);
      await close();
    }
  });
});

describe('search', () => {
  test('Pagefind finds a runbook by a word of its title', async () => {
    const { page, problems, close } = await open('/');
    const path = pathOf('runbook');
    const title = await (async () => {
      const p = await browser.newPage();
      await p.goto(url + path);
      const t = await p.locator('h1').first().innerText();
      await p.close();
      return t;
    })();
    // The search button works once its script has run; click until the dialog opens.
    const dialog = page.locator('site-search dialog');
    await expect
      .poll(
        async () => {
          if (!(await dialog.isVisible())) await page.locator('site-search button[data-open-modal]').first().click();
          return dialog.isVisible();
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    const input = page.locator('.pagefind-ui__search-input');
    await input.waitFor({ timeout: 30_000 });
    await input.fill(title.split(/\s+/).slice(0, 2).join(' '));
    await expect
      .poll(() => page.locator('.pagefind-ui__result-link').allInnerTexts(), { timeout: 20_000 })
      .toContain(title);
    expect(problems).toEqual([]);
    await close();
  });
});
