import {
  type Grid,
  GridChangedError,
  type GridStatusCounts,
  type GroupStats,
  gridCells,
  groupStats,
  type JsonObject,
} from '@swavlab/db';
import {
  CreatedGridView,
  canonicalJson,
  expandGridInSlices,
  GridCells,
  GridDryRunView,
  GridList,
  GridMetrics,
  GridPivot,
  GridRerunView,
  GridResults,
  GridSeedsRequest,
  GridSeedsView,
  GridSpec,
  GridView,
  isMetricName,
  isSpecLeafPath,
  MAX_AXIS_VALUES,
  MAX_GRID_CELLS,
  MetricGoal,
  metricGoal,
  startGridExpansion,
} from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AppContext, RouteOptions } from '../context.js';
import { checkCells, storeGridCells } from '../grid-store.js';
import { problemResponses } from '../openapi.js';
import { notFound, ProblemError, validationProblem } from '../problem.js';
import { CSV_CONTENT_TYPE, toCsv } from '../queries/csv.js';
import { groupStatsView, pivot } from '../queries/pivot.js';
import { tableStatistics } from '../queries/table-statistics.js';
import { listParam, queryBoolean, ResourceId, type ZodTypeProvider } from '../validation.js';
import { WarningTally } from '../warning-tally.js';
import { enqueueEach } from './runs.js';

const GridParams = z.strictObject({ id: ResourceId });

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

const GoalParam = MetricGoal.optional().meta({
  description:
    "which mean is best: default the grid's goal for the grid's metric, else the metric's own (max for " +
    'accuracies, min for the loss)',
});

const DifferenceParam = z.coerce
  .number()
  .positive()
  .max(1e12)
  .optional()
  .meta({
    description:
      "a difference of means to resolve, in the metric's units (0.02 is 2 points of a 0..1 accuracy): " +
      '`resolution.seeds_needed` says how many seeds per group would resolve it',
  });

const ResultsQuery = z.strictObject({
  metric: MetricParam,
  group_by: listParam(GroupPath, 16)
    .optional()
    .meta({ description: "spec paths, comma-separated or repeated; default: the grid's axes" }),
  goal: GoalParam,
  difference: DifferenceParam,
  format: FormatParam,
});

const PivotQuery = z.strictObject({
  metric: MetricParam,
  rows: GroupPath.meta({ description: 'spec path whose values are the rows' }),
  columns: GroupPath.meta({ description: 'spec path whose values are the columns' }),
  goal: GoalParam,
  difference: DifferenceParam,
  format: FormatParam.meta({
    description:
      '`csv` answers a text/csv table of means: one row per row value, one column per column value',
  }),
});

const CellsQuery = z.strictObject({ metric: MetricParam });

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
  return gridViewOf(grid, counts);
}

