/**
 * What the site tests, the screenshot script and the benchmark share: build
 * the site (or reuse a fresh build), serve it on 127.0.0.1, and drive
 * Debian's Chromium through playwright-core. Never downloads a browser.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, relative, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Where the tests and screenshots build the site: their own folder, not dist/, so an
 * `npm run build` or `astro dev` running at the same time in the checkout cannot
 * swap pages out from under a test.
 */
export const TEST_DIST = join(ROOT, '.cache/site-dist');

/**
 * The run histories a build can read (SITE_RUNS_DIR, see src/content.config.ts): the site
 * tests' fixed one, whose records do not move when the twin's history is re-recorded, and
 * the shipped one, written by `runbook run` on the lab twin (scripts/record-history).
 */
export const FIXTURE_RUNS = join(ROOT, 'test/site/fixtures/runs');
export const SHIPPED_RUNS = join(ROOT, 'src/content/runs');
/** Where the build of the shipped history goes (the site tests' own build is TEST_DIST). */
export const SHIPPED_DIST = join(ROOT, '.cache/site-dist-shipped');

/** Written into a build: which run history it read, so a build of the other one is never taken as fresh. */
const RUNS_MARKER = '.site-runs-dir';

/** The inputs of a build: if any is newer than <outDir>/index.html, the build is stale. */
const INPUTS = ['src/**/*', 'runner/**/*.ts', 'public/**/*', 'astro.config.mjs', 'package-lock.json'];

export function buildIsFresh(root = ROOT, outDir = join(root, 'dist'), runsDir?: string): boolean {
  const marker = join(outDir, 'index.html');
  if (!existsSync(marker)) return false;
  if (runsDir && readIf(join(outDir, RUNS_MARKER)) !== runsDir) return false;
  const built = statSync(marker).mtimeMs;
  const inputs = [...INPUTS, ...(runsDir ? [`${relative(root, runsDir)}/**/*.json`] : [])];
  return globSync(inputs, { cwd: root, ignore: ['**/node_modules/**', 'runner/**/*.test.ts'] }).every(
    (f) => statSync(join(root, f)).mtimeMs <= built,
  );
}

const readIf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

/** Runs `astro build` in `root` (into `outDir`, default <root>/dist) with the project's Node on PATH; throws with the build's output on failure. */
export function buildSite(root = ROOT, env: NodeJS.ProcessEnv = {}, outDir?: string): { ms: number; output: string } {
  const started = performance.now();
  const result = spawnSync(join(ROOT, 'node_modules/.bin/astro'), ['build', ...(outDir ? ['--outDir', outDir] : [])], {
    cwd: root,
    encoding: 'utf8',
    // NODE_ENV: vitest sets `test`, which makes Astro build dev-mode pages (no search index UI).
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
      ASTRO_TELEMETRY_DISABLED: '1',
      ...env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0)
    throw new Error(`astro build failed in ${root} (exit ${result.status}):\n${output.slice(-6000)}`);
  return { ms: performance.now() - started, output };
}

/**
 * Builds the project's site with the run history of `runsDir` (default: the tests' fixed one)
 * into `outDir` (default TEST_DIST), unless that build read the same history and is newer than
 * every input (SITE_REBUILD=1 forces it).
 */
export function ensureBuild(outDir = TEST_DIST, runsDir = FIXTURE_RUNS): string {
  if (process.env.SITE_REBUILD === '1' || !buildIsFresh(ROOT, outDir, runsDir)) {
    buildSite(ROOT, { SITE_RUNS_DIR: runsDir }, outDir);
    writeFileSync(join(outDir, RUNS_MARKER), runsDir);
  }
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain',
  '.xml': 'application/xml',
};

/** A static server for dist/ on 127.0.0.1 and a free port, resolving `/a/` to `/a/index.html` like a static host. */
export async function serveDir(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = join(dir, path);
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, { 'content-type': TYPES['.html']! });
      const notFound = join(dir, '404.html');
      return void (existsSync(notFound) ? createReadStream(notFound).pipe(res) : res.end('not found'));
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Debian's Chromium, headless. Playwright gives every launch a fresh temporary
 * profile (its equivalent of --user-data-dir=<fresh dir>) and removes it on close.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium fonts-liberation) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

/**
 * Opens `base + path` in a new page of `browser` and collects its console errors and uncaught
 * exceptions (a console error matching `ignore` is not one); the page must answer 200.
 */
export async function openPage(
  browser: Browser,
  base: string,
  path: string,
  ignore?: RegExp,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !ignore?.test(m.text())) problems.push(`${path}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${path}: ${e.message}`));
  // networkidle: Starlight's search UI logs an error when the page is closed before its script has run.
  const res = await page.goto(`${base}${path}`, { waitUntil: 'networkidle' });
  if (res?.status() !== 200) throw new Error(`${path}: HTTP ${res?.status()}`);
  return { page, problems };
}

/** The text of the first element matching `selector`, whitespace folded. */
export const textOf = async (page: Page, selector: string) =>
  (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ').trim();

/**
 * A throwaway copy of the project's site (config, site code, runner, public) under
 * .cache/, where node_modules still resolves from the repo root. `content: false`
 * leaves src/content with only the inventory, for builds of hand-picked pages.
 */
export function makeSandbox(name: string, options: { content: boolean }): string {
  const dir = join(ROOT, '.cache', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of ['astro.config.mjs', 'package.json', 'tsconfig.json', 'runner', 'public', 'src']) {
    cpSync(join(ROOT, entry), join(dir, entry), {
      recursive: true,
      filter: (src) =>
        options.content || !src.startsWith(join(ROOT, 'src/content/')) || src.startsWith(join(ROOT, 'src/content/lab')),
    });
  }
  return dir;
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}
