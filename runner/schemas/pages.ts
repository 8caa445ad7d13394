import { z } from 'zod';

/** What a page is, from its frontmatter and folder: it decides which schema its frontmatter meets. */
export type PageKind = 'runbook' | 'adr' | 'weekend' | 'page';

/**
 * Frontmatter schemas for the lab's page kinds. The site's content collections
 * use these too, so `runbook check` and `astro build` agree on what is valid.
 */

/** A calendar date; YAML readers differ (js-yaml gives a Date, `yaml` a string), so accept both and keep YYYY-MM-DD. */
export const isoDate = z
  .union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'write dates as YYYY-MM-DD'), z.date()])
  .transform((d) => (typeof d === 'string' ? d : d.toISOString().slice(0, 10)));

export const ADR_STATUSES = ['proposed', 'accepted', 'superseded', 'deprecated', 'rejected'] as const;

export const adrSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().optional(),
    status: z.enum(ADR_STATUSES, { error: `status must be one of ${ADR_STATUSES.join(', ')}` }),
    date: isoDate,
    deciders: z.array(z.string()).min(1, 'name at least one decider'),
    /** Slugs of ADRs this one replaces (file names without extension). */
    supersedes: z.array(z.string()).default([]),
    supersededBy: z.string().optional(),
    /** Related ADR slugs or site paths such as `runbooks/k3s-upgrade`. */
    related: z.array(z.string()).default([]),
    tags: z.array(z.string()).default([]),
  })
  .strict();

export const WEEKEND_STATUSES = ['planned', 'in-progress', 'done'] as const;

export const weekendSchema = z
  .object({
    number: z.number().int().min(1).max(52),
    status: z.enum(WEEKEND_STATUSES, { error: `status must be one of ${WEEKEND_STATUSES.join(', ')}` }),
    goal: z.string().min(1),
    completed: isoDate.optional(),
    estimate: z.string().optional(),
    prerequisites: z.array(z.string()).default([]),
  })
  .strict();

export const incidentSchema = z
  .object({
    date: isoDate,
    severity: z.enum(['SEV1', 'SEV2', 'SEV3', 'SEV4'], { error: 'severity must be SEV1 (worst) to SEV4' }),
    duration: z.string(),
    status: z.enum(['resolved', 'monitoring', 'open']),
    services: z.array(z.string()).default([]),
  })
  .strict();

export type Adr = z.infer<typeof adrSchema>;
export type Weekend = z.infer<typeof weekendSchema>;
export type Incident = z.infer<typeof incidentSchema>;

/**
 * What `runbook check` validates in a page's frontmatter besides the runbook block:
 * ADR pages as a whole, and the `weekend:` / `incident:` blocks of docs pages.
 * Starlight's own keys (title, sidebar, …) are left to the site build.
 */
export interface FrontmatterCheck {
  path: string[];
  schema: z.ZodType;
  value: unknown;
}

export function frontmatterChecks(kind: PageKind, frontmatter: Record<string, unknown>): FrontmatterCheck[] {
  const checks: FrontmatterCheck[] = [];
  if (kind === 'adr') checks.push({ path: [], schema: adrSchema, value: frontmatter });
  const { weekend, incident } = frontmatter;
  if (weekend !== undefined) checks.push({ path: ['weekend'], schema: weekendSchema, value: weekend });
  if (incident !== undefined) checks.push({ path: ['incident'], schema: incidentSchema, value: incident });
  return checks;
}
