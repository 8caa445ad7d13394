import { getCollection } from 'astro:content';
import type { Procedure } from '../../runner/format/model.ts';
import { procedureOfEntry } from './procedures.ts';
import { siteLink } from './site-root.ts';

/**
 * Every page that carries steps (runbooks, weekend plans, ADRs with validation
 * checks), keyed by the id the runner records in `record.runbook.id`, so a run
 * page can link back to its procedure and each step.
 */
export interface ProcedurePage {
  url: string;
  title: string;
  procedure: Procedure;
  /** What the page is to a reader: a weekend plan may also carry a runbook block. */
  section: 'runbook' | 'weekend' | 'adr' | 'page';
}

let memo: Promise<Map<string, ProcedurePage>> | undefined;

export function procedurePages(): Promise<Map<string, ProcedurePage>> {
  if (memo && import.meta.env.PROD) return memo;
  memo = (async () => {
    const pages = new Map<string, ProcedurePage>();
    for (const entry of await getCollection('docs')) {
      const procedure = procedureOfEntry(entry);
      if (procedure && (procedure.steps.length > 0 || procedure.kind === 'runbook')) {
        const section = entry.data.weekend ? 'weekend' : procedure.kind === 'runbook' ? 'runbook' : 'page';
        pages.set(procedure.id, { url: siteLink(`/${entry.id}/`), title: entry.data.title, procedure, section });
      }
    }
    for (const entry of await getCollection('adrs')) {
      const procedure = procedureOfEntry(entry);
      if (procedure && procedure.steps.length > 0)
        pages.set(procedure.id, { url: adrUrl(entry.id), title: entry.data.title, procedure, section: 'adr' });
    }
    return pages;
  })();
  return memo;
}

export function adrUrl(slug: string): string {
  return siteLink(`/adrs/${slug}/`);
}
