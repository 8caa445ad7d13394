import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pages the browser test and the screenshots visit, found in the build so
 * they follow the content: the preferred example when it exists, else the
 * first page of its kind. A kind with no page gets an error instead of a path.
 */
export type KeyPage = { path: string; error?: undefined } | { path?: undefined; error: string };

export function keyPages(dist: string, runsDir?: string): Record<string, KeyPage> {
  const dirs = (path: string) =>
    existsSync(join(dist, path))
      ? readdirSync(join(dist, path), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort()
      : [];
  const pick = (kind: string, candidates: string[], preferred: string, url: (name: string) => string): KeyPage => {
    const found = candidates.includes(preferred) ? preferred : candidates[0];
    return found ? { path: url(found) } : { error: `no ${kind} page in ${dist}: the example content should have one` };
  };
  const built = (path: string): KeyPage =>
    existsSync(join(dist, path, 'index.html')) ? { path } : { error: `${path} was not built in ${dist}` };
  const runbooksWithRuns = dirs('runs').filter((id) => existsSync(join(dist, 'runbooks', id, 'index.html')));
  const runbook = pick('runbook with run history', runbooksWithRuns, 'k3s-upgrade', (id) => `/runbooks/${id}/`);
  const runs = runbook.path ? dirs(`runs${runbook.path.slice('/runbooks'.length)}`) : [];
  const fanOut = runsDir ? fanOutRun(runsDir) : undefined;
  return {
    landing: { path: '/' },
    runbook,
    adr: pick('ADR', dirs('adrs'), '0003-embedded-etcd-control-plane', (id) => `/adrs/${id}/`),
    'adr-index': { path: '/adrs/' },
    weekend: pick('weekend plan', dirs('weekends'), 'weekend-1-cluster', (id) => `/weekends/${id}/`),
    weekends: built('/weekends/'),
    run:
      runbook.path && runs.length
        ? { path: `/runs${runbook.path.slice('/runbooks'.length)}${runs.at(-1)}/` }
        : { error: 'no run page for the runbook' },
    'fan-out-run': fanOut
      ? built(`/runs/${fanOut}/`)
      : { error: 'no run record with a node skipped after a failing node' },
    runs: built('/runs/'),
    architecture: built('/architecture/overview/'),
    hardware: built('/architecture/hardware/'),
    network: built('/architecture/network/'),
    storage: built('/architecture/storage/'),
    incident: pick('incident', dirs('incidents'), '', (slug) => `/incidents/${slug}/`),
  };
}

/** `<runbook>/<runId>` of the first record with a fan-out step whose later nodes were skipped. */
export function fanOutRun(runsDir: string): string | undefined {
  for (const id of readdirSync(runsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    for (const file of readdirSync(join(runsDir, id))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const record = JSON.parse(readFileSync(join(runsDir, id, file), 'utf8')) as {
        steps: Array<{ targets?: Array<{ status: string }> }>;
      };
      if (record.steps.some((s) => (s.targets?.length ?? 0) > 1 && s.targets!.some((t) => t.status === 'skipped')))
        return `${id}/${file.replace(/\.json$/, '')}`;
    }
  }
  return undefined;
}

/** Every page of a build, as the URL path of its index.html (the crawl and the accessibility audit visit these). */
export function builtPages(dist: string): string[] {
  return readdirSync(dist, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('index.html') && !f.startsWith('_'))
    .map((f) => `/${f.replace(/index\.html$/, '')}`)
    .sort();
}
