import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';

/**
 * The sidebar, built from what exists: a section appears once its folder has
 * pages, so the site builds (and every sidebar link resolves) while content
 * is still being written.
 */
const DOCS = 'src/content/docs';

function hasPages(directory: string, root: string): boolean {
  const dir = join(root, DOCS, directory);
  return existsSync(dir) && globSync(['**/*.md', '**/*.mdx'], { cwd: dir, ignore: ['**/_*'] }).length > 0;
}

function hasPage(slug: string, root: string): boolean {
  return ['.md', '.mdx'].some((ext) => existsSync(join(root, DOCS, `${slug}${ext}`)));
}

export function labSidebar(root = process.cwd()) {
  const group = (label: string, directory: string) =>
    hasPages(directory, root) ? [{ label, items: [{ autogenerate: { directory } }] }] : [];
  const page = (label: string, slug: string) => (hasPage(slug, root) ? [{ label, link: `/${slug}/` }] : []);
  return [
    { label: 'Home', link: '/' },
    ...group('Architecture', 'architecture'),
    ...group('Weekends', 'weekends').map((g) => ({
      ...g,
      items: [{ label: 'Progress', link: '/weekends/' }, ...g.items],
    })),
    ...group('Runbooks', 'runbooks').map((g) => ({ ...g, items: [...g.items, { label: 'All runs', link: '/runs/' }] })),
    ...group('Incidents', 'incidents'),
    { label: 'ADRs', link: '/adrs/' },
    ...page('Roadmap', 'roadmap'),
    ...group('Notebook', 'notebook'),
    ...group('Reference', 'reference'),
  ];
}
