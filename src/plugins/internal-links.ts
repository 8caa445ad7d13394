import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { AstroIntegration } from 'astro';
import { globSync } from 'tinyglobby';
import { normalizeBase } from './base-links.ts';

/**
 * Fails the build when a page links to an internal URL that was not built.
 * starlight-links-validator checks Markdown links between docs pages but cannot
 * see custom routes (ADR and run pages) nor links our components render; this
 * checks every `<a href>` in the final HTML, whatever produced it. Under a base path
 * (`/<repo>/` on GitHub Pages) a link must point under it: one from the bare root
 * would leave the site, so it is reported too.
 */
export function internalLinks({ fail = true }: { fail?: boolean } = {}): AstroIntegration {
  let base = '/';
  return {
    name: 'internal-links',
    hooks: {
      'astro:config:done': ({ config }) => {
        base = config.base;
      },
      'astro:build:done': ({ dir, logger }) => {
        const root = fileURLToPath(dir);
        const broken = findBrokenLinks(root, base);
        if (broken.length === 0) {
          logger.info('every internal link resolves');
          return;
        }
        const lines = broken.map((b) => `  ${b.page} → ${b.href}`);
        const message = `${broken.length} broken internal link(s):\n${lines.join('\n')}\nFix the link or add the page it points to.`;
        if (!fail) return logger.warn(message);
        throw new Error(message);
      },
    },
  };
}

export interface BrokenLink {
  /** The page's URL path, base included. */
  page: string;
  href: string;
}

const HREF = /<a\b[^>]*?\shref="([^"]*)"/g;

/** Links in the HTML under `distDir` that miss a built file; `base` is the URL path the build is served under. */
export function findBrokenLinks(distDir: string, base = '/'): BrokenLink[] {
  const root = normalizeBase(base);
  const broken: BrokenLink[] = [];
  // One listing of the build instead of a stat per link: pages repeat the sidebar's hundreds of links.
  const built = new Set(globSync('**/*', { cwd: distDir, dot: true }));
  const builds = (path: string) => {
    // dist/ holds the site without its base: /home-lab/x/ is dist/x/index.html.
    if (!`${path}/`.startsWith(root)) return false;
    const rel = path.slice(root.length);
    return built.has(rel) || built.has(`${rel === '' ? '' : rel.replace(/\/?$/, '/')}index.html`);
  };
  const htmlFiles = [...built].filter((f) => f.endsWith('.html'));
  for (const file of htmlFiles) {
    const page = `${root}${file.replace(/(^|\/)index\.html$/, '$1').replace(/\.html$/, '/')}`;
    const html = readFileSync(join(distDir, file), 'utf8');
    for (const [, raw] of html.matchAll(HREF)) {
      const href = decodeEntities(raw!);
      const target = internalPath(href, page);
      if (target !== undefined && !builds(target)) broken.push({ page, href });
    }
  }
  return broken;
}

/** The path an href points to on this site, or undefined for external, hash-only and non-http links. */
function internalPath(href: string, page: string): string | undefined {
  if (!href || href.startsWith('#') || href.startsWith('//') || /^[a-z][a-z0-9+.-]*:/i.test(href)) return undefined;
  const url = new URL(href, `http://site${page}`);
  return decodeURIComponent(url.pathname);
}

function decodeEntities(s: string): string {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"');
}
