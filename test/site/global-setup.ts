// Builds the site once into .cache/site-dist with the tests' fixed run history
// (test/site/fixtures/runs: the shipped one is re-recorded on the twin and moves),
// or reuses that build when it read the same history and is newer than every
// input (SITE_REBUILD=1 forces a build), and serves it on 127.0.0.1 and a free
// port for the browser suites: inject('siteUrl'), inject('siteRuns').
import type { TestProject } from 'vitest/node';
import { FIXTURE_RUNS, ensureBuild, serveDir } from './harness.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string;
    siteDist: string;
    /** The run records the build read: what the suites compare the pages with. */
    siteRuns: string;
  }
}

let close: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  const dist = ensureBuild(undefined, FIXTURE_RUNS);
  const server = await serveDir(dist);
  close = server.close;
  project.provide('siteUrl', server.url);
  project.provide('siteDist', dist);
  project.provide('siteRuns', FIXTURE_RUNS);
}

export async function teardown(): Promise<void> {
  await close?.();
}
