import { defineRouteMiddleware } from '@astrojs/starlight/route-data';

/**
 * Runbook pages end with a run history the Markdown does not contain:
 * list it in the table of contents so it is one click away.
 */
export const onRequest = defineRouteMiddleware((context) => {
  const route = context.locals.starlightRoute;
  if (!route.entry.data.runbook || !route.toc) return;
  route.toc.items.push({ depth: 2, slug: 'run-history', text: 'Run history', children: [] });
});
