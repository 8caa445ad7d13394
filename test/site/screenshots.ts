/**
 * Screenshots of the key pages (see pages.ts) in light and dark, desktop and
 * mobile, into the gitignored screenshots/ folder. Run with `scripts/screenshots`.
 * The site shows the shipped run history (src/content/runs), as a user sees it;
 * SITE_RUNS=fixtures shows the site tests' fixed history instead.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  FIXTURE_RUNS,
  ROOT,
  SHIPPED_DIST,
  SHIPPED_RUNS,
  TEST_DIST,
  ensureBuild,
  launchChromium,
  serveDir,
} from './harness.ts';
import { keyPages } from './pages.ts';

const OUT = join(ROOT, 'screenshots');
const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900, isMobile: false },
  { name: 'mobile', width: 390, height: 844, isMobile: true },
];

// SITE_DIST serves an already built site (e.g. the benchmark's) instead of building this one.
const fixtures = process.env.SITE_RUNS === 'fixtures';
const runsDir = fixtures ? FIXTURE_RUNS : SHIPPED_RUNS;
const dist =
  process.env.SITE_DIST ?? (fixtures ? ensureBuild(TEST_DIST, FIXTURE_RUNS) : ensureBuild(SHIPPED_DIST, SHIPPED_RUNS));
mkdirSync(OUT, { recursive: true });
const server = await serveDir(dist);
const browser = await launchChromium();
const only = process.argv.slice(2);
try {
  for (const [name, { path, error }] of Object.entries(keyPages(dist, runsDir))) {
    if (only.length && !only.includes(name)) continue;
    if (error !== undefined) {
      console.warn(`skip ${name}: ${error}`);
      continue;
    }
    for (const theme of ['light', 'dark'] as const) {
      for (const vp of VIEWPORTS) {
        const context = await browser.newContext({
          viewport: { width: vp.width, height: vp.height },
          isMobile: vp.isMobile,
          deviceScaleFactor: 1,
          colorScheme: theme,
        });
        await context.addInitScript((t) => localStorage.setItem('starlight-theme', t), theme);
        const page = await context.newPage();
        await page.goto(server.url + path, { waitUntil: 'networkidle' });
        await page.waitForFunction(
          () => [...document.querySelectorAll('pre.mermaid')].every((p) => p.hasAttribute('data-processed')),
          null,
          { timeout: 15_000 },
        );
        const file = join(OUT, `${name}-${theme}-${vp.name}.png`);
        await page.screenshot({ path: file, fullPage: vp.name === 'desktop' ? process.env.FULL === '1' : false });
        console.log(file.slice(ROOT.length + 1), path);
        // PARTS=1: the whole page in viewport-sized slices, easier to look at than one tall image.
        if (process.env.PARTS === '1') {
          const height = await page.evaluate(() => document.documentElement.scrollHeight);
          for (let y = vp.height, n = 2; y < height; y += vp.height, n++) {
            await page.screenshot({
              path: file.replace(/\.png$/, `-part${n}.png`),
              fullPage: true,
              clip: { x: 0, y, width: vp.width, height: Math.min(vp.height, height - y) },
            });
          }
        }
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
}
