/**
 * A broken internal link fails the build, whichever check catches it:
 * starlight-links-validator for Markdown links between docs pages, and the
 * site's own dist-wide check for links to routes it cannot see (ADR and run
 * pages) and links rendered by components. Real `astro build`s of a sandbox.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildSite, makeSandbox, writeFiles } from './harness.ts';
import { findBrokenLinks } from '../../src/plugins/internal-links.ts';

/** Whatever the caller's environment says, these builds must fail on broken links. */
const STRICT = { SITE_LINKS: 'fail' };

const page = (title: string, body: string) => `---\ntitle: ${title}\n---\n\n${body}\n`;

describe('findBrokenLinks', () => {
  const dist = mkdtempSync(join(tmpdir(), 'links-'));
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  test('resolves absolute, relative and hash links against built files', () => {
    const html = (links: string[]) => links.map((l) => `<a class="x" href="${l}">x</a>`).join('');
    mkdirSync(join(dist, 'a/b'), { recursive: true });
    mkdirSync(join(dist, 'adrs/0001-x'), { recursive: true });
    writeFileSync(join(dist, 'adrs/0001-x/index.html'), '');
    writeFileSync(join(dist, 'favicon.svg'), '');
    writeFileSync(
      join(dist, 'a/b/index.html'),
      html([
        '/adrs/0001-x/',
        '/adrs/0001-x/#context',
        '../../adrs/0001-x/',
        '/favicon.svg',
        '#top',
        'https://example.org/x',
        'mailto:a@b',
        '/adrs/0002-missing/',
        '../missing/',
        '/runs/x/?q=1',
      ]),
    );
    writeFileSync(join(dist, 'index.html'), html(['/a/b/']));
    expect(findBrokenLinks(dist)).toEqual([
      { page: '/a/b/', href: '/adrs/0002-missing/' },
      { page: '/a/b/', href: '../missing/' },
      { page: '/a/b/', href: '/runs/x/?q=1' },
    ]);
  });
});

describe('astro build', () => {
  const dir = makeSandbox('site-links', { content: false });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = {
    'src/content/docs/index.mdx': page('Home', 'A sandbox home page.'),
    'src/content/docs/runbooks/demo.mdx': `---\ntitle: Demo\nrunbook:\n  risk: low\n  cluster: homelab\n---\n\n\`\`\`bash step=hello check\necho hello\n\`\`\`\n`,
  };

  test('succeeds when every link resolves', () => {
    writeFiles(dir, {
      ...base,
      'src/content/docs/notes.mdx': page('Notes', 'See [the demo](/runbooks/demo/) and [all decisions](/adrs/).'),
    });
    expect(() => buildSite(dir, STRICT)).not.toThrow();
  });

  test('fails on a Markdown link to a missing docs page', () => {
    writeFiles(dir, {
      ...base,
      'src/content/docs/notes.mdx': page('Notes', 'See [the upgrade](/runbooks/no-such-runbook/).'),
    });
    expect(() => buildSite(dir, STRICT)).toThrow(
      /no-such-runbook[\s\S]*Links validation failed|Links validation failed[\s\S]*no-such-runbook/,
    );
  });

  test('fails on a link to a missing ADR route, which the validator cannot see', () => {
    writeFiles(dir, {
      ...base,
      'src/content/docs/notes.mdx': page('Notes', 'See [ADR-0099](/adrs/0099-no-such-decision/).'),
    });
    expect(() => buildSite(dir, STRICT)).toThrow(
      /broken internal link[\s\S]*\/notes\/ → \/adrs\/0099-no-such-decision\//,
    );
  });
});
