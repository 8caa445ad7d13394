import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { globSync } from 'tinyglobby';
import type { SiteFile } from './site-file.ts';

/**
 * The example lab's content: its decisions, build plans, runbooks, incidents, notebook and
 * architecture pages, and the run history recorded against it. The reference pages (the CLI and
 * the runbook format) are the tool's documentation and stay; so do the runs folder's README and
 * any code in it, and pages `runbook import` wrote (src/content/docs/runbooks/imported/).
 */
export const EXAMPLE_FOLDERS = [
  'src/content/adrs',
  'src/content/docs/architecture',
  'src/content/docs/incidents',
  'src/content/docs/notebook',
  'src/content/docs/weekends',
  'src/content/docs/runbooks',
];
export const EXAMPLE_PAGES = ['src/content/docs/roadmap.mdx'];
export const RUNS_FOLDER = 'src/content/runs';
export const LANDING = 'src/content/docs/index.mdx';
export const RUNBOOKS_INDEX = 'src/content/docs/runbooks/index.mdx';
const KEPT = ['src/content/docs/runbooks/index.mdx', 'src/content/docs/runbooks/imported/**'];

export interface ExampleContent {
  pages: string[];
  records: string[];
}

/** What `--examples remove` deletes, relative to the root, sorted. */
export function exampleContent(root: string): ExampleContent {
  const pages = [
    ...EXAMPLE_FOLDERS.flatMap((dir) =>
      globSync(`${dir}/**/*`, { cwd: root, ignore: KEPT, dot: true, onlyFiles: true }),
    ),
    ...EXAMPLE_PAGES.filter((p) => existsSync(join(root, p))),
  ];
  // Records live one folder down (runs/<runbook-id>/<run>.json); the README and code beside them stay.
  const records = globSync(`${RUNS_FOLDER}/*/**/*.json`, { cwd: root, onlyFiles: true });
  return { pages: pages.sort(), records: records.sort() };
}

/** A summary line per kind: "17 ADRs, 20 runbook pages, 25 run records". */
export function describeContent(content: ExampleContent): string[] {
  const count = (prefix: string) => content.pages.filter((p) => p.startsWith(prefix)).length;
  const parts: [number, string][] = [
    [count('src/content/adrs/'), 'ADR files'],
    [count('src/content/docs/runbooks/'), 'runbook pages'],
    [count('src/content/docs/weekends/'), 'weekend plans'],
    [count('src/content/docs/incidents/'), 'incident reviews'],
    [count('src/content/docs/notebook/'), 'notebook pages'],
    [count('src/content/docs/architecture/'), 'architecture pages'],
    [content.pages.filter((p) => EXAMPLE_PAGES.includes(p)).length, 'roadmap page'],
    [content.records.length, `run records (in ${new Set(content.records.map(dirname)).size} runbook folders)`],
  ];
  return parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
}

/** Folders the removal emptied, deepest first, removed so no empty example folder is left. */
export function removeEmptyFolders(root: string, files: string[]): void {
  const dirs = [...new Set(files.map((f) => dirname(f)))].sort((a, b) => b.length - a.length);
  for (const dir of dirs) {
    for (let d = dir; d !== '.' && d !== 'src/content' && d !== RUNS_FOLDER; d = dirname(d)) {
      const abs = join(root, d);
      if (!existsSync(abs) || readdirSync(abs).length > 0) break;
      rmdirSync(abs);
    }
  }
}

const yamlString = (s: string) => JSON.stringify(s);

/** The landing page of a lab with no pages yet: what it is, its nodes, its runbooks and latest runs. */
export function minimalLanding(site: SiteFile): string {
  return `---
title: ${yamlString(site.title)}
description: ${yamlString(site.tagline)}
template: splash
tableOfContents: false
editUrl: false
hero:
  title: ${yamlString(site.title)}
  tagline: ${yamlString(site.tagline)}
  actions:
    - text: Runbooks
      link: /runbooks/
      variant: primary
      icon: right-arrow
    - text: CLI reference
      link: /reference/cli/
      variant: secondary
---

import Nodes from '~/components/landing/Nodes.astro';
import RunbookFreshness from '~/components/landing/RunbookFreshness.astro';
import RecentRuns from '~/components/landing/RecentRuns.astro';

## Nodes

Rendered from \`src/content/lab/inventory.yaml\`, the inventory \`runbook run\` targets.

<Nodes />

## Runbooks and when they last worked

<RunbookFreshness />

## Latest runs

<RecentRuns />
`;
}

/** The runbooks section's index before there are runbooks: how to add the first one. */
export const MINIMAL_RUNBOOKS_INDEX = `---
title: Runbooks
description: The lab's operational procedures. Each one is executable with the runbook CLI and keeps its run history.
sidebar:
  label: Overview
  order: 0
---

No runbooks yet. A runbook is an MDX page in this folder whose shell fences are steps
(see the [runbook format](/reference/runbook-format/)). To start from Markdown you already have:

\`\`\`text
npx runbook import path/to/notes/ --dry-run
npx runbook import path/to/notes/
npx runbook check --strict
\`\`\`

Imported pages land in \`src/content/docs/runbooks/imported/\`; \`runbook list\` shows them.
`;
