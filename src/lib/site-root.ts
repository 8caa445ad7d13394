/**
 * The site's root URL path with a trailing slash: `/` locally, `/<repo>/` when GitHub Pages serves a
 * project site (astro.config.mjs takes the base from SITE_BASE). Project links are built on it.
 */
export const SITE_ROOT = import.meta.env.BASE_URL.replace(/\/?$/, '/');
