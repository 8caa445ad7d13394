// Builds the site once (or reuses dist/ when it is newer than every input;
// SITE_REBUILD=1 forces a build) and serves dist/ on 127.0.0.1 and a free
// port for the browser suites: inject('siteUrl').
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT, ensureBuild, serveDir } from './harness.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string;
    siteDist: string;
  }
}

let close: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  ensureBuild();
  const dist = join(ROOT, 'dist');
  const server = await serveDir(dist);
  close = server.close;
  project.provide('siteUrl', server.url);
  project.provide('siteDist', dist);
}

export async function teardown(): Promise<void> {
  await close?.();
}
