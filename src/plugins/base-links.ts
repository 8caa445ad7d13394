import type { AstroIntegration } from 'astro';
import type { HastPluginDefinition, HastVisitorContext, MdxJsxFlowElementHast, MdxJsxTextElementHast } from 'satteri';

/**
 * Content writes site links from the root (`/runbooks/k3s-upgrade/`), as the site reads at `/`.
 * GitHub Pages serves a project site under `/<repo>/`, where such a link leaves the site. This
 * puts the base in front of them in every Markdown and MDX page.
 */

/** `base` with one leading and one trailing slash: `/`, `/home-lab/` (configure-pages gives `/home-lab`). */
export function normalizeBase(base: string | undefined): string {
  const inner = (base ?? '').replace(/^\/+|\/+$/g, '');
  return inner ? `/${inner}/` : '/';
}

/**
 * `url` under `base` when it is root-relative: `/x/` becomes `/home-lab/x/`. Links already under
 * the base, protocol-relative (`//host/x`), relative, hash-only and absolute URLs come back as
 * they are, so applying it twice changes nothing.
 */
export function withBase(url: string, base: string): string {
  const root = normalizeBase(base);
  if (root === '/' || !url.startsWith('/') || url.startsWith('//')) return url;
  const bare = root.slice(0, -1);
  if (url.startsWith(root) || url === bare || url.startsWith(`${bare}#`) || url.startsWith(`${bare}?`)) return url;
  return `${root}${url.slice(1)}`;
}

/** The attributes whose value is a URL the browser follows or loads. */
const URL_ATTRIBUTES = ['href', 'src'];

/** A satteri hast plugin: each string `href`/`src` of an HTML or MDX JSX element through withBase(); none at `/`. */
export function baseLinksPlugin(base: string): HastPluginDefinition | undefined {
  const root = normalizeBase(base);
  if (root === '/') return undefined;
  const jsx = (node: Readonly<MdxJsxFlowElementHast | MdxJsxTextElementHast>, ctx: HastVisitorContext) => {
    for (const attribute of node.attributes) {
      if (attribute.type !== 'mdxJsxAttribute' || !URL_ATTRIBUTES.includes(attribute.name)) continue;
      if (typeof attribute.value !== 'string') continue; // an expression: the component's own business
      const prefixed = withBase(attribute.value, root);
      if (prefixed !== attribute.value) ctx.setProperty(node, attribute.name, prefixed);
    }
  };
  return {
    name: 'base-links',
    element: {
      filter: [],
      visit(node, ctx) {
        for (const key of URL_ATTRIBUTES) {
          const value = node.properties[key];
          if (typeof value !== 'string') continue;
          const prefixed = withBase(value, root);
          if (prefixed !== value) ctx.setProperty(node, key, prefixed);
        }
      },
    },
    mdxJsxFlowElement: { filter: [], visit: jsx },
    mdxJsxTextElement: { filter: [], visit: jsx },
  };
}

/**
 * Registers baseLinksPlugin() with the site's base on Astro's Markdown processor (satteri, which
 * MDX shares). List it before starlight(): hast plugins run in the order they are added, and
 * starlight-links-validator's, added by Starlight, must read the links with the base in place.
 */
export function baseLinks(): AstroIntegration {
  return {
    name: 'base-links',
    hooks: {
      'astro:config:setup': ({ config }) => {
        const plugin = baseLinksPlugin(config.base);
        if (!plugin) return;
        const processor = config.markdown.processor as { name?: string; options?: { hastPlugins?: unknown[] } };
        if (processor?.name !== 'satteri' || !Array.isArray(processor.options?.hastPlugins))
          throw new Error(
            `astro.config.mjs: base-links needs the satteri Markdown processor (got ${processor?.name ?? 'none'}); ` +
              'without it, content links miss the base path. Remove markdown.processor or port src/plugins/base-links.ts.',
          );
        processor.options.hastPlugins.push(plugin);
      },
    },
  };
}
