import { getCollection, type CollectionEntry } from 'astro:content';
import { siteLink } from './site-root.ts';
import { hereOnThisHost, viewRun, type RunView } from '../../runner/record/view.ts';

/**
 * Run records joined to procedures. Records come from the `runs` collection
 * (validated by the runner's schema); a record's procedure is the page whose
 * runner id matches `record.runbook.id`. What a record means (its status now,
 * lab/rehearsal/sandbox, verified, stale) is runner/record/view.ts's: the site
 * reads the same meaning as `runbook history`.
 */
export type RunEntry = CollectionEntry<'runs'>;

export interface Run extends RunView {
  entry: RunEntry;
  id: string;
  url: string;
  data: RunEntry['data'];
}

// A site built on the host that ran a record asks whether its runner lives; on any other host a `running` record reads interrupted.
const HERE = hereOnThisHost();

let memo: Promise<Run[]> | undefined;

/** Every run, newest first. Memoised for a production build, where records cannot change. */
export function allRuns(): Promise<Run[]> {
  if (memo && import.meta.env.PROD) return memo;
  memo = getCollection('runs').then((entries) =>
    entries
      .map((entry) => ({ ...viewRun(entry.data, HERE), entry, id: entry.id, url: runUrl(entry.id), data: entry.data }))
      .sort((a, b) => b.data.startedAt.localeCompare(a.data.startedAt)),
  );
  return memo;
}

export function runUrl(id: string): string {
  return siteLink(`/runs/${id}/`);
}

/** Runs of one procedure, newest first. */
export async function runsOf(procedureId: string): Promise<Run[]> {
  return (await allRuns()).filter((r) => r.data.runbook.id === procedureId);
}

/** Anchor of a step instance on its run page. */
export function instanceAnchor(instanceId: string): string {
  return `i-${instanceId}`;
}
