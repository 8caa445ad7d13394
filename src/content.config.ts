import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { z } from 'astro/zod';
import { docsLoader } from '@astrojs/starlight/loaders';
import { docsSchema } from '@astrojs/starlight/schema';
import { runbookFrontmatterSchema } from '../runner/schemas/runbook.ts';
import { adrSchema, incidentSchema, weekendSchema } from '../runner/schemas/pages.ts';
import { runRecordSchema } from '../runner/record/schema.ts';

/**
 * Where the run records are read from: the shipped history by default; the site tests
 * build against their fixed history in test/site/fixtures/runs (SITE_RUNS_DIR, relative
 * to the project root or absolute).
 */
const RUNS_DIR = process.env.SITE_RUNS_DIR || './src/content/runs';

/**
 * One schema per kind of page, shared with the runner: `runbook check` and
 * `astro build` reject the same frontmatter. (astro/zod and the runner's zod
 * are the same zod 4 package, so the runner's schemas plug in directly.)
 */
export const collections = {
  docs: defineCollection({
    loader: docsLoader(),
    schema: docsSchema({
      extend: z.object({
        runbook: runbookFrontmatterSchema.optional(),
        weekend: weekendSchema.optional(),
        incident: incidentSchema.optional(),
      }),
    }),
  }),
  adrs: defineCollection({
    loader: glob({ pattern: '**/[^_]*.{md,mdx}', base: './src/content/adrs' }),
    schema: adrSchema,
  }),
  runs: defineCollection({
    // Keep the path as the id (`<runbook-id>/<runId>`): it is the run page's URL.
    loader: glob({ pattern: '**/*.json', base: RUNS_DIR, generateId: ({ entry }) => entry.replace(/\.json$/, '') }),
    schema: runRecordSchema,
  }),
};
