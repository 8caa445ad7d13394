import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pages the browser test and the screenshots visit, found in the build so
 * they follow the content: the preferred example when it exists, else the
 * first page of its kind. A kind with no page gets an error instead of a path.
 */
export type KeyPage = { path: string; error?: undefined } | { path?: undefined; error: string };

export function keyPages(dist: string): Record<string, KeyPage> {
  const dirs = (path: string) =>
    existsSync(join(dist, path))
      ? readdirSync(join(dist, path), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
      : [];
  const pick = (kind: string, candidates: string[], preferred: string, url: (name: string) => string): KeyPage => {
    const found = candidates.includes(preferred) ? preferred : candidates[0];
    return found ? { path: url(found) } : { error: `no ${kind} page in ${dist}: the example content should have one` };
  };
  const runbooksWithRuns = dirs('runs').filter((id) => existsSync(join(dist, 'runbooks', id, 'index.html')));
  const runbook = pick('runbook with run history', runbooksWithRuns, 'k3s-upgrade', (id) => `/runbooks/${id}/`);
  const runs = runbook.path ? dirs(`runs${runbook.path.slice('/runbooks'.length)}`) : [];
  return {
    landing: { path: '/' },
    runbook,
    adr: pick('ADR', dirs('adrs'), '0003-embedded-etcd-control-plane', (id) => `/adrs/${id}/`),
    'adr-index': { path: '/adrs/' },
    weekend: pick('weekend plan', dirs('weekends'), 'weekend-1-cluster', (id) => `/weekends/${id}/`),
    run: runbook.path && runs.length ? { path: `/runs${runbook.path.slice('/runbooks'.length)}${runs.at(-1)}/` } : { error: 'no run page for the runbook' },
  };
}
