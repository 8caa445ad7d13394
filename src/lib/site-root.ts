import { withBase } from '../plugins/base-links.ts';

/**
 * The site's root URL path with a trailing slash: `/` locally, `/<repo>/` when GitHub Pages serves a
 * project site (astro.config.mjs takes the base from SITE_BASE). Project links are built on it.
 */
export const SITE_ROOT = import.meta.env.BASE_URL.replace(/\/?$/, '/');

/**
 * A link of the site written from the root (`/runs/x/`) as the browser must follow it: under
 * SITE_ROOT. Links that are not root-relative, or already under it, come back unchanged; Markdown
 * content gets the same treatment from src/plugins/base-links.ts.
 */
export function siteLink(path: string): string {
  return withBase(path, SITE_ROOT);
}
