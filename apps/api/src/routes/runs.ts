// /v1/runs: submit (deduplicated by spec hash, Idempotency-Key aware), list and search, inspect, metrics,
// checkpoints, cancel and retry.
import {
  type BulkRunResult,
  downsampledSeries,
  type JsonObject,
  metricNames,
  RUN_STATUSES,
  type Run,
  type RunRef,
  SORT_DESCRIPTION,
  searchRuns,
} from '@swavlab/db';
import {
  DEFAULT_PRIORITY,
  DEFAULT_REDIS_TIMEOUT_MS,
  enqueueNewRuns,
  enqueueRun,
  publishCancel,
  QueueUnavailable,
} from '@swavlab/queue';
import {
  applyRecipe,
  checkSpecRules,
  ExperimentSpecFields,
  hashValidSpec,
  learningCheck,
  RunCheckpointsView,
  RunDetailView,
  RunList,
  RunMetricsView,
  RunView,
  SubmittedRunView,
  specWarnings,
  WHEN_FIELDS_VALID,
} from '@swavlab/spec';
import { withDeadline } from '@swavlab/telemetry';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { requireCapacity } from '../capacity.js';
import type { AppContext, RouteOptions } from '../context.js';
import { requireSpecPaths } from '../data-roots.js';
import { folderImageCount } from '../dataset-size.js';
import { problemResponses } from '../openapi.js';
import { notFound, ProblemError } from '../problem.js';
import { CSV_CONTENT_TYPE, toCsv } from '../queries/csv.js';
import { guardRedis } from '../redis-guard.js';
import { checkpointView, evaluationView, metricPointView, runView } from '../run-view.js';
import { listParam, ResourceId, type ZodTypeProvider } from '../validation.js';

export const Priority = z
  .int()
  .min(1)
  .max(1000)
  .meta({ description: `queue priority, 1 runs first; default ${DEFAULT_PRIORITY}` });

/** An experiment spec plus the submission's `priority`; `name` and `tags` are already part of the spec. */
export const RunSubmission = z
  .preprocess(
    applyRecipe,
    ExperimentSpecFields.safeExtend({ priority: Priority.optional() }).superRefine(
      checkSpecRules,
      WHEN_FIELDS_VALID,
    ),
  )
  .meta({ id: 'RunSubmission' });

const RunParams = z.strictObject({ id: ResourceId });

const MetricName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_@./:-]+$/);

const ListQuery = z.strictObject({
  status: listParam(z.enum(RUN_STATUSES), RUN_STATUSES.length).optional(),
  grid: ResourceId.optional(),
  tag: z.string().min(1).max(64).optional(),
  q: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .meta({ description: 'search expression, e.g. metrics.knn_top1@20 > 0.5' }),
  sort: z.string().min(1).max(210).optional().meta({ description: SORT_DESCRIPTION }),
  page_size: z.coerce.number().int().min(1).max(500).default(50),
  page_token: z.string().min(1).max(500).optional(),
});

const MetricsQuery = z.strictObject({
  name: listParam(MetricName, 50)
    .optional()
    .meta({ description: 'metric names; default: every metric of the run' }),
  max_points: z.coerce.number().int().min(2).max(100_000).default(2000),
  format: z
    .enum(['json', 'csv'])
    .default('json')
    .meta({ description: '`csv` answers text/csv with the columns name, step, epoch, value, time' }),
});

async function loadRun(ctx: AppContext, id: string): Promise<Run> {
  const run = await ctx.db.runs.getRun(id);
  if (run === null) throw notFound('run', id);
  return run;
}

/** Puts a queued run on the queue; idempotent, so a run whose earlier enqueue was lost is healed here. */
export async function enqueueQueued(ctx: AppContext, run: RunRef): Promise<void> {
  if (run.status !== 'queued') return;
  await guardRedis(ctx.redis, `enqueue run ${run.id}`, () =>
    enqueueRun(ctx.queue, { runId: run.id, specHash: run.specHash, priority: run.priority }),
  );
}

/** Enqueues runs one by one (each is a few Redis round trips), several at a time. */
export async function enqueueEach(ctx: AppContext, runs: readonly RunRef[], concurrency = 64): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const run = runs[next++] as RunRef;
      await enqueueQueued(ctx, run);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, runs.length) }, worker));
}

