// /v1/compare: 2–10 runs side by side (their spec differences, final metrics and evaluations); their curves
// come from /v1/runs/{id}/metrics.
import { runMetrics } from '@swavlab/db';
import { CompareView } from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { ProblemError } from '../problem.js';
import { specDifferences } from '../queries/compare.js';
import { listParam, ResourceId, type ZodTypeProvider } from '../validation.js';

const CompareQuery = z.strictObject({
  ids: listParam(ResourceId, 10)
    .refine((ids) => ids.length >= 2, { message: 'must list 2 to 10 run ids' })
    .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat a run id' })
    .meta({ description: '2 to 10 distinct run ids, comma-separated or repeated' }),
});

export const compareRoutes: FastifyPluginAsync<RouteOptions> = async (instance, { ctx }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/compare',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Compare runs side by side',
        tags: ['runs'],
        querystring: CompareQuery,
        response: { 200: CompareView, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { ids } = request.query;
      const runs = await ctx.db.runs.getRuns(ids);
      const found = new Set(runs.map((run) => run.id));
      const missing = ids.findIndex((id) => !found.has(id));
      if (missing >= 0) {
        const detail = `run ${JSON.stringify(ids[missing])} does not exist`;
        throw new ProblemError(404, 'not_found', detail, [{ path: `ids[${missing}]`, message: detail }]);
      }
      const metrics = await runMetrics(ctx.db, runs);
      return {
        runs: runs.map((run) => ({
          id: run.id,
          name: run.name,
          status: run.status,
          seed: run.seed,
          grid_id: run.gridId,
        })),
        spec_differences: specDifferences(runs.map((run) => run.spec)),
        final_metrics: metrics.finalMetrics,
        evaluations: metrics.evaluations,
      };
    },
  );
};
