// @ts-check
import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
import mermaid from 'astro-mermaid';
import starlightLinksValidator from 'starlight-links-validator';
import { siteConfig } from './src/site.config.ts';
import { stepBadges } from './src/plugins/step-badges.ts';
import { internalLinks } from './src/plugins/internal-links.ts';
import { baseLinks, normalizeBase, withBase } from './src/plugins/base-links.ts';
import { labSidebar } from './src/lib/sidebar.ts';

process.env.ASTRO_TELEMETRY_DISABLED ??= '1';

/** Broken internal links fail the build; SITE_LINKS=warn only reports them (for drafting while linked pages are still being written). */
const failOnBrokenLinks = process.env.SITE_LINKS !== 'warn';

/**
 * SITE_PLAIN=1 builds the same content with Starlight's defaults and none of the
 * site's components, plugins or checks: the baseline of scripts/bench-site.
 */
const plain = process.env.SITE_PLAIN === '1';

/** Build warnings known to be harmless (see the toolchain notes); everything else is shown. */
const HARMLESS = [/use astro:head-inject/, /Module level directives cause errors when bundled/];

// GitHub Pages serves a project site under /<repo>/: the workflow passes configure-pages' origin and
// base path (`/<repo>`, no trailing slash). Unset or empty (local builds, tests, pull requests) is /.
const base = normalizeBase(process.env.SITE_BASE);

export default defineConfig({
  site: process.env.SITE_URL || siteConfig.url,
  base,
  trailingSlash: 'always',
  integrations: [
    // Content links are written from the root; this puts the base in front of them. Before starlight():
    // the links validator Starlight adds must read them with the base in place. A no-op at /.
    baseLinks(),
    // Before starlight(): it registers its Markdown transform first.
    mermaid({ theme: 'default', autoTheme: true, enableLog: false }),
    starlight({
      title: siteConfig.title,
      description: siteConfig.tagline,
      logo: { src: './src/components/logo.svg', replacesTitle: false },
      favicon: '/favicon.svg',
      social: siteConfig.owner.links.map((l) => ({ icon: l.icon, label: l.label, href: l.href })),
      editLink: { baseUrl: `${siteConfig.repository}/edit/main/` },
      lastUpdated: false,
      customCss: plain ? [] : ['./src/styles/theme.css', './src/styles/procedure.css'],
      components: plain
        ? {}
        : {
            PageTitle: './src/components/overrides/PageTitle.astro',
            MarkdownContent: './src/components/overrides/MarkdownContent.astro',
            Footer: './src/components/overrides/Footer.astro',
            Hero: './src/components/overrides/Hero.astro',
          },
      routeMiddleware: plain ? [] : './src/lib/route-data.ts',
      expressiveCode: {
        themes: ['github-dark', 'github-light'],
        plugins: plain ? [] : [stepBadges()],
        styleOverrides: { borderRadius: '0.5rem' },
      },
      sidebar: labSidebar(),
      plugins: [
        // ADR, run and weekend-overview pages are custom routes the validator cannot see; internalLinks() checks them.
        // Both spellings: content links reach it with the base baseLinks() gave them, frontmatter ones (the
        // landing's hero actions, which Hero.astro prefixes when it renders them) without.
        starlightLinksValidator({
          exclude: ['/adrs/', '/adrs/**', '/runs/', '/runs/**', '/weekends/'].flatMap((p) => [
            ...new Set([p, withBase(p, base)]),
          ]),
          errorOnRelativeLinks: false,
          failOnError: failOnBrokenLinks,
        }),
      ],
    }),
    ...(plain ? [] : [internalLinks({ fail: failOnBrokenLinks })]),
  ],
  vite: {
    build: {
      chunkSizeWarningLimit: 2048,
      rolldownOptions: {
        onwarn(warning, warn) {
          if (HARMLESS.some((re) => re.test(warning.message))) return;
          warn(warning);
        },
      },
    },
  },
});
