/**
 * The run page's "Cluster before → after" section in Chromium: for the run
 * records that carry snapshots, what changed (versions per node, cordons left
 * behind, newly stuck pods) is listed and highlighted in the node table, as
 * diffSnapshots computes it from the same records; a run without snapshots has
 * no such section; the landing's "since last K3s upgrade" figure reads its
 * from → to from the upgrade run's snapshots.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { ROOT, launchChromium } from './harness.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { isSnapshot } from '../../runner/record/snapshot.ts';
import { diffSnapshots, upgradeRange } from '../../runner/record/snapshot-diff.ts';
import { isSandboxServer } from '../../runner/record/sandbox.ts';

const url = inject('siteUrl');
const RUNS = inject('siteRuns');
const SHOTS = join(ROOT, 'screenshots');

interface Entry {
  id: string;
  record: RunRecord;
}
const records: Entry[] = readdirSync(RUNS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(RUNS, d.name))
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({
        id: `${d.name}/${f.replace(/\.json$/, '')}`,
        record: runRecordSchema.parse(JSON.parse(readFileSync(join(RUNS, d.name, f), 'utf8'))),
      })),
  );
const withBoth = records.filter((r) => isSnapshot(r.record.snapshots?.before) && isSnapshot(r.record.snapshots?.after));
const diffOf = (r: Entry) => diffSnapshots(r.record.snapshots!.before as never, r.record.snapshots!.after as never);

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

async function open(path: string) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.url()}`);
  });
  const response = await page.goto(url + path, { waitUntil: 'networkidle' });
  expect(response?.status(), `${path} should be served`).toBe(200);
  return { page, problems, close: () => context.close() };
}

describe('run page: cluster before → after', () => {
  test('a run that left a node cordoned and pods stuck says so, and marks the changed cells', async () => {
    // The record with the most to say: versions moved, a cordon left behind, pods newly stuck.
    const run = withBoth.find((r) => {
      const d = diffOf(r);
      return d.versions.length > 0 && d.cordonsLeft.length > 0 && d.newlyStuck.length > 0;
    });
    expect(run, 'a fixture run whose snapshots show versions moved, a cordon left and pods newly stuck').toBeDefined();
    const diff = diffOf(run!);
    const { page, problems, close } = await open(`/runs/${run!.id}/`);
    const section = page.locator('section.snapshots');
    expect(await section.locator('h2').innerText()).toBe('Cluster before → after');
    // The table of contents names the section.
    expect(await page.locator('starlight-toc a[href="#cluster"]').count()).toBeGreaterThan(0);

    const changes = await section.locator('.changes li').allInnerTexts();
    const said = changes.join('\n');
    if (diff.serverVersion) expect(said).toContain(`API server ${diff.serverVersion.from} → ${diff.serverVersion.to}`);
    for (const v of diff.versions) expect(said).toContain(`${v.node}: kubelet ${v.from} → ${v.to}`);
    for (const n of diff.cordonsLeft) expect(said).toContain(`${n} was left cordoned`);
    for (const s of diff.newlyStuck) {
      expect(said).toContain(`${s.namespace}:`);
      for (const p of s.pods) expect(said).toContain(p);
    }
    for (const w of diff.newlyUnavailable)
      expect(said).toContain(`${w.kind} ${w.namespace}/${w.name} became unavailable`);
    // Bad news is toned as such.
    expect(await section.locator('.changes li[data-tone="bad"]').count()).toBeGreaterThan(0);
    expect(await section.locator('.changes li[data-tone="warn"]', { hasText: 'left cordoned' }).count()).toBe(
      diff.cordonsLeft.length,
    );

    // The node table: one row per node, changed cells highlighted with before → after.
    const after = run!.record.snapshots!.after as Extract<
      NonNullable<RunRecord['snapshots']>['after'],
      { nodes: unknown }
    >;
    expect(await section.locator('tr[data-node]').count()).toBe(after.nodes.length);
    for (const v of diff.versions) {
      const cellText = await section.locator(`tr[data-node="${v.node}"] td[data-changed]`).first().innerText();
      expect(cellText.replace(/\s+/g, ' ')).toContain(`${v.from} → ${v.to}`);
    }
    for (const n of diff.cordonsLeft) {
      expect((await section.locator(`tr[data-node="${n}"] td[data-changed]`).allInnerTexts()).join(' ')).toMatch(
        /schedulable\s*→\s*cordoned/,
      );
    }
    const unchanged = after.nodes.filter(
      (n) =>
        !diff.versions.some((v) => v.node === n.name) &&
        !diff.cordonsLeft.includes(n.name) &&
        !diff.ready.some((r) => r.node === n.name),
    );
    for (const n of unchanged)
      expect(await section.locator(`tr[data-node="${n.name}"] td[data-changed]`).count()).toBe(0);

    // What is stuck after the run, the new ones marked.
    const stuck = section.locator('.snapshot-stuck tr.fresh');
    expect(await stuck.count()).toBe(
      diff.newlyStuck.length + diff.newlyUnavailable.length + diff.newlyBlockingPdbs.length,
    );
    await section.screenshot({ path: join(SHOTS, 'test-run-snapshots.png') });
    expect(problems).toEqual([]);
    await close();
  });

  test('an upgrade that changed only versions lists them and says nothing is stuck', async () => {
    const run = withBoth.find((r) => {
      const d = diffOf(r);
      const after = r.record.snapshots!.after as {
        stuckPods: unknown[];
        unavailable: unknown[];
        blockingPdbs: unknown[];
      };
      return (
        d.versions.length > 0 &&
        d.cordonsLeft.length === 0 &&
        after.stuckPods.length + after.unavailable.length + after.blockingPdbs.length === 0
      );
    });
    expect(run).toBeDefined();
    const diff = diffOf(run!);
    const { page, problems, close } = await open(`/runs/${run!.id}/`);
    const section = page.locator('section.snapshots');
    expect(await section.locator('.changes li').count()).toBe(diff.versions.length + (diff.serverVersion ? 1 : 0));
    expect(await section.locator('td[data-changed]').count()).toBe(diff.versions.length);
    expect(await section.innerText()).toContain('Nothing stuck after the run');
    expect(problems).toEqual([]);
    await close();
  });

  test('a real run the runner recorded against the sandbox shows its snapshots and the cluster identity it confirmed', async () => {
    const run = withBoth.find((r) => isSandboxServer(r.record.cluster.server) && r.record.cluster.uid);
    expect(run, 'a sandbox run of the runner with both snapshots is in the history').toBeDefined();
    const { page, problems, close } = await open(`/runs/${run!.id}/`);
    expect(await page.locator('section.snapshots').count()).toBe(1);
    const facts = await page.locator('.run-summary').innerText();
    expect(facts).toContain(run!.record.cluster.uid!.slice(0, 8));
    expect(facts.toLowerCase()).toContain('cluster identity');
    expect(problems).toEqual([]);
    await close();
  });

  test('a run without snapshots has no cluster section', async () => {
    const run = records.find((r) => !r.record.snapshots);
    expect(run).toBeDefined();
    const { page, close } = await open(`/runs/${run!.id}/`);
    expect(await page.locator('section.snapshots').count()).toBe(0);
    expect(await page.locator('.timeline').count()).toBe(1);
    await close();
  });
});

describe('landing: since last K3s upgrade', () => {
  test('reads from → to from the last successful upgrade run’s snapshots', async () => {
    const upgrade = records
      .filter(
        (r) =>
          r.record.runbook.id === 'k3s-upgrade' &&
          r.record.status === 'succeeded' &&
          !isSandboxServer(r.record.cluster.server),
      )
      .sort((a, b) => b.record.startedAt.localeCompare(a.record.startedAt))[0];
    expect(upgrade).toBeDefined();
    const range = upgradeRange(upgrade!.record.snapshots?.before, upgrade!.record.snapshots?.after);
    expect(range, 'the newest example upgrade carries snapshots').toBeDefined();
    const { page, problems, close } = await open('/');
    const figure = await page.locator('.figures li', { hasText: 'since last K3s upgrade' }).locator('.sub').innerText();
    expect(figure).toContain(`${range!.from} → ${range!.to}`);
    expect(problems).toEqual([]);
    await close();
  });
});
