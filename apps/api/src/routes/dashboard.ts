// Serves the dashboard's built assets (apps/dashboard/dist) at `/`: index.html at `/`, hashed bundles under
// `/assets/`. Only the files present at start-up are routed, so API paths keep their own not-found problems.
// Without a build, `/` says how to make one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** apps/dashboard/dist, seen from both apps/api/src/routes and apps/api/dist/routes. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

export interface DashboardOptions {
  /** The folder holding index.html; default apps/dashboard/dist. */
  root?: string;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>swavlab</title></head>
<body><h1>swavlab</h1>
<p>The dashboard has not been built. Run <code>npm run build</code> in the repository, then restart the server.</p>
<p>The API is at <a href="/v1/runs">/v1</a>, its documentation at <a href="/docs">/docs</a>.</p>
</body></html>
`;

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  const root = options.root ?? DEFAULT_DASHBOARD_DIR;
  if (!existsSync(`${root}/index.html`)) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT_PAGE),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    setHeaders: (reply, path) => {
      // Bundles carry a content hash in their name; index.html must be revalidated to pick up a new build.
      reply.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
      reply.header('x-content-type-options', 'nosniff');
    },
  });
};
