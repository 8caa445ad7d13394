import { resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { formatZodIssues, UsageError } from '../errors.ts';
import { readProblem, readRegularFile } from '../read-file.ts';

/**
 * The site's owner and links as data: src/content/lab/site.yaml, read by src/site.config.ts for the
 * build and written by `runbook init`. Data rather than TypeScript so a tool can change it without
 * rewriting code; the schema is the one both use, so a value init writes is a value the build takes.
 */
export const SITE_FILE = 'src/content/lab/site.yaml';

/** Starlight's social icons that fit a personal link (a subset of its icon names, so the build's type accepts it). */
export const LINK_ICONS = [
  'github',
  'gitlab',
  'codeberg',
  'linkedin',
  'mastodon',
  'x.com',
  'blueSky',
  'youtube',
  'email',
  'rss',
  'discord',
  'matrix',
  'external',
] as const;
export type LinkIcon = (typeof LINK_ICONS)[number];

// http(s) only (and mailto for a link): a javascript: or data: URL would land in every page's header.
const url = (what: string, protocol = /^https?$/) =>
  z.url({ protocol, message: `${what} must be a full http(s) URL such as https://example.org` });

export const linkSchema = z
  .object({
    label: z.string().min(1, 'a link needs a label'),
    href: url('href', /^(https?|mailto)$/),
    icon: z.enum(LINK_ICONS, { message: `icon must be one of ${LINK_ICONS.join(', ')}` }),
  })
  .strict();

export const siteSchema = z
  .object({
    title: z.string().min(1, 'the site needs a title'),
    tagline: z.string().min(1, 'the site needs a tagline (one sentence on the landing page)'),
    url: url('url'),
    repository: url('repository'),
    owner: z
      .object({
        name: z.string().min(1, 'the owner needs a name'),
        role: z.string(),
        links: z.array(linkSchema),
      })
      .strict(),
  })
  .strict();

export type SiteFile = z.infer<typeof siteSchema>;
export type SiteLink = z.infer<typeof linkSchema>;

export interface LoadedSite {
  /** The file's path as given (relative to the root when it is the default). */
  file: string;
  text: string;
  doc: Document;
  site: SiteFile;
}

/** Reads and validates the site file; every problem names the file, the line and the field. */
export function loadSiteFile(root = process.cwd(), file = SITE_FILE): LoadedSite {
  let text: string;
  try {
    text = readRegularFile(resolve(root, file)).toString('utf8');
  } catch (err) {
    throw new UsageError(
      `${file}: cannot read the site settings: ${readProblem(err)}. Restore it (\`git checkout -- ${file}\`), then run \`runbook init\`.`,
    );
  }
  return { file, text, ...parseSiteFile(text, file) };
}

export function parseSiteFile(text: string, file: string): { doc: Document; site: SiteFile } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new UsageError(`${file}:${line}:${col}  invalid YAML: ${error.message.split('\n')[0]}`);
  }
  const result = siteSchema.safeParse(doc.toJS());
  if (result.success) return { doc, site: result.data };
  throw new UsageError(
    `${formatZodIssues(result.error.issues, file, (path) => {
      const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    })}\nFix ${file}, or run \`runbook init\` to write it.`,
  );
}

/** The icon a link gets from its address: the site it is on, else a plain external-link icon. */
export function iconFor(href: string): LinkIcon {
  let host = '';
  try {
    const u = new URL(href);
    if (u.protocol === 'mailto:') return 'email';
    host = u.hostname.replace(/^www\./, '');
    if (/\/@[^/]+/.test(u.pathname) && !host.endsWith('youtube.com')) return 'mastodon';
  } catch {
    return 'external';
  }
  const byHost: Record<string, LinkIcon> = {
    'github.com': 'github',
    'gitlab.com': 'gitlab',
    'codeberg.org': 'codeberg',
    'linkedin.com': 'linkedin',
    'x.com': 'x.com',
    'twitter.com': 'x.com',
    'bsky.app': 'blueSky',
    'youtube.com': 'youtube',
    'discord.gg': 'discord',
    'matrix.to': 'matrix',
  };
  const known = byHost[host];
  if (known) return known;
  return /mastodon|fosstodon|hachyderm/.test(host) ? 'mastodon' : 'external';
}
