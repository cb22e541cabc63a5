// /v1/grids: expand and submit ablation grids (or preview them with ?dry_run=true), grid status, the ablation
// table (mean, std, n, min, max per group of cells), and re-running failed cells.
import { type Grid, type JsonObject, RUN_STATUSES } from '@swavlab/db';
import { DEFAULT_PRIORITY } from '@swavlab/queue';
import {
  canonicalJson,
  expandGrid,
  type GridCell,
  GridSpec,
  getAtPath,
  isMetricName,
  isSpecLeafPath,
} from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AppContext, RouteOptions } from '../context.js';
import { requireDataPath } from '../data-roots.js';
import { gridFinalValues } from '../final-metrics.js';
import { problemResponses } from '../openapi.js';
import { notFound, validationProblem } from '../problem.js';
import { joinSql, runSql, sql } from '../sql.js';
import { summarize } from '../stats.js';
import { listParam, queryBoolean, ResourceId, type ZodTypeProvider } from '../validation.js';
import { enqueueAll } from './runs.js';

const GridParams = z.strictObject({ id: ResourceId });

const StatusCounts = z.object({
  ...Object.fromEntries(RUN_STATUSES.map((status) => [status, z.int()])),
  total: z.int(),
});

const GridView = z.object({
  id: z.string(),
  name: z.string(),
  metric: z.object({ name: z.string(), goal: z.enum(['max', 'min']) }),
  cell_count: z.int(),
  spec: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime(),
  status_counts: StatusCounts,
});

const CellView = z.object({
  index: z.int(),
  axis_values: z.record(z.string(), z.unknown()),
  seed: z.int(),
  hash: z.string(),
  existing_run_id: z.string().nullable().meta({ description: 'the run that already has this spec, if any' }),
});

const DryRunView = z.object({
  dry_run: z.literal(true),
  cell_count: z.int(),
  new_cells: z.int(),
  cells: z.array(CellView),
});

const CreatedGridView = GridView.safeExtend({
  dry_run: z.literal(false),
  runs: z.object({
    created: z.int().meta({ description: 'cells that got a new run (or re-queued a failed one)' }),
    deduplicated: z
      .int()
      .meta({ description: 'cells whose spec already had a queued, running or finished run' }),
    run_ids: z.array(z.string()).meta({ description: 'in cell order' }),
  }),
});

const GroupPath = z.string().refine((path) => isSpecLeafPath(path), {
  message: 'must be a spec leaf path such as swav.prototypes',
});

const ResultsQuery = z.strictObject({
  metric: z
    .string()
    .refine(isMetricName, { message: 'must be a metric name such as knn_top1@20, linear_top1 or loss' })
    .optional()
    .meta({ description: "default: the grid's metric" }),
  group_by: listParam(GroupPath, 16)
    .optional()
    .meta({ description: "spec paths, comma-separated or repeated; default: the grid's axes" }),
});

const ResultGroup = z.object({
  key: z.record(z.string(), z.unknown()).meta({ description: 'group_by path → value' }),
  n: z.int(),
  mean: z.number().nullable(),
  std: z.number().nullable().meta({ description: 'sample standard deviation (n − 1); null when n < 2' }),
  min: z.number().nullable(),
  max: z.number().nullable(),
  run_ids: z.array(z.string()),
});

const ResultsView = z.object({
  grid_id: z.string(),
  metric: z.string(),
  group_by: z.array(z.string()),
  groups: z.array(ResultGroup),
  runs_without_value: z.int().meta({ description: 'succeeded runs that did not report the metric' }),
  runs_not_finished: z.int().meta({ description: 'cells whose run has not succeeded (yet)' }),
});

async function loadGrid(ctx: AppContext, id: string): Promise<Grid> {
  const grid = await ctx.db.grids.getGrid(id);
  if (grid === null) throw notFound('grid', id);
  return grid;
}