function gridViewOf(grid: Grid, counts: GridStatusCounts) {
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

/**
 * Which mean is best: the goal asked for, else the grid's own for its metric, else the metric's direction
 * (another metric of the grid: the loss is best low even in a grid that maximises an accuracy).
 */
function goalFor(grid: Grid, metric: string, asked: MetricGoal | undefined): MetricGoal {
  if (asked !== undefined) return asked;
  if (metric === grid.metricName) return grid.metricGoal;
  return metricGoal(metric) ?? grid.metricGoal;
}

/** The groups that have a value, each with its statistics and verdict, and the table's comparison figures. */
function withStatistics(groups: readonly GroupStats[], goal: MetricGoal, difference: number | undefined) {
  const counted = groups.filter((group) => group.n > 0);
  const statistics = tableStatistics(counted, goal, difference);
  return {
    groups: counted.map((group, i) => ({
      group,
      view: { ...groupStatsView(group), ...statistics.groups[i] },
    })),
    comparison: statistics.comparison,
    resolution: statistics.resolution,
  };
}

/** The grid's best group for its own metric and goal, grouped by its axes; null while no run has a value. */
async function bestGroup(ctx: AppContext, grid: Grid) {
  const axes = gridAxes(grid);
  const stats = await groupStats(ctx.db, grid.id, grid.metricName, axes);
  const best = withStatistics(stats, grid.metricGoal, undefined).groups.find(({ view }) => view.best);
  if (best === undefined) return null;
  const { view, group } = best;
  return {
    key: Object.fromEntries(axes.map((path, i) => [path, group.key[i] ?? null])),
    mean: view.mean as number,
    std: view.std,
    n: view.n,
    ci95: view.ci95 ?? null,
    run_ids: view.run_ids,
  };
}

/** The seeds a grid runs: its list, else the base spec's seed. */
function gridSeeds(spec: GridSpec): number[] {
  return spec.seeds ?? [spec.base.seed];
}

/** 422 for a well-formed body asking for something invalid (naming the field); 400 when it is not an object. */
function seedsBodyProblem(error: Error, body: unknown): Error {
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  if (!(error instanceof ProblemError) || !isObject) return error;
  return new ProblemError(422, 'invalid_seeds', error.message, error.errors);
}

/** The seeds `request` asks for that the grid lacks, and those it has; 422 naming the field beyond the limits. */
function newSeeds(
  request: GridSeedsRequest,
  current: readonly number[],
): { fresh: number[]; existing: number[] } {
  const have = new Set(current);
  if (request.seeds !== undefined) {
    return {
      fresh: request.seeds.filter((seed) => !have.has(seed)),
      existing: request.seeds.filter((seed) => have.has(seed)),
    };
  }
  const add = request.add ?? 0;
  const first = Math.max(...current) + 1;
  if (first + add - 1 > 2 ** 31 - 1) {
    throw new ProblemError(422, 'invalid_seeds', `cannot add ${add} seeds after seed ${first - 1}`, [
      {
        path: 'add',
        message: `the new seeds would pass 2147483647 (the grid's largest seed is ${first - 1})`,
      },
    ]);
  }
  return { fresh: Array.from({ length: add }, (_, i) => first + i), existing: [] };
}

/** 422 when the grid would hold more seeds or cells than a grid may. */
function requireRoom(request: GridSeedsRequest, seeds: number, cells: number): void {
  const field = request.seeds === undefined ? 'add' : 'seeds';
  const problem =
    seeds > MAX_AXIS_VALUES
      ? `the grid would have ${seeds} seeds; a grid may have at most ${MAX_AXIS_VALUES}`
      : cells > MAX_GRID_CELLS
        ? `the grid would have ${cells.toLocaleString('en-US')} cells; at most ${MAX_GRID_CELLS.toLocaleString('en-US')} are allowed`
        : null;
  if (problem !== null) {
    throw new ProblemError(422, 'invalid_seeds', problem, [{ path: field, message: problem }]);
  }
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
          200: GridDryRunView,
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
        const existing = await ctx.db.runs.idsBySpecHash(cells.map((cell) => cell.hash));
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
      const served = await ctx.idempotency.serve(request, request.body, async () => {
        const name = grid.name ?? `grid of ${total} cells`;
        const { created, warnings } = await storeGridCells(ctx, expansion, name, (cells) =>
          ctx.db.grids.createGrid({
            name,
            spec: grid as unknown as JsonObject,
            metricName: grid.metric.name,
            metricGoal: grid.metric.goal,
            cellCount: total,
            cells,
          }),
        );
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
        return { status: 201 as const, body };
      });
      return reply.code(served.status).headers(served.headers).send(served.body);
    },
  );

  app.get(
    '/grids',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List grids',
        description:
          "Every grid, newest first, with its run counts per status, its axes and its best group so far for the grid's " +
          'metric and goal (grouped by the axes, as `/results` does by default).',
        tags: ['grids'],
        response: { 200: GridList, ...problemResponses(401, 403, 429) },
      },
    },
    async () => {
      const listed = await ctx.db.grids.listGridsWithCounts();
      const grids = await Promise.all(
        listed.map(async ({ grid, counts }) => ({
          ...gridViewOf(grid, counts),
          axes: gridAxes(grid),
          best: counts.succeeded === 0 ? null : await bestGroup(ctx, grid),
        })),
      );
      return { grids };
    },
  );

  app.get(
    '/grids/:id/metrics',
    {
      config: { scope: 'read' },
      schema: {
        summary: "The metrics a grid's runs reported",
        description:
          'Training metrics (loss, lr, …) and evaluations (knn_top1@20, …) that at least one run of the grid has, with ' +
          'how many runs reported each: the metrics `/results`, `/pivot` and `/cells` have values for.',
        tags: ['grids'],
        params: GridParams,
        response: { 200: GridMetrics, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const grid = await loadGrid(ctx, request.params.id);
      return { grid_id: grid.id, metrics: await ctx.db.grids.reportedMetrics(grid.id) };
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
        summary: 'The ablation table of a grid, with the statistics to read it by',
        description:
          "Groups the grid's succeeded runs by the values at the `group_by` spec paths and summarises each run's " +
          'final value of `metric`: the latest evaluation for evaluation metrics (knn_top1@k, linear_top1/5), the ' +
          'last point for training metrics. Non-finite values count as missing. Each group has n, mean, std, ' +
          'median, min, max, a 95 % confidence interval of the mean and its costs; the best group for `goal` is ' +
          "marked, and every other group with n ≥ 2 is tested against it (Welch's two-sided t-test, Holm-corrected " +
          'over the tests made, α = 0.05): `tied_with_best` marks the groups the test cannot tell from the best. ' +
          'With one seed per group no test is possible and `comparison.message` says so. `resolution` gives the ' +
          'smallest difference the seeds resolve (α = 0.05, power 0.8, from the pooled within-group variance) and, ' +
          'for `difference`, the seeds per group that would resolve it. `format=csv` answers one row per group: ' +
          'the group_by columns, metric, then n, mean, std, median, min, max, ci95_low, ci95_high, best, tied_with_best, ' +
          'p_adjusted.',
        tags: ['grids'],
        params: GridParams,
        querystring: ResultsQuery,
        response: {
          200: jsonOrCsv(GridResults, 'the groups, their statistics and costs, and the best group'),
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const grid = await loadGrid(ctx, request.params.id);
      const { format, difference } = request.query;
      const metric = request.query.metric ?? grid.metricName;
      const goal = goalFor(grid, metric, request.query.goal);
      const groupBy = request.query.group_by ?? gridAxes(grid);
      const stats = await groupStats(ctx.db, grid.id, metric, groupBy);
      const table = withStatistics(stats, goal, difference);
      const groups = table.groups.map(({ group, view }) => ({
        key: Object.fromEntries(groupBy.map((path, i) => [path, group.key[i] ?? null])),
        ...view,
        costs: {
          epoch_seconds_mean: group.epochSecondsMean,
          peak_memory_bytes_max: group.peakMemoryBytesMax,
          wall_seconds_mean: group.wallSecondsMean,
        },
      }));
      if (format === 'csv') {
        return reply.type(CSV_CONTENT_TYPE).send(
          toCsv(
            [
              ...groupBy,
              'metric',
              ...['n', 'mean', 'std', 'median', 'min', 'max', 'ci95_low', 'ci95_high'],
              ...['best', 'tied_with_best', 'p_adjusted'],
            ],
            groups.map((g) => [
              ...groupBy.map((path) => g.key[path]),
              metric,
              ...[g.n, g.mean, g.std, g.median, g.min, g.max, g.ci95?.low ?? null, g.ci95?.high ?? null],
              ...[g.best, g.tied_with_best, g.test?.p_adjusted ?? null],
            ]),
          ),
        );
      }
      const best = groups.find((group) => group.best);
      return {
        grid_id: grid.id,
        metric,
        goal,
        group_by: groupBy,
        groups,
        best:
          best === undefined
            ? null
            : {
                key: best.key,
                mean: best.mean as number,
                std: best.std,
                n: best.n,
                ci95: best.ci95,
                run_ids: best.run_ids,
              },
        comparison: table.comparison,
        resolution: table.resolution,
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
          'columns list every value the grid has at those paths, so the table keeps its shape while runs finish. ' +
          'Cells carry the statistics of `/results` groups (95 % CI, best, tied_with_best and the test against ' +
          'the best cell), and the table its `comparison` and `resolution`.',
        tags: ['grids'],
        params: GridParams,
        querystring: PivotQuery,
        response: {
          200: jsonOrCsv(GridPivot, 'the table'),
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const grid = await loadGrid(ctx, request.params.id);
      const { rows, columns, format, difference } = request.query;
      const metric = request.query.metric ?? grid.metricName;
      const goal = goalFor(grid, metric, request.query.goal);
      const stats = await groupStats(ctx.db, grid.id, metric, [rows, columns]);
      const table = withStatistics(stats, goal, difference);
      const views = new Map(table.groups.map(({ group, view }) => [group, view]));
      // Every group, also those without a value yet, so that the table keeps its shape while runs finish.
      const laid = pivot(stats, (group) => views.get(group) ?? null);
      if (format === 'csv') {
        return reply.type(CSV_CONTENT_TYPE).send(
          toCsv(
            [rows, ...laid.columnValues.map((value) => `${columns}=${canonicalJson(value)}`)],
            laid.rowValues.map((value, i) => [
              value,
              ...(laid.cells[i] ?? []).map((cell) => cell?.mean ?? null),
            ]),
          ),
        );
      }
      return {
        grid_id: grid.id,
        metric,
        goal,
        rows: { path: rows, values: laid.rowValues },
        columns: { path: columns, values: laid.columnValues },
        cells: laid.cells,
        comparison: table.comparison,
        resolution: table.resolution,
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
        response: { 200: GridCells, ...problemResponses(400, 401, 403, 404, 429) },
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
    '/grids/:id/seeds',
    {
      config: { scope: 'submit' },
      attachValidation: true,
      schema: {
        summary: 'Add seeds to a grid',
        description:
          'Adds seeds to an existing grid, so that its table can be tightened without resubmitting it: ' +
          '`{"seeds": [3, 4]}` names the seeds the grid should have (those it has are left alone: the request is ' +
          'idempotent), `{"add": 2}` adds the next 2 after its largest seed. Every axis combination gets a cell ' +
          'per new seed, numbered after the last cell, with a run queued like those of a new grid (a cell whose ' +
          "spec already has a run is linked to it); the grid's spec lists the new seeds. 201 when seeds were " +
          'added, 200 when the grid had them all; 422 naming `seeds` or `add` for an invalid body or one that ' +
          'would pass the limits of a grid (1,000 seeds, 10,000 cells); 409 when another request added seeds at ' +
          'the same moment (send it again).',
        tags: ['grids'],
        params: GridParams,
        body: GridSeedsRequest,
        response: {
          200: GridSeedsView,
          201: GridSeedsView,
          ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError) throw seedsBodyProblem(request.validationError, request.body);
      const grid = await loadGrid(ctx, request.params.id);
      type Body = z.input<typeof GridSeedsView>;
      // Keyed by grid too: the idempotency fingerprint is the body, and the same body means another thing elsewhere.
      const served = await ctx.idempotency.serve(request, { grid: grid.id, ...request.body }, async () => {
        const spec = GridSpec.parse(grid.spec);
        const current = gridSeeds(spec);
        const { fresh, existing } = newSeeds(request.body, current);
        let status: 200 | 201 = 200;
        let body: Body;
        if (fresh.length === 0) {
          body = {
            ...(await gridView(ctx, grid)),
            added_seeds: [],
            existing_seeds: existing,
            runs: { created: 0, deduplicated: 0, run_ids: [] },
          };
        } else {
          const seeds = [...current, ...fresh];
          const added = (grid.cellCount / current.length) * fresh.length;
          requireRoom(request.body, seeds.length, grid.cellCount + added);
          const started = startGridExpansion({ ...spec, seeds: fresh });
          if (!started.ok) throw validationProblem(started.errors, 'grid');
          const { created } = await storeGridCells(ctx, started.expansion, grid.name, (cells) =>
            ctx.db.grids.addGridCells({
              gridId: grid.id,
              expectedCellCount: grid.cellCount,
              spec: { ...spec, seeds } as unknown as JsonObject,
              addedCells: started.expansion.total,
              cells,
            }),
          ).catch((error: unknown) => {
            if (!(error instanceof GridChangedError)) throw error;
            throw new ProblemError(
              409,
              'grid_changed',
              `grid ${grid.id} changed while the seeds were being added (another request added cells): send ` +
                'the request again',
            );
          });
          status = 201;
          body = {
            ...(await gridView(ctx, created.grid)),
            added_seeds: fresh,
            existing_seeds: existing,
            runs: {
              created: created.runs.filter((r) => r.created).length,
              deduplicated: created.runs.filter((r) => !r.created).length,
              run_ids: created.runs.map((r) => r.run.id),
            },
          };
        }
        return { status, body };
      });
      return reply.code(served.status).headers(served.headers).send(served.body);
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
          200: GridRerunView,
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
