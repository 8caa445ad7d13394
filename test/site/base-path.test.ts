/**
 * GitHub Pages serves a project site under /<repo>/ (configure-pages gives the base as
 * `/<repo>`, no trailing slash): every link a page writes must be under it. First the pieces
 * on small inputs (the link rewrite, the content plugin on small documents, the dist-wide
 * link check), then real `astro build`s under /home-lab: the project's site, whose every
 * internal href/src must carry the base, and a sandbox whose broken links must still fail.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markdownToHtml, mdxToJs } from 'satteri';
import { globSync } from 'tinyglobby';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_RUNS, ROOT, buildSite, makeSandbox, writeFiles } from './harness.ts';
import { baseLinksPlugin, normalizeBase, withBase } from '../../src/plugins/base-links.ts';
import { findBrokenLinks } from '../../src/plugins/internal-links.ts';

/**
 * What the workflow passes on a project site: configure-pages' origin and base_path. Vitest puts
 * its own import.meta.env into process.env (BASE_URL=/, DEV=1, ...), and a build spawned from a
 * test inherits it: Astro would read BASE_URL=/ and the site's root links would miss the base, a
 * failure CI never has. Undefined leaves them out of the build's environment.
 */
const PAGES = {
  SITE_URL: 'https://example.github.io',
  SITE_BASE: '/home-lab',
  SITE_LINKS: 'fail',
  ...Object.fromEntries(['BASE_URL', 'MODE', 'DEV', 'PROD', 'SSR'].map((k) => [k, undefined])),
};

describe('withBase', () => {
  test('puts the base in front of root-relative links only', () => {
    const cases: Array<[string, string]> = [
      ['/runbooks/k3s-upgrade/', '/home-lab/runbooks/k3s-upgrade/'],
      ['/runbooks/k3s-upgrade/#rollback', '/home-lab/runbooks/k3s-upgrade/#rollback'],
      ['/', '/home-lab/'],
      ['/favicon.svg', '/home-lab/favicon.svg'],
      // A page whose name starts like the base is not under it.
      ['/home-labs/', '/home-lab/home-labs/'],
      ['/home-lab/adrs/', '/home-lab/adrs/'],
      ['/home-lab', '/home-lab'],
      ['/home-lab#top', '/home-lab#top'],
      ['//cdn.example.org/x.js', '//cdn.example.org/x.js'],
      ['https://example.org/a/', 'https://example.org/a/'],
      ['mailto:a@example.org', 'mailto:a@example.org'],
      ['#context', '#context'],
      ['../k3s-upgrade/', '../k3s-upgrade/'],
      ['', ''],
    ];
    for (const base of ['/home-lab', '/home-lab/', 'home-lab']) {
      expect(cases.map(([url]) => [url, withBase(url, base)])).toEqual(cases);
    }
  });

  test('changes nothing at /, and applying it twice is applying it once', () => {
    expect(withBase('/runbooks/x/', '/')).toBe('/runbooks/x/');
    expect(withBase('/runbooks/x/', '')).toBe('/runbooks/x/');
    expect(withBase(withBase('/runs/a/', '/home-lab'), '/home-lab')).toBe('/home-lab/runs/a/');
  });

  test('normalizeBase gives one leading and one trailing slash', () => {
    expect(['', '/', '//', undefined, '/home-lab', 'home-lab/', '/a/b/'].map(normalizeBase)).toEqual([
      '/',
      '/',
      '/',
      '/',
      '/home-lab/',
      '/home-lab/',
      '/a/b/',
    ]);
  });
});