async function gridView(ctx: AppContext, grid: Grid) {
  const counts = await ctx.db.grids.gridStatusCounts(grid.id);
  if (counts === null) throw notFound('grid', grid.id);
  return {
    id: grid.id,
    name: grid.name,
    metric: { name: grid.metricName, goal: grid.metricGoal },
    cell_count: grid.cellCount,
    spec: grid.spec,
    created_at: grid.createdAt.toISOString(),
    status_counts: counts,
  };
}

/** Ids of existing runs with these spec hashes (queried in chunks to stay far below the parameter limit). */
async function existingRuns(ctx: AppContext, hashes: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let start = 0; start < hashes.length; start += 1000) {
    const chunk = hashes.slice(start, start + 1000);
    const rows = await runSql<{ id: string; spec_hash: string }>(
      ctx.db,
      sql`SELECT id, spec_hash FROM runs WHERE spec_hash IN (${joinSql(
        chunk.map((hash) => sql`${hash}::text`),
        ', ',
      )})`,
    );
    for (const row of rows) found.set(row.spec_hash, row.id);
  }
  return found;
}

/** Every distinct folder a grid reads must be inside the data roots; errors name the base or the axis value. */
async function checkGridDataPaths(
  ctx: AppContext,
  grid: GridSpec,
  cells: readonly GridCell[],
): Promise<void> {
  const axis = grid.axes['data.path'];
  const checked = new Set<string>();
  for (const cell of cells) {
    const path = cell.spec.data.path;
    if (cell.spec.data.source !== 'folder' || path === undefined || checked.has(path)) continue;
    checked.add(path);
    const where = axis ? `axes["data.path"][${axis.indexOf(path)}]` : 'base.data.path';
    await requireDataPath(cell.spec.data, ctx.config.dataRoots, where);
  }
}

function describeCell(cell: GridCell): string {
  const parts = Object.entries(cell.axisValues).map(([path, value]) => `${path}=${canonicalJson(value)}`);
  return [...parts, `seed=${cell.seed}`].join(' ');
}

