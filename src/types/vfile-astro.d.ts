/**
 * Astro 7 no longer augments vfile's DataMap with `astro.frontmatter`, which
 * starlight-links-validator (shipped as TypeScript source) still reads. Declaring
 * the shape Astro's markdown pipeline fills keeps `tsc --noEmit` clean.
 */
import 'vfile';

declare module 'vfile' {
  interface DataMap {
    // biome-ignore lint/suspicious/noExplicitAny: `any` as in the Astro versions the plugin was written against (it indexes the values).
    astro: { frontmatter?: Record<string, any> };
  }
}