describe('baseLinksPlugin on small documents', () => {
  const plugin = baseLinksPlugin('/home-lab');

  test('is left out at /', () => {
    expect(baseLinksPlugin('/')).toBeUndefined();
    expect(baseLinksPlugin('')).toBeUndefined();
  });

  test('prefixes Markdown links and images, leaves the rest', async () => {
    const md = [
      '[upgrade](/runbooks/k3s-upgrade/) [done](/home-lab/adrs/) [cdn](//cdn.example.org/x)',
      '[hash](#top) [rel](../x/) [ext](https://example.org/) ![diagram](/diagrams/lab.svg)',
    ].join('\n');
    const { html } = await markdownToHtml(md, { hastPlugins: [plugin] });
    const urls = [...html.matchAll(/(?:href|src)="([^"]*)"/g)].map((m) => m[1]);
    expect(urls).toEqual([
      '/home-lab/runbooks/k3s-upgrade/',
      '/home-lab/adrs/',
      '//cdn.example.org/x',
      '#top',
      '../x/',
      'https://example.org/',
      '/home-lab/diagrams/lab.svg',
    ]);
  });

  test('prefixes string href/src of MDX JSX elements, not expressions', async () => {
    const mdx = [
      '<LinkCard title="Upgrade" href="/runbooks/k3s-upgrade/" />',
      '',
      'See <a href="/adrs/">the decisions</a> and <Pic src="/lab.png" />, or <X href={"/runs/"} />.',
    ].join('\n');
    const { code } = await mdxToJs(mdx, { hastPlugins: [plugin] });
    expect(code).toContain('"/home-lab/runbooks/k3s-upgrade/"');
    expect(code).toContain('"/home-lab/adrs/"');
    expect(code).toContain('"/home-lab/lab.png"');
    expect(code).not.toMatch(/"\/(runbooks|adrs)\//);
    // An expression is the component's to resolve: it stays as written.
    expect(code).toContain('"/runs/"');
  });
});

describe('findBrokenLinks under a base', () => {
  const dist = mkdtempSync(join(tmpdir(), 'base-links-'));
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  test('resolves links under the base and reports one that misses it', () => {
    const html = (links: string[]) => links.map((l) => `<a href="${l}">x</a>`).join('');
    mkdirSync(join(dist, 'adrs/0001-x'), { recursive: true });
    writeFileSync(join(dist, 'adrs/0001-x/index.html'), html(['../../', '/home-lab/', '/home-lab']));
    writeFileSync(join(dist, 'favicon.svg'), '');
    writeFileSync(
      join(dist, 'index.html'),
      html([
        '/home-lab/adrs/0001-x/',
        '/home-lab/adrs/0001-x/#context',
        'adrs/0001-x/',
        '/home-lab/favicon.svg',
        '#top',
        'https://example.org/x',
        // Built, but served at /home-lab/adrs/0001-x/: from the bare root it leaves the site.
        '/adrs/0001-x/',
        '/home-lab/adrs/0002-missing/',
      ]),
    );
    expect(findBrokenLinks(dist, '/home-lab')).toEqual([
      { page: '/home-lab/', href: '/adrs/0001-x/' },
      { page: '/home-lab/', href: '/home-lab/adrs/0002-missing/' },
    ]);
    // The same build read at / is the other way round.
    expect(findBrokenLinks(dist).map((b) => b.href)).toContain('/home-lab/adrs/0001-x/');
  });
});

describe('the site built under /home-lab', () => {
  let dist: string;
  let output: string;

  beforeAll(() => {
    dist = mkdtempSync(join(tmpdir(), 'site-base-'));
    ({ output } = buildSite(ROOT, { ...PAGES, SITE_RUNS_DIR: FIXTURE_RUNS }, dist));
  });
  afterAll(() => dist && rmSync(dist, { recursive: true, force: true }));

  test('passes both link checks', () => {
    expect(output).toMatch(/All internal links are valid/);
    expect(output).toMatch(/every internal link resolves/);
  });

  test('every internal href and src in every page is under /home-lab/', () => {
    const pages = globSync('**/*.html', { cwd: dist });
    expect(pages.length).toBeGreaterThan(50);
    const outside: string[] = [];
    for (const page of pages) {
      const html = readFileSync(join(dist, page), 'utf8');
      for (const [, url] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
        const external = /^[a-z][a-z0-9+.-]*:/i.test(url!) || url!.startsWith('//');
        if (!external && !url!.startsWith('#') && !url!.startsWith('/home-lab/')) outside.push(`${page}: ${url}`);
      }
    }
    expect(outside).toEqual([]);
  });

  test('builds the pages of every kind, linked to each other under the base', () => {
    for (const page of ['index.html', 'runbooks/k3s-upgrade/index.html', 'adrs/index.html', 'runs/index.html'])
      expect(existsSync(join(dist, page)), page).toBe(true);
    // A run page's "view step" links go to its procedure's steps (src/lib/pages.ts) under the base.
    const [runPage] = globSync('runs/cluster-backup/*/index.html', { cwd: dist });
    expect(runPage).toBeDefined();
    expect(readFileSync(join(dist, runPage!), 'utf8')).toContain('href="/home-lab/runbooks/cluster-backup/#step-');
    const home = readFileSync(join(dist, 'index.html'), 'utf8');
    // The hero's actions (frontmatter), a component's link, and a link written in Markdown.
    expect(home).toContain('href="/home-lab/runs/"');
    expect(home).toContain('href="/home-lab/architecture/hardware/"');
    const upgrade = readFileSync(join(dist, 'runbooks/k3s-upgrade/index.html'), 'utf8');
    // Written in its Markdown as [ADR-0005](/adrs/0005-ingress-traefik/); ADRs are not in the sidebar.
    expect(upgrade).toContain('href="/home-lab/adrs/0005-ingress-traefik/"');
    expect(readFileSync(join(dist, 'sitemap-0.xml'), 'utf8')).toContain(
      'https://example.github.io/home-lab/runbooks/k3s-upgrade/',
    );
  });
});

describe('a broken link under /home-lab still fails the build', () => {
  let dir: string;
  // In beforeAll, not at collection: a run that filters these tests out leaves no sandbox behind.
  beforeAll(() => {
    dir = makeSandbox('site-base-links', { content: false });
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));
  const page = (title: string, body: string) => `---\ntitle: ${title}\n---\n\n${body}\n`;
  const home = { 'src/content/docs/index.mdx': page('Home', 'See [the notes](/notes/).') };

  test('a Markdown link to a missing docs page (starlight-links-validator)', () => {
    writeFiles(dir, {
      ...home,
      'src/content/docs/notes.mdx': page('Notes', 'See [home](/) and [the upgrade](/runbooks/no-such-runbook/).'),
    });
    expect(() => buildSite(dir, PAGES)).toThrow(
      /no-such-runbook[\s\S]*Links validation failed|Links validation failed[\s\S]*no-such-runbook/,
    );
  });

  test('a link to a missing ADR route, which only the dist-wide check sees', () => {
    writeFiles(dir, {
      ...home,
      'src/content/docs/notes.mdx': page('Notes', 'See [home](/) and [ADR-0099](/adrs/0099-no-such-decision/).'),
    });
    expect(() => buildSite(dir, PAGES)).toThrow(
      /broken internal link[\s\S]*\/home-lab\/notes\/ → \/home-lab\/adrs\/0099-no-such-decision\//,
    );
  });
});
