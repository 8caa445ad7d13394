/**
 * Who the site belongs to and where it lives. The landing page, header links
 * and footer read these values; nothing else in the site names a person.
 */
export const siteConfig = {
  title: 'K3s Home Lab',
  tagline:
    'A three-node K3s cluster, documented as code: decisions, build plans and runbooks that execute, with the evidence of every run beside them.',
  /** Public URL of the built site (used for canonical links and the sitemap). */
  url: 'https://lab.example.org',
  repository: 'https://github.com/tjetzinger/home-lab',
  /** The one place that names a person: change these to make the site yours. */
  owner: {
    name: 'Tom Jetzinger',
    role: 'Platform engineering · Kubernetes · systems architecture',
    links: [
      { label: 'GitHub', href: 'https://github.com/tjetzinger', icon: 'github' },
      { label: 'LinkedIn', href: 'https://www.linkedin.com/in/tjetzinger/', icon: 'linkedin' },
    ],
  },
} as const;

export type SiteConfig = typeof siteConfig;
