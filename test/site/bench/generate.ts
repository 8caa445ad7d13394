/**
 * Generated content for the site benchmark: N runbook pages shaped like the
 * lab's (params, prose, check/confirm steps, a ForEach over the agents, a
 * manifest, an illustration fence) and a run history per page built with the
 * fixture generator, so the records carry the pages' real step ids and hashes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcedure } from '../../../runner/format/parse.ts';
import type { Inventory } from '../../../runner/inventory/schema.ts';
import { makeRun, type Scenario } from '../fixtures/make-run.ts';

export function runbookPage(n: number, total: number): string {
  const next = `bench-${String((n % total) + 1).padStart(4, '0')}`;
  return `---
title: Benchmark runbook ${n}
description: A generated runbook shaped like the lab's, for measuring the site build.
runbook:
  risk: ${['low', 'medium', 'high'][n % 3]}
  cluster: homelab
  requires: [kubectl, ssh]
  params:
    TARGET_VERSION:
      description: The version to roll out
      required: true
      pattern: 'v[0-9]+\\.[0-9]+\\.[0-9]+'
    NAMESPACE:
      description: Namespace of the workload
      default: apps
---

import ForEach from '~/components/ForEach.astro';

This page is number ${n} of ${total}. The next one is [${next}](/runbooks/${next}/).
It drains each agent in turn, changes it, and waits for it to come back, with checks
before and after. Nothing here is special: it is the shape of a real runbook.

## Before you start

Read the release notes and make sure nothing else is draining nodes.

\`\`\`bash step=nodes-ready check title="Every node is Ready"
kubectl get nodes --no-headers | awk '$2 != "Ready" { bad = 1 } END { exit bad }'
\`\`\`

\`\`\`bash step=workload-healthy check title="The workload is available"
kubectl -n "$NAMESPACE" rollout status deploy/app-${n} --timeout=60s
\`\`\`

\`\`\`bash step=snapshot on=k3s-master timeout=15m title="Take a snapshot first"
k3s etcd-snapshot save --name "bench-${n}-$(date +%Y%m%d-%H%M%S)"
\`\`\`

## Roll out, one agent at a time

<ForEach nodes="role:agent">

\`\`\`bash step=drain confirm timeout=15m title="Drain the node"
kubectl drain "$NODE" --ignore-daemonsets --delete-emptydir-data --timeout=10m
\`\`\`

\`\`\`bash step=change on=$NODE confirm timeout=15m title="Install the target version"
curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION="$TARGET_VERSION" sh -s - agent
\`\`\`

\`\`\`bash step=back timeout=10m title="Wait for Ready"
kubectl wait --for=condition=Ready "node/$NODE" --timeout=10m
\`\`\`

\`\`\`bash step=uncordon title="Uncordon"
kubectl uncordon "$NODE"
\`\`\`

</ForEach>

## Configure

\`\`\`yaml step=config apply title="Apply the settings"
apiVersion: v1
kind: ConfigMap
metadata:
  name: bench-${n}
  namespace: apps
data:
  version: "${n}"
\`\`\`

## Verify

\`\`\`bash step=all-ready check title="Every node is Ready again"
kubectl get nodes --no-headers | awk '$2 != "Ready" { bad = 1 } END { exit bad }'
\`\`\`

\`\`\`bash step=answers check expect="^200$" title="The app answers"
curl -s -o /dev/null -w '%{http_code}' https://app-${n}.home.jetzinger.com/
\`\`\`

Expected output of the last step:

\`\`\`text
200
\`\`\`
`;
}

const HISTORY: Array<Omit<Scenario, 'at'>> = [
  { outcome: 'failed', stopAt: 'back@k3s-worker-02', sets: { TARGET_VERSION: 'v1.34.1' } },
  { outcome: 'succeeded', sets: { TARGET_VERSION: 'v1.34.1' } },
  { outcome: 'succeeded', sets: { TARGET_VERSION: 'v1.34.3' } },
];

/** Writes `count` runbook pages and, when `runs`, three run records for each. Returns the number of records. */
export function generateContent(root: string, count: number, inventory: Inventory, runs: boolean): number {
  const docs = join(root, 'src/content/docs');
  mkdirSync(join(docs, 'runbooks'), { recursive: true });
  writeFileSync(join(docs, 'index.mdx'), '---\ntitle: Benchmark\n---\n\nGenerated runbooks for the site benchmark.\n');
  let records = 0;
  for (let n = 1; n <= count; n++) {
    const file = `src/content/docs/runbooks/bench-${String(n).padStart(4, '0')}.mdx`;
    const source = runbookPage(n, count);
    writeFileSync(join(root, file), source);
    if (!runs) continue;
    const procedure = parseProcedure(source, file);
    HISTORY.forEach((scenario, i) => {
      const at = new Date(Date.UTC(2026, 8, 1 + i * 20, 8, n % 60)).toISOString();
      const record = makeRun(procedure, inventory, { ...scenario, at });
      const dir = join(root, 'src/content/runs', procedure.id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${record.runId}.json`), JSON.stringify(record));
      records++;
    });
  }
  return records;
}
