// /v1/whoami: the caller's principal and scopes, so that a client hides what the token may not do.
import { WhoAmIView } from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { isScope } from '../scopes.js';
import type { ZodTypeProvider } from '../validation.js';

export const whoAmIRoutes: FastifyPluginAsync<RouteOptions> = async (instance) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/whoami',
    {
      config: { scope: 'read' },
      schema: {
        summary: "The caller's principal and scopes",
        description: 'An open local server answers `anonymous` with every scope.',
        tags: ['auth'],
        response: { 200: WhoAmIView, ...problemResponses(401, 403, 429) },
      },
    },
    async (request) => {
      const principal = request.principal;
      return {
        principal: principal?.id ?? 'anonymous',
        scopes: (principal?.scopes ?? []).filter(isScope),
      };
    },
  );
};
