// Builds the site once into .cache/site-dist (or reuses that build when it is
// newer than every input; SITE_REBUILD=1 forces a build) and serves it on
// 127.0.0.1 and a free port for the browser suites: inject('siteUrl').
import type { TestProject } from 'vitest/node';
import { ensureBuild, serveDir } from './harness.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string;
    siteDist: string;
  }
}

let close: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  const dist = ensureBuild();
  const server = await serveDir(dist);
  close = server.close;
  project.provide('siteUrl', server.url);
  project.provide('siteDist', dist);
}

export async function teardown(): Promise<void> {
  await close?.();
}
