import { loadSiteFile } from '../runner/init/site-file.ts';

/**
 * Who the site belongs to and where it lives. The values are in src/content/lab/site.yaml
 * (validated on load; `runbook init` writes it); the landing page, header links and footer
 * read them here, and nothing else in the site names a person. Read relative to the project
 * root, where the build runs, as the inventory is.
 */
export const siteConfig = loadSiteFile().site;

export type SiteConfig = typeof siteConfig;