/**
 * Enqueues the runs of a bulk insert (a grid's cells, a suite's candidates): the inserted ones with one `addBulk`
 * per chunk (none of them can have a job yet), the others (reset to queued, or already there) one by one.
 */
export async function enqueueBulk(ctx: AppContext, results: readonly BulkRunResult[]): Promise<void> {
  const fresh = results.filter((result) => result.inserted && result.run.status === 'queued');
  await guardRedis(ctx.redis, `enqueue ${fresh.length} runs`, () =>
    enqueueNewRuns(
      ctx.queue,
      fresh.map(({ run }) => ({ runId: run.id, specHash: run.specHash, priority: run.priority })),
    ),
  );
  await enqueueEach(
    ctx,
    results.filter((result) => !result.inserted).map(({ run }) => run),
  );
}

async function submitRun(
  ctx: AppContext,
  submission: z.output<typeof RunSubmission>,
): Promise<{ status: 200 | 201; body: z.input<typeof SubmittedRunView> }> {
  const { priority, ...spec } = submission;
  await requireSpecPaths(spec, ctx.config.dataRoots);
  await requireCapacity(ctx, [{ spec, prefix: '' }]);
  const { name, tags, ...stored } = spec;
  const { run, created } = await ctx.db.runs.createRun({
    spec: stored as unknown as JsonObject,
    specHash: hashValidSpec(spec),
    seed: spec.seed,
    name: name ?? null,
    tags,
    priority: priority ?? DEFAULT_PRIORITY,
  });
  try {
    await enqueueQueued(ctx, run);
  } catch (error) {
    if (!(error instanceof QueueUnavailable)) throw error;
    // The row stays queued: the workers' reconciler enqueues it once Redis answers again.
    throw new ProblemError(
      503,
      'queue_unavailable',
      `run ${run.id} is recorded, but the queue (Redis) is not reachable: it is queued as soon as Redis is back ` +
        '(submitting the same spec again returns this run)',
      [],
      { 'retry-after': '5' },
    );
  }
  return {
    status: created ? 201 : 200,
    body: {
      ...runView(run),
      deduplicated: !created,
      warnings: specWarnings(spec, { images: await folderImageCount(spec, ctx.config.dataRoots) }),
    },
  };
}

