// Builds the site once into .cache/site-dist with the tests' fixed run history
// (test/site/fixtures/runs: the shipped one is re-recorded on the twin and moves),
// or reuses that build when it read the same history and is newer than every
// input (SITE_REBUILD=1 forces a build), and serves it on 127.0.0.1 and a free
// port for the browser suites: inject('siteUrl'), inject('siteRuns'). The site as it
// ships (src/content/runs) is built and served beside it for shipped.test.ts:
// inject('shippedUrl'). Both build here, in vitest's main process: a build from a
// test worker comes out without Starlight's search index UI.
import type { TestProject } from 'vitest/node';
import { FIXTURE_RUNS, SHIPPED_DIST, SHIPPED_RUNS, ensureBuild, serveDir } from './harness.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string;
    siteDist: string;
    /** The run records the build read: what the suites compare the pages with. */
    siteRuns: string;
    /** The site built with the shipped run history (src/content/runs). */
    shippedUrl: string;
  }
}

const closers: Array<() => Promise<void>> = [];

export async function setup(project: TestProject): Promise<void> {
  const dist = ensureBuild(undefined, FIXTURE_RUNS);
  const server = await serveDir(dist);
  const shipped = await serveDir(ensureBuild(SHIPPED_DIST, SHIPPED_RUNS));
  closers.push(server.close, shipped.close);
  project.provide('shippedUrl', shipped.url);
  project.provide('siteUrl', server.url);
  project.provide('siteDist', dist);
  project.provide('siteRuns', FIXTURE_RUNS);
}

export async function teardown(): Promise<void> {
  await Promise.all(closers.map((close) => close()));
}