export const gridRoutes: FastifyPluginAsync<RouteOptions> = async (instance, { ctx }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/grids',
    {
      config: { scope: 'submit' },
      schema: {
        summary: 'Submit an ablation grid',
        description:
          'Expands the cartesian product of the axes times the seeds, validates every cell, and creates the grid ' +
          'and its runs in one transaction; cells whose spec already has a run are linked instead of duplicated. ' +
          'With `dry_run=true` nothing is stored: the response lists the cells.',
        tags: ['grids'],
        querystring: z.strictObject({ dry_run: queryBoolean.default(false) }),
        body: GridSpec,
        response: {
          200: DryRunView,
          201: CreatedGridView,
          ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const expansion = expandGrid(request.body);
      if (!expansion.ok) throw validationProblem(expansion.errors, 'grid');
      const { grid, cells } = expansion;
      await checkGridDataPaths(ctx, grid, cells);

      if (request.query.dry_run) {
        const existing = await existingRuns(
          ctx,
          cells.map((cell) => cell.hash),
        );
        return reply.code(200).send({
          dry_run: true as const,
          cell_count: cells.length,
          new_cells: cells.filter((cell) => !existing.has(cell.hash)).length,
          cells: cells.map((cell) => ({
            index: cell.index,
            axis_values: cell.axisValues,
            seed: cell.seed,
            hash: cell.hash,
            existing_run_id: existing.get(cell.hash) ?? null,
          })),
        });
      }

      const claim = await ctx.idempotency.claim<201, z.input<typeof CreatedGridView>>(request, request.body);
      if (claim.kind === 'replay') {
        return reply.code(claim.status).header('idempotent-replayed', 'true').send(claim.body);
      }
      try {
        const name = grid.name ?? `grid of ${cells.length} cells`;
        const created = await ctx.db.grids.createGrid({
          name,
          spec: grid as unknown as JsonObject,
          metricName: grid.metric.name,
          metricGoal: grid.metric.goal,
          cells: cells.map((cell) => {
            const { name: _name, tags, ...spec } = cell.spec;
            return {
              spec: spec as unknown as JsonObject,
              specHash: cell.hash,
              seed: cell.seed,
              axisValues: cell.axisValues as JsonObject,
              name: `${name} [${describeCell(cell)}]`.slice(0, 500),
              tags: [...new Set([...grid.tags, ...tags])],
              priority: DEFAULT_PRIORITY,
            };
          }),
        });
        await enqueueAll(
          ctx,
          created.runs.map(({ run }) => run),
        );
        const body = {
          ...(await gridView(ctx, created.grid)),
          dry_run: false as const,
          runs: {
            created: created.runs.filter((r) => r.created).length,
            deduplicated: created.runs.filter((r) => !r.created).length,
            run_ids: created.runs.map((r) => r.run.id),
          },
        };
        await ctx.idempotency.complete(claim, 201, body);
        return reply.code(201).send(body);
      } catch (error) {
        await ctx.idempotency.release(claim);
        throw error;
      }
    },
  );

  app.get(
    '/grids/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Get a grid and how many of its runs are in each status',
        tags: ['grids'],
        params: GridParams,
        response: { 200: GridView, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => gridView(ctx, await loadGrid(ctx, request.params.id)),
  );

  app.get(
    '/grids/:id/results',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'The ablation table of a grid',
        description:
          "Groups the grid's succeeded runs by the values at the `group_by` spec paths and summarises each run's " +
          'final value of `metric`: the latest evaluation for evaluation metrics (knn_top1@k, linear_top1/5), the ' +
          'last point for training metrics. Non-finite values count as missing.',
        tags: ['grids'],
        params: GridParams,
        querystring: ResultsQuery,
        response: { 200: ResultsView, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const grid = await loadGrid(ctx, request.params.id);
      const metric = request.query.metric ?? grid.metricName;
      const axes = Object.keys((grid.spec.axes ?? {}) as JsonObject).sort();
      const groupBy = request.query.group_by ?? axes;
      const runs = await ctx.db.grids.gridRuns(grid.id);
      const succeeded = runs.filter((run) => run.status === 'succeeded');
      const values = await gridFinalValues(ctx.db, grid.id, metric);
      const groups = new Map<string, { key: Record<string, unknown>; values: number[]; runIds: string[] }>();
      let withoutValue = 0;
      for (const run of succeeded) {
        const value = values.get(run.id);
        if (value === undefined) {
          withoutValue++;
          continue;
        }
        const key = Object.fromEntries(groupBy.map((path) => [path, getAtPath(run.spec, path) ?? null]));
        const id = canonicalJson(key);
        const group = groups.get(id) ?? { key, values: [], runIds: [] };
        group.values.push(value);
        group.runIds.push(run.id);
        groups.set(id, group);
      }
      return {
        grid_id: grid.id,
        metric,
        group_by: groupBy,
        groups: [...groups.values()].map((group) => ({
          key: group.key,
          ...summarize(group.values),
          run_ids: group.runIds,
        })),
        runs_without_value: withoutValue,
        runs_not_finished: runs.length - succeeded.length,
      };
    },
  );

  app.post(
    '/grids/:id/rerun-failed',
    {
      config: { scope: 'submit' },
      schema: {
        summary: "Re-queue a grid's failed and canceled runs",
        tags: ['grids'],
        params: GridParams,
        response: {
          200: z.object({ grid_id: z.string(), requeued: z.int(), run_ids: z.array(z.string()) }),
          ...problemResponses(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      const grid = await loadGrid(ctx, request.params.id);
      const requeued = await ctx.db.grids.requeueFailedRuns(grid.id);
      await enqueueAll(ctx, requeued);
      return { grid_id: grid.id, requeued: requeued.length, run_ids: requeued.map((run) => run.id) };
    },
  );
};
