// /v1/regressions: CI regression checks (a suite's candidate runs compared against a baseline), their verdicts,
// and /v1/suites/{name}/history: a metric of a suite over the commits it was checked at.
import { InvalidInputError, type RegressionRun } from '@swavlab/db';
import {
  cellKey,
  isMetricName,
  RegressionList,
  RegressionName,
  RegressionReport,
  RegressionRequest,
  RegressionView,
  SuiteHistory,
  type SuiteHistoryPoint,
} from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AppContext, RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { notFound, validationProblem } from '../problem.js';
import { type CandidateRun, progressOf } from '../regressions/candidates.js';
import { createRegression } from '../regressions/create.js';
import { settleRegression } from '../regressions/settle.js';
import { ResourceId, type ZodTypeProvider } from '../validation.js';

function regressionView(regression: RegressionRun, runs: readonly CandidateRun[]): RegressionView {
  const finished = regression.verdict !== null;
  return {
    id: regression.id,
    suite_name: regression.suiteName,
    baseline:
      regression.baselineVersion === null
        ? null
        : { name: regression.baselineName, version: regression.baselineVersion },
    commit: regression.commit,
    branch: regression.branch,
    ci_url: regression.ciUrl,
    created_at: regression.createdAt.toISOString(),
    finished_at: regression.finishedAt?.toISOString() ?? null,
    status: finished ? 'finished' : 'running',
    verdict: regression.verdict,
    progress: progressOf(runs),
    candidate_run_ids: regression.candidateRunIds,
    report: regression.report === null ? null : RegressionReport.parse(regression.report),
  };
}

/** The view of a regression, settling it first (the verdict is computed by the first read that can). */
async function settledView(ctx: AppContext, regression: RegressionRun): Promise<RegressionView> {
  const settled = await settleRegression(ctx, regression);
  return regressionView(settled.regression, settled.runs);
}

const ListQuery = z.strictObject({
  suite: RegressionName.optional(),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
  page_token: z.string().min(1).max(500).optional(),
});

const HistoryQuery = z.strictObject({
  metric: z
    .string()
    .refine(isMetricName, { message: 'must be a metric name such as knn_top1@20, linear_top1 or loss' }),
});

/** One point per cell of each finished regression that has `metric` in its report, oldest first. */
function historyPoints(regressions: readonly RegressionRun[], metric: string): SuiteHistoryPoint[] {
  return regressions.flatMap((regression) => {
    const report = RegressionReport.safeParse(regression.report);
    const verdict = regression.verdict;
    if (!report.success || verdict === null) return [];
    const seen = new Set<string>();
    return report.data.metrics.flatMap((row) => {
      const key = cellKey(row.cell);
      // A metric listed with two tolerances has the same candidate values twice.
      if (row.name !== metric || seen.has(key)) return [];
      seen.add(key);
      return [
        {
          regression_id: regression.id,
          commit: regression.commit,
          branch: regression.branch,
          created_at: regression.createdAt.toISOString(),
          verdict,
          cell: row.cell,
          mean: row.candidate.mean,
          std: row.candidate.std,
          n: row.candidate.n,
        },
      ];
    });
  });
}

export const regressionRoutes: FastifyPluginAsync<RouteOptions> = async (instance, { ctx }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/regressions',
    {
      config: { scope: 'submit' },
      schema: {
        summary: 'Run a regression suite against a baseline',
        description:
          'Validates the suite, stores the regression and queues its candidate runs (always fresh runs, never the ' +
          'results of earlier ones). The verdict is computed once every candidate run has ended: poll ' +
          'GET /v1/regressions/{id}. Without a baseline of that name for the suite the verdict is `error` at ' +
          'once, unless `promote_if_missing` is set: then the candidate runs become its version 1 if they pass.',
        tags: ['regressions'],
        body: RegressionRequest,
        response: { 202: RegressionView, ...problemResponses(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { status, body, headers } = await ctx.idempotency.serve(request, request.body, async () => ({
        status: 202 as const,
        body: await settledView(ctx, await createRegression(ctx, request.body)),
      }));
      return reply.code(status).headers(headers).send(body);
    },
  );

  app.get(
    '/regressions/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A regression: progress of its candidate runs, then its verdict and per-metric report',
        tags: ['regressions'],
        params: z.strictObject({ id: ResourceId }),
        response: { 200: RegressionView, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const regression = await ctx.db.regressions.getRegressionRun(request.params.id);
      if (regression === null) throw notFound('regression', request.params.id);
      return settledView(ctx, regression);
    },
  );

  app.get(
    '/regressions',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Regressions, newest first, optionally of one suite',
        tags: ['regressions'],
        querystring: ListQuery,
        response: { 200: RegressionList, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const page = await ctx.db.regressions
        .listRegressionRuns({
          ...(request.query.suite === undefined ? {} : { suiteName: request.query.suite }),
          pageSize: request.query.page_size,
          ...(request.query.page_token === undefined ? {} : { pageToken: request.query.page_token }),
        })
        .catch((error: unknown) => {
          if (!(error instanceof InvalidInputError && error.path === 'pageToken')) throw error;
          throw validationProblem([{ path: 'page_token', message: error.reason }], 'query parameters');
        });
      const regressions: RegressionView[] = [];
      for (const regression of page.regressions) regressions.push(await settledView(ctx, regression));
      return { regressions, next_page_token: page.nextPageToken };
    },
  );

  app.get(
    '/suites/:name/history',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A suite's metric over the commits it was checked at",
        description:
          'The candidate mean, std and n of `metric` in every finished regression of the suite (the latest 1000), ' +
          'oldest first, one point per cell of the suite.',
        tags: ['regressions'],
        params: z.strictObject({ name: RegressionName }),
        querystring: HistoryQuery,
        response: { 200: SuiteHistory, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { name } = request.params;
      const any = await ctx.db.regressions.listRegressionRuns({ suiteName: name, pageSize: 1 });
      if (any.regressions.length === 0) throw notFound('suite', name);
      const finished = await ctx.db.regressions.finishedRegressionRuns(name);
      return {
        suite_name: name,
        metric: request.query.metric,
        points: historyPoints(finished, request.query.metric),
      };
    },
  );
};
