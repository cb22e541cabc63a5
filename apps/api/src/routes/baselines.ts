// /v1/baselines: promoting a passing regression's candidate runs to a new version of a named baseline of its
// suite, and reading a baseline (latest version, or a given one).
import type { Baseline } from '@swavlab/db';
import {
  BaselineRequest,
  type BaselineView,
  BaselineView as BaselineViewSchema,
  RegressionName,
  RegressionSuite,
} from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { notFound, ProblemError } from '../problem.js';
import { baselineMetricList, baselineMetricsOf } from '../regressions/baseline-metrics.js';
import { candidateValues, groupByCell } from '../regressions/candidates.js';
import { settleRegression } from '../regressions/settle.js';
import type { ZodTypeProvider } from '../validation.js';

function baselineView(baseline: Baseline): BaselineView {
  return {
    name: baseline.name,
    version: baseline.version,
    suite_name: baseline.suiteName,
    run_ids: baseline.runIds,
    metrics: baselineMetricList(baseline),
    created_at: baseline.createdAt.toISOString(),
  };
}

function sameRuns(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return a.length === b.length && b.every((id) => set.has(id));
}

export const baselineRoutes: FastifyPluginAsync<RouteOptions> = async (instance, { ctx }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/baselines',
    {
      config: { scope: 'submit' },
      schema: {
        summary: "Promote a passing regression's candidate runs to a new baseline version",
        description:
          "Creates the next version of baseline `name` of the regression's suite from the final metric values of " +
          'its candidate runs. Only a finished regression whose verdict is `pass` can be promoted (409 otherwise). ' +
          'When the latest version already is exactly this run set, it is returned with 200 instead.',
        tags: ['regressions'],
        body: BaselineRequest,
        response: {
          200: BaselineViewSchema,
          201: BaselineViewSchema,
          ...problemResponses(400, 401, 403, 404, 409, 415, 429),
        },
      },
    },
    async (request, reply) => {
      const { name, regression_id: id } = request.body;
      const stored = await ctx.db.regressions.getRegressionRun(id);
      if (stored === null) throw notFound('regression', id);
      const { regression, runs } = await settleRegression(ctx, stored);
      if (regression.verdict === null) {
        throw new ProblemError(
          409,
          'regression_running',
          `regression ${id} is still running; wait for its verdict`,
        );
      }
      if (regression.verdict !== 'pass') {
        throw new ProblemError(
          409,
          'regression_not_passing',
          `regression ${id} has verdict ${regression.verdict}; only a passing regression can become a baseline`,
        );
      }
      const latest = await ctx.db.baselines.getBaseline(regression.suiteName, name);
      if (latest !== null && sameRuns(latest.runIds, regression.candidateRunIds)) {
        return reply.code(200).send(baselineView(latest));
      }
      const suite = RegressionSuite.parse(regression.suite);
      const values = await candidateValues(
        ctx,
        runs,
        suite.metrics.map((m) => m.name),
      );
      const created = await ctx.db.baselines.createBaseline({
        name,
        suiteName: regression.suiteName,
        runIds: regression.candidateRunIds,
        metrics: baselineMetricsOf(groupByCell(runs), values),
      });
      return reply.code(201).send(baselineView(created));
    },
  );

  app.get(
    '/baselines/:name',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A baseline of a suite: its latest version, or the given one',
        tags: ['regressions'],
        params: z.strictObject({ name: RegressionName }),
        querystring: z.strictObject({
          suite: RegressionName,
          version: z.coerce
            .number()
            .int()
            .min(1)
            .max(2 ** 31 - 1)
            .optional(),
        }),
        response: { 200: BaselineViewSchema, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { suite, version } = request.query;
      const baseline = await ctx.db.baselines.getBaseline(suite, name, version);
      if (baseline === null) {
        throw notFound(
          `baseline of suite ${JSON.stringify(suite)}${version === undefined ? '' : ` version ${version}`}`,
          name,
        );
      }
      return baselineView(baseline);
    },
  );
};
