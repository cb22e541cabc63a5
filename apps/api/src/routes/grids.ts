// /v1/grids: expand and submit ablation grids (or preview them with ?dry_run=true), grid status, the ablation
// table (n, mean, std, median, min, max and costs per group of cells), a rows × columns pivot, every cell with
// its value, and re-running failed cells.
import { type Grid, type JsonObject, RUN_STATUSES } from '@swavlab/db';
import {
  canonicalJson,
  expandGridInSlices,
  type GridCell,
  GridSpec,
  isMetricName,
  isSpecLeafPath,
  SpecValidationError,
  startGridExpansion,
} from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { requireCapacity } from '../capacity.js';
import { cellRunInput, checkCellDataPaths } from '../cell-runs.js';
import type { AppContext, RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { notFound, validationProblem } from '../problem.js';
import { CSV_CONTENT_TYPE, toCsv } from '../queries/csv.js';
import { gridCells } from '../queries/grid-cells.js';
import { groupStats, groupStatsView } from '../queries/group-stats.js';
import { pivot } from '../queries/pivot.js';
import { readAhead } from '../read-ahead.js';
import { joinSql, runSql, sql } from '../sql.js';
import { listParam, queryBoolean, ResourceId, type ZodTypeProvider } from '../validation.js';
import { CellWarning, WarningTally } from '../warning-tally.js';
import { enqueueBulk, enqueueEach } from './runs.js';

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
  warnings: z.array(CellWarning),
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
  warnings: z.array(CellWarning),
});

const GroupPath = z.string().refine((path) => isSpecLeafPath(path), {
  message: 'must be a spec leaf path such as swav.prototypes',
});

const MetricParam = z
  .string()
  .refine(isMetricName, { message: 'must be a metric name such as knn_top1@20, linear_top1 or loss' })
  .optional()
  .meta({ description: "default: the grid's metric" });

const FormatParam = z
  .enum(['json', 'csv'])
  .default('json')
  .meta({ description: '`csv` answers text/csv (RFC 4180, header row)' });

const Goal = z.enum(['max', 'min']);

const ResultsQuery = z.strictObject({
  metric: MetricParam,
  group_by: listParam(GroupPath, 16)
    .optional()
    .meta({ description: "spec paths, comma-separated or repeated; default: the grid's axes" }),
  goal: Goal.optional().meta({
    description: "which mean is best, for `best`; default: the grid's metric goal",
  }),
  format: FormatParam,
});

const Stats = {
  n: z.int().meta({ description: 'succeeded runs with a final value of the metric' }),
  mean: z.number().nullable(),
  std: z.number().nullable().meta({ description: 'sample standard deviation (n − 1); null when n < 2' }),
  median: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  run_ids: z.array(z.string()).meta({ description: 'the runs counted, in cell order' }),
};

const GroupCosts = z
  .object({
    epoch_seconds_mean: z
      .number()
      .nullable()
      .meta({ description: "mean over the group's runs of each run's mean epoch_seconds" }),
    peak_memory_bytes_max: z
      .number()
      .nullable()
      .meta({ description: 'highest peak_memory_bytes any run of the group recorded' }),
    wall_seconds_mean: z
      .number()
      .nullable()
      .meta({ description: 'mean of finished_at − started_at over the group' }),
  })
  .meta({ description: 'what the group cost, for plotting cost against the metric' });

const ResultGroup = z.object({
  key: z.record(z.string(), z.unknown()).meta({ description: 'group_by path → value' }),
  ...Stats,
  costs: GroupCosts,
});

const BestGroup = z
  .object({
    key: z.record(z.string(), z.unknown()),
    mean: z.number(),
    std: z.number().nullable(),
    n: z.int(),
    run_ids: z.array(z.string()),
  })
  .nullable()
  .meta({
    description:
      'the group with the best mean for `goal` (the first in key order on a tie); null without values',
  });

const ResultsView = z.object({
  grid_id: z.string(),
  metric: z.string(),
  goal: Goal,
  group_by: z.array(z.string()),
  groups: z
    .array(ResultGroup)
    .meta({ description: 'groups with at least one value, ordered by key (numbers numerically)' }),
  best: BestGroup,
  runs_without_value: z.int().meta({ description: 'succeeded runs that did not report the metric' }),
  runs_not_finished: z.int().meta({ description: 'cells whose run has not succeeded (yet)' }),
});

const PivotQuery = z.strictObject({
  metric: MetricParam,
  rows: GroupPath.meta({ description: 'spec path whose values are the rows' }),
  columns: GroupPath.meta({ description: 'spec path whose values are the columns' }),
  format: FormatParam.meta({
    description:
      '`csv` answers a text/csv table of means: one row per row value, one column per column value',
  }),
});

