import { getCollection } from 'astro:content';
import { ADR_STATUSES, WEEKEND_STATUSES } from '../../runner/schemas/pages.ts';
import { allAdrs } from './adrs.ts';
import { allRuns, type Run } from './runs.ts';
import { procedurePages, type ProcedurePage } from './pages.ts';
import { inventory } from './inventory.ts';
import { BUILT_AT } from './format.ts';
import { siteLink } from './site-root.ts';
import {
  daysSince,
  finishedAt,
  labRuns,
  lastGoodLabRun,
  lastGoodRehearsal,
  staleSteps,
} from '../../runner/record/view.ts';
import { compareVersions, upgradeRange } from '../../runner/record/snapshot-diff.ts';
import { isSnapshot, type SnapshotSlot } from '../../runner/record/snapshot.ts';

/**
 * The landing page's figures, all computed from the content: the inventory,
 * ADR frontmatter, runbook and weekend pages, and the run records.
 */
export interface RunbookFreshness {
  page: ProcedurePage;
  risk: string;
  /** The newest run of the page of any kind (lab, rehearsal, sandbox): shown with its pill. */
  last?: Run | undefined;
  verifiedDays?: number | undefined;
  /** Days since the last successful rehearsal on the lab twin (never lab evidence: shown beside verified). */
  rehearsedDays?: number | undefined;
  rehearsed?: Run | undefined;
  stale: number;
}

let memo: ReturnType<typeof computeStats> | undefined;

/** Memoised for a production build: several landing components read the same figures. */
export function labStats() {
  if (!memo || !import.meta.env.PROD) memo = computeStats();
  return memo;
}

async function computeStats() {
  const inv = inventory();
  const adrs = await allAdrs();
  // Figures are evidence about the lab: runs against the sandbox and rehearsals on the twin do not count.
  const every = await allRuns();
  const runs = labRuns(every);
  const rehearsals = every.filter((r) => r.kind === 'rehearsal');
  const days = (run: Run) => daysSince(finishedAt(run), BUILT_AT);
  const pages = await procedurePages();
  const docs = await getCollection('docs');

  const runbooks: RunbookFreshness[] = [...pages.values()]
    .filter((p) => p.section === 'runbook')
    .map((page) => {
      const own = runs.filter((r) => r.data.runbook.id === page.procedure.id);
      const latest = every.find((r) => r.data.runbook.id === page.procedure.id);
      const success = lastGoodLabRun(own);
      const rehearsed = lastGoodRehearsal(rehearsals.filter((r) => r.data.runbook.id === page.procedure.id));
      return {
        page,
        risk: page.procedure.runbook?.risk ?? 'low',
        last: latest,
        verifiedDays: success && days(success),
        rehearsedDays: rehearsed && days(rehearsed),
        rehearsed,
        stale: staleSteps(page.procedure.steps, own).size,
      };
    })
    // Most recently verified first; among the never verified, the most recently rehearsed.
    .sort(
      (a, b) =>
        (a.verifiedDays ?? Infinity) - (b.verifiedDays ?? Infinity) ||
        (a.rehearsedDays ?? Infinity) - (b.rehearsedDays ?? Infinity) ||
        a.page.title.localeCompare(b.page.title),
    );

  const weekends = docs
    .filter((d) => d.data.weekend)
    .map((d) => ({ url: siteLink(`/${d.id}/`), title: d.data.title, weekend: d.data.weekend! }))
    .sort((a, b) => a.weekend.number - b.weekend.number);

  const finished = runs.filter((r) => r.status !== 'running');
  const succeeded = finished.filter((r) => r.status === 'succeeded');
  const upgrade = runs.find((r) => r.data.runbook.id === 'k3s-upgrade' && r.status === 'succeeded');
  // The newest upgrade that went through on the twin: shown as a rehearsal where the lab has none, never as one.
  const upgradeRehearsed = lastGoodRehearsal(rehearsals.filter((r) => r.data.runbook.id === 'k3s-upgrade'));
  const lastVerified = lastGoodLabRun(runs);
  const rehearsed = lastGoodRehearsal(rehearsals);
  const rehearsalsFinished = rehearsals.filter((r) => r.status !== 'running');

  return {
    cluster: inv.cluster,
    nodes: inv.nodes,
    devices: inv.devices ?? [],
    adrs: {
      total: adrs.length,
      byStatus: ADR_STATUSES.map((status) => ({
        status,
        n: adrs.filter((a) => a.data.status === status).length,
      })).filter((s) => s.n > 0),
      list: adrs,
    },
    runbooks,
    weekends: {
      list: weekends,
      byStatus: Object.fromEntries(
        WEEKEND_STATUSES.map((s) => [s, weekends.filter((w) => w.weekend.status === s).length]),
      ) as Record<(typeof WEEKEND_STATUSES)[number], number>,
    },
    runs: {
      total: runs.length,
      finished: finished.length,
      succeeded: succeeded.length,
      // Every run, rehearsals and sandbox runs with their pills: a history of rehearsals is still the procedures being run.
      recent: every.slice(0, 6),
      /** The newest run against the lab itself: what the hero's cluster card says. */
      lastLab: runs[0],
      all: every.length,
      rehearsals: rehearsals.length,
      rehearsalsSucceeded: rehearsalsFinished.filter((r) => r.status === 'succeeded').length,
      rehearsalsFinished: rehearsalsFinished.length,
      sandbox: every.filter((r) => r.kind === 'sandbox').length,
    },
    lastUpgrade: upgrade ? upgradeOf(upgrade) : undefined,
    lastUpgradeRehearsed: upgradeRehearsed ? upgradeOf(upgradeRehearsed) : undefined,
    lastVerified: lastVerified ? { run: lastVerified, days: days(lastVerified) } : undefined,
    lastRehearsed: rehearsed ? { run: rehearsed, days: days(rehearsed) } : undefined,
    incidents: docs
      .filter((d) => d.data.incident)
      .map((d) => ({ url: siteLink(`/${d.id}/`), title: d.data.title, incident: d.data.incident! }))
      .sort((a, b) => b.incident.date.localeCompare(a.incident.date)),
    pages,
  };
}

/** An upgrade run: from → to as its snapshots saw the cluster, else the target version param. */
function upgradeOf(run: Run) {
  const { before, after } = run.data.snapshots ?? {};
  return {
    run,
    version: run.data.params.find((p) => /VERSION/.test(p.name) && !p.secret)?.value,
    range: run.rehearsal ? kubeletRange(before, after) : upgradeRange(before, after),
    days: daysSince(run.data.startedAt, BUILT_AT),
  };
}

/**
 * From → to by the nodes' kubelets only: on the twin the API server is the sandbox's own
 * kube-apiserver, whose version no upgrade changes, so counting it would read "v1.34.3 → v1.34.3".
 */
function kubeletRange(
  before: SnapshotSlot | undefined,
  after: SnapshotSlot | undefined,
): { from: string; to: string } | undefined {
  if (!isSnapshot(before) || !isSnapshot(after)) return undefined;
  const oldest = (versions: string[]) => versions.filter((v) => v !== '').sort(compareVersions)[0];
  const from = oldest(before.nodes.map((n) => n.kubeletVersion));
  const to = oldest(after.nodes.map((n) => n.kubeletVersion));
  return from && to ? { from, to } : undefined;
}

export type LabStats = Awaited<ReturnType<typeof computeStats>>;