export const runRoutes: FastifyPluginAsync<RouteOptions> = async (instance, { ctx }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/runs',
    {
      config: { scope: 'submit' },
      schema: {
        summary: 'Submit a run',
        description:
          'Validates the spec, applies defaults and queues a run. A spec identical (after defaults) to an existing ' +
          'run that did not fail returns that run with 200 and `deduplicated: true`. With an Idempotency-Key, ' +
          'a retry with the same body gets the first response again.',
        tags: ['runs'],
        body: RunSubmission,
        response: {
          200: SubmittedRunView,
          201: SubmittedRunView,
          ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { status, body, headers } = await ctx.idempotency.serve(request, request.body, () =>
        submitRun(ctx, request.body),
      );
      return reply.code(status).headers(headers).send(body);
    },
  );

  app.get(
    '/runs',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List and search runs',
        description:
          'Newest first unless `sort` says otherwise. `q` is a search expression: comparisons (=, !=, <, <=, >, >=, IN, LIKE) on status, name, id, ' +
          'grid, tag, metrics.<name> and spec paths, combined with AND, OR, NOT and parentheses, e.g. ' +
          '`metrics.knn_top1@20 > 0.5 and swav.prototypes = 3000`.',
        tags: ['runs'],
        querystring: ListQuery,
        response: {
          200: RunList,
          ...problemResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { status, grid, tag, q, sort, page_size, page_token } = request.query;
      const page = await searchRuns(ctx.db, {
        statuses: status,
        grid,
        tag,
        q,
        sort,
        pageSize: page_size,
        pageToken: page_token,
      });
      const now = new Date();
      return { runs: page.runs.map((run) => runView(run, now)), next_page_token: page.nextPageToken };
    },
  );

  app.get(
    '/runs/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Get a run',
        tags: ['runs'],
        params: RunParams,
        response: { 200: RunDetailView, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const run = await loadRun(ctx, request.params.id);
      const [latest, evaluations] = await Promise.all([
        ctx.db.metrics.latestMetrics(run.id),
        ctx.db.evaluations.listEvaluations(run.id),
      ]);
      return {
        ...runView(run),
        last_metrics: Object.fromEntries(latest.map((point) => [point.name, metricPointView(point)])),
        evaluations: evaluations.map(evaluationView),
        learning_check: learningCheck(evaluations),
      };
    },
  );

  app.get(
    '/runs/:id/metrics',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A run's metric series",
        description:
          'Each series is downsampled to `max_points` in the database by min/max bucketing: the first and last ' +
          'points are kept, the steps between them are cut into (max_points − 2) / 2 equal ranges, and each range ' +
          'keeps its lowest and its highest point (a non-finite value counts as the highest).',
        tags: ['runs'],
        params: RunParams,
        querystring: MetricsQuery,
        response: {
          200: {
            description: 'the series',
            content: { 'application/json': { schema: RunMetricsView }, 'text/csv': { schema: z.string() } },
          },
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const run = await loadRun(ctx, request.params.id);
      const { max_points: maxPoints, format } = request.query;
      const names = request.query.name ?? (await metricNames(ctx.db, [run.id]));
      const series = await Promise.all(
        [...new Set(names)].map((name) => downsampledSeries(ctx.db, run.id, name, maxPoints)),
      );
      const views = series.map((one) => ({
        name: one.name,
        total_points: one.totalPoints,
        points: one.points.map(metricPointView),
      }));
      if (format === 'csv') {
        return reply.type(CSV_CONTENT_TYPE).send(
          toCsv(
            ['name', 'step', 'epoch', 'value', 'time'],
            views.flatMap((one) => one.points.map((p) => [one.name, p.step, p.epoch, p.value, p.time])),
          ),
        );
      }
      return { run_id: run.id, series: views };
    },
  );

  app.get(
    '/runs/:id/checkpoints',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A run's checkpoints",
        tags: ['runs'],
        params: RunParams,
        response: {
          200: RunCheckpointsView,
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const run = await loadRun(ctx, request.params.id);
      const checkpoints = await ctx.db.checkpoints.listCheckpoints(run.id);
      return { run_id: run.id, checkpoints: checkpoints.map(checkpointView) };
    },
  );

  app.post(
    '/runs/:id/cancel',
    {
      config: { scope: 'submit' },
      schema: {
        summary: 'Cancel a run',
        description:
          'A queued run is canceled at once and leaves the queue; a running run becomes `stopping` until its worker ' +
          'has checkpointed and stopped. Canceling a canceled or stopping run changes nothing.',
        tags: ['runs'],
        params: RunParams,
        response: { 200: RunView, ...problemResponses(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request) => {
      const run = await ctx.db.runs.requestCancel(request.params.id);
      if (run === null) throw notFound('run', request.params.id);
      if (run.status === 'succeeded' || run.status === 'failed') {
        throw new ProblemError(
          409,
          'run_finished',
          `run ${run.id} already ${run.status}; there is nothing to cancel`,
        );
      }
      if (run.status === 'canceled') {
        // Removing a job that is gone already is a no-op; a job a worker holds is locked and stays.
        await guardRedis(ctx.redis, `remove job ${run.id}`, () =>
          withDeadline(
            ctx.queue.remove(run.id),
            DEFAULT_REDIS_TIMEOUT_MS,
            () => new QueueUnavailable(`remove job ${run.id}: Redis did not answer`),
          ),
        );
      } else {
        await guardRedis(ctx.redis, `cancel run ${run.id}`, () => publishCancel(ctx.redis, run.id));
      }
      return runView(run);
    },
  );

  app.post(
    '/runs/:id/retry',
    {
      config: { scope: 'submit' },
      schema: {
        summary: 'Retry a failed or canceled run',
        description: 'Queues the run again; it resumes from its latest checkpoint.',
        tags: ['runs'],
        params: RunParams,
        response: { 200: RunView, ...problemResponses(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request) => {
      const retried = await ctx.db.runs.retryRun(request.params.id);
      if (retried === null) {
        const run = await loadRun(ctx, request.params.id);
        throw new ProblemError(
          409,
          'not_retryable',
          `only failed or canceled runs can be retried; run ${run.id} is ${run.status}`,
        );
      }
      await enqueueQueued(ctx, retried);
      return runView(retried);
    },
  );
};