const PivotAxis = z.object({
  path: z.string(),
  values: z
    .array(z.unknown())
    .meta({ description: 'every value among the grid cells, sorted (numbers numerically)' }),
});

const PivotView = z.object({
  grid_id: z.string(),
  metric: z.string(),
  rows: PivotAxis,
  columns: PivotAxis,
  cells: z.array(z.array(z.object(Stats).nullable())).meta({
    description: 'cells[i][j] summarises rows.values[i] × columns.values[j]; null where no run has a value',
  }),
});

const CellsQuery = z.strictObject({ metric: MetricParam });

const CellsView = z.object({
  grid_id: z.string(),
  metric: z.string(),
  cells: z
    .array(
      z.object({
        run_id: z.string(),
        cell_index: z.int().nullable(),
        axis_values: z.record(z.string(), z.unknown()).nullable(),
        seed: z.int(),
        status: z.enum(RUN_STATUSES),
        value: z
          .number()
          .nullable()
          .meta({ description: 'final value of the metric so far (whatever the status); null when none' }),
        epoch_seconds: z.number().nullable().meta({ description: "mean of the run's epoch_seconds points" }),
        peak_memory_bytes: z.number().nullable().meta({ description: 'highest peak_memory_bytes point' }),
        wall_seconds: z.number().nullable().meta({ description: 'finished_at − started_at' }),
      }),
    )
    .meta({ description: 'every cell of the grid, in cell order' }),
});

/** A 200 documented both as JSON and as CSV. */
function jsonOrCsv(schema: z.ZodType, description: string) {
  return {
    description,
    content: { 'application/json': { schema }, 'text/csv': { schema: z.string() } },
  };
}

async function loadGrid(ctx: AppContext, id: string): Promise<Grid> {
  const grid = await ctx.db.grids.getGrid(id);
  if (grid === null) throw notFound('grid', id);
  return grid;
}

/** The grid's axis paths, sorted: the default grouping. */
function gridAxes(grid: Grid): string[] {
  return Object.keys((grid.spec.axes ?? {}) as JsonObject).sort();
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

/** What must hold of cells before they are stored: data folders inside the roots, ranks some worker can hold. */
async function checkCells(ctx: AppContext, grid: GridSpec, cells: readonly GridCell[]): Promise<void> {
  await checkCellDataPaths(ctx, cells, { axesPath: 'axes', axes: grid.axes, base: 'base' });
  await requireCapacity(
    ctx,
    cells.map((cell) => ({ spec: cell.spec, prefix: `cells[${cell.index}].` })),
  );
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
      if (request.query.dry_run) {
        const expansion = await expandGridInSlices(request.body);
        if (!expansion.ok) throw validationProblem(expansion.errors, 'grid');
        const { grid, cells } = expansion;
        await checkCells(ctx, grid, cells);
        const warnings = new WarningTally();
        warnings.add(cells);
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
          warnings: warnings.list(),
        });
      }

      const started = startGridExpansion(request.body);
      if (!started.ok) throw validationProblem(started.errors, 'grid');
      const { expansion } = started;
      const { grid, total } = expansion;
      const claim = await ctx.idempotency.claim<201, z.input<typeof CreatedGridView>>(request, request.body);
      if (claim.kind === 'replay') {
        return reply.code(claim.status).header('idempotent-replayed', 'true').send(claim.body);
      }
      try {
        const name = grid.name ?? `grid of ${total} cells`;
        const warnings = new WarningTally();
        // Cells are stored as they are validated, in one transaction that a late invalid cell rolls back.
        async function* cellRuns() {
          for await (const cells of readAhead(expansion.chunks())) {
            await checkCells(ctx, grid, cells);
            warnings.add(cells);
            yield cells.map((cell) => cellRunInput(cell, name, grid.tags));
          }
        }
        const created = await ctx.db.grids
          .createGrid({
            name,
            spec: grid as unknown as JsonObject,
            metricName: grid.metric.name,
            metricGoal: grid.metric.goal,
            cellCount: total,
            cells: cellRuns(),
          })
          .catch((error: unknown) => {
            throw error instanceof SpecValidationError ? validationProblem(error.issues, 'grid') : error;
          });
        await enqueueBulk(ctx, created.runs);
        const body = {
          ...(await gridView(ctx, created.grid)),
          dry_run: false as const,
          runs: {
            created: created.runs.filter((r) => r.created).length,
            deduplicated: created.runs.filter((r) => !r.created).length,
            run_ids: created.runs.map((r) => r.run.id),
          },
          warnings: warnings.list(),
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
          'last point for training metrics. Non-finite values count as missing. `format=csv` answers one row per ' +
          'group: the group_by columns, then n, mean, std, median, min, max.',
        tags: ['grids'],
        params: GridParams,
        querystring: ResultsQuery,
        response: {
          200: jsonOrCsv(ResultsView, 'the groups, their statistics and costs, and the best group'),
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const grid = await loadGrid(ctx, request.params.id);
      const { format } = request.query;
      const metric = request.query.metric ?? grid.metricName;
      const goal = request.query.goal ?? grid.metricGoal;
      const groupBy = request.query.group_by ?? gridAxes(grid);
      const stats = await groupStats(ctx.db, grid.id, metric, groupBy);
      const groups = stats
        .filter((group) => group.n > 0)
        .map((group) => ({
          key: Object.fromEntries(groupBy.map((path, i) => [path, group.key[i] ?? null])),
          ...groupStatsView(group),
          costs: {
            epoch_seconds_mean: group.epochSecondsMean,
            peak_memory_bytes_max: group.peakMemoryBytesMax,
            wall_seconds_mean: group.wallSecondsMean,
          },
        }));
      if (format === 'csv') {
        return reply.type(CSV_CONTENT_TYPE).send(
          toCsv(
            [...groupBy, 'n', 'mean', 'std', 'median', 'min', 'max'],
            groups.map((g) => [
              ...groupBy.map((path) => g.key[path]),
              g.n,
              g.mean,
              g.std,
              g.median,
              g.min,
              g.max,
            ]),
          ),
        );
      }
      let best: (typeof groups)[number] | undefined;
      for (const group of groups) {
        if (group.mean === null) continue;
        if (
          best === undefined ||
          (goal === 'max' ? group.mean > (best.mean as number) : group.mean < (best.mean as number))
        )
          best = group;
      }
      return {
        grid_id: grid.id,
        metric,
        goal,
        group_by: groupBy,
        groups,
        best:
          best === undefined
            ? null
            : { key: best.key, mean: best.mean as number, std: best.std, n: best.n, run_ids: best.run_ids },
        runs_without_value: stats.reduce((sum, group) => sum + group.withoutValue, 0),
        runs_not_finished: stats.reduce((sum, group) => sum + group.notFinished, 0),
      };
    },
  );

  app.get(
    '/grids/:id/pivot',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A grid as a rows × columns table of one metric',
        description:
          'The final values of `metric` of the succeeded runs, grouped by the values at two spec paths; rows and ' +
          'columns list every value the grid has at those paths, so the table keeps its shape while runs finish.',
        tags: ['grids'],
        params: GridParams,
        querystring: PivotQuery,
        response: {
          200: jsonOrCsv(PivotView, 'the table'),
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const grid = await loadGrid(ctx, request.params.id);
      const { rows, columns, format } = request.query;
      const metric = request.query.metric ?? grid.metricName;
      const table = pivot(await groupStats(ctx.db, grid.id, metric, [rows, columns]));
      if (format === 'csv') {
        return reply.type(CSV_CONTENT_TYPE).send(
          toCsv(
            [rows, ...table.columnValues.map((value) => `${columns}=${canonicalJson(value)}`)],
            table.rowValues.map((value, i) => [
              value,
              ...(table.cells[i] ?? []).map((cell) => cell?.mean ?? null),
            ]),
          ),
        );
      }
      return {
        grid_id: grid.id,
        metric,
        rows: { path: rows, values: table.rowValues },
        columns: { path: columns, values: table.columnValues },
        cells: table.cells,
      };
    },
  );

  app.get(
    '/grids/:id/cells',
    {
      config: { scope: 'read' },
      schema: {
        summary: "Every cell of a grid with its run's final metric value and costs",
        tags: ['grids'],
        params: GridParams,
        querystring: CellsQuery,
        response: { 200: CellsView, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const grid = await loadGrid(ctx, request.params.id);
      const metric = request.query.metric ?? grid.metricName;
      const cells = await gridCells(ctx.db, grid.id, metric);
      return {
        grid_id: grid.id,
        metric,
        cells: cells.map((cell) => ({
          run_id: cell.id,
          cell_index: cell.cell_index,
          axis_values: cell.axis_values,
          seed: cell.seed,
          status: cell.status,
          value: cell.value,
          epoch_seconds: cell.epoch_seconds,
          peak_memory_bytes: cell.peak_memory_bytes,
          wall_seconds: cell.wall_seconds,
        })),
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
      await enqueueEach(ctx, requeued);
      return { grid_id: grid.id, requeued: requeued.length, run_ids: requeued.map((run) => run.id) };
    },
  );
};
