// How grids and their ablation tables look on the wire (snake_case JSON): the zod schemas that apps/api serialises
// with and documents in its OpenAPI document, and the types its clients (CLI, dashboard) read. The statistics
// (confidence intervals, the test against the best group, what the seeds resolve) are computed by the API.
import { z } from 'zod';
import { Seed } from './experiment-spec.js';
import { MAX_AXIS_VALUES, requireDistinct } from './grid-spec.js';
import { METRIC_GOALS } from './metrics.js';
import { RUN_STATUSES } from './run-status.js';
import { RunStatus } from './run-views.js';

export const MetricGoal = z.enum(METRIC_GOALS);

export const GridStatusCounts = z.object({
  ...(Object.fromEntries(RUN_STATUSES.map((status) => [status, z.int()])) as Record<RunStatus, z.ZodInt>),
  total: z.int(),
});

export const GridView = z.object({
  id: z.string(),
  name: z.string(),
  metric: z.object({ name: z.string(), goal: MetricGoal }),
  cell_count: z.int(),
  spec: z.record(z.string(), z.unknown()).meta({ description: 'the grid spec, seeds included' }),
  created_at: z.iso.datetime(),
  status_counts: GridStatusCounts,
});

const Interval = z.object({ low: z.number(), high: z.number() });

export const GroupTest = z
  .object({
    difference: z.number().meta({ description: "this group's mean − the best group's mean" }),
    difference_ci95: Interval.meta({
      description:
        "Welch's 95 % confidence interval of `difference`: difference ± t(0.975, df) · √(s²/n + s_best²/n_best); " +
        'a single point when both groups have zero variance',
    }),
    t: z
      .number()
      .nullable()
      .meta({ description: "Welch's statistic (this group − the best); null when both have zero variance" }),
    df: z.number().nullable().meta({ description: 'Welch–Satterthwaite degrees of freedom' }),
    p_value: z.number().meta({ description: 'two-sided, before the correction' }),
    p_adjusted: z.number().meta({ description: 'after the correction named in `comparison.correction`' }),
  })
  .meta({ description: 'the test of this group against the best group' });

/** The statistics of one group of runs: results groups and pivot cells alike. */
export const GroupStatistics = z.object({
  n: z.int().meta({ description: 'succeeded runs with a final value of the metric' }),
  mean: z.number().nullable(),
  std: z.number().nullable().meta({ description: 'sample standard deviation (n − 1); null when n < 2' }),
  median: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  run_ids: z.array(z.string()).meta({ description: 'the runs counted, in cell order' }),
  ci95: Interval.nullable().meta({
    description: '95 % confidence interval of the mean: mean ± t(0.975, n − 1) · std / √n; null when n < 2',
  }),
  best: z.boolean().meta({ description: 'the group with the best mean for `goal`' }),
  tied_with_best: z
    .boolean()
    .nullable()
    .meta({
      description:
        'true: not distinguishable from the best (adjusted p ≥ alpha); false: distinguishable; null for the best ' +
        'group itself and where no test is possible (n < 2 here or in the best group)',
    }),
  test: GroupTest.nullable(),
});

export const GroupCosts = z
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

export const ResultGroup = GroupStatistics.extend({
  key: z.record(z.string(), z.unknown()).meta({ description: 'group_by path → value' }),
  costs: GroupCosts,
});

export const BestGroup = z
  .object({
    key: z.record(z.string(), z.unknown()),
    mean: z.number(),
    std: z.number().nullable(),
    n: z.int(),
    ci95: Interval.nullable(),
    run_ids: z.array(z.string()),
  })
  .nullable()
  .meta({
    description:
      'the group with the best mean for `goal` (the first in key order on a tie); null without values',
  });

export const GroupComparison = z
  .object({
    method: z.string().meta({ description: 'the test and the correction, in words' }),
    test: z.literal('welch_t_two_sided'),
    correction: z.literal('holm'),
    alpha: z.number(),
    possible: z
      .boolean()
      .meta({ description: 'whether at least one group could be tested against the best' }),
    comparisons: z.int().meta({ description: 'tests made: the m of the correction' }),
    tied: z.int().meta({ description: 'groups tied with the best' }),
    message: z
      .string()
      .nullable()
      .meta({ description: 'why no test (or not every test) was possible, e.g. one seed per group' }),
  })
  .meta({ description: 'how the groups were compared with the best group' });

export const SeedResolution = z
  .object({
    alpha: z.number(),
    power: z.number(),
    seeds_per_group: z
      .number()
      .nullable()
      .meta({ description: "harmonic mean of the groups' n (the n of two typical groups)" }),
    pooled_std: z.number().nullable().meta({
      description: '√(Σ (nᵢ − 1) sᵢ² / Σ (nᵢ − 1)) over the groups with n ≥ 2; null without such a group',
    }),
    pooled_df: z.int().meta({ description: 'Σ (nᵢ − 1) over those groups' }),
    min_resolvable_difference: z
      .number()
      .nullable()
      .meta({
        description:
          'smallest difference of two group means that a two-sided t-test at alpha detects with this power: ' +
          '(t(1 − alpha/2, ν) + t(power, ν)) · pooled_std · √(2/n), ν = 2(n − 1), n = seeds_per_group (metric units)',
      }),
    difference: z.number().nullable().meta({ description: 'the `difference` asked for, in metric units' }),
    seeds_needed: z
      .int()
      .nullable()
      .meta({
        description:
          'fewest seeds per group whose resolvable difference is at most `difference`; null when not asked, ' +
          `without a variance estimate, or above ${MAX_AXIS_VALUES}`,
      }),
    message: z.string().nullable(),
  })
  .meta({ description: 'what the current seeds can resolve, from the observed within-group variance' });

export const GridResults = z.object({
  grid_id: z.string(),
  metric: z.string(),
  goal: MetricGoal,
  group_by: z.array(z.string()),
  groups: z
    .array(ResultGroup)
    .meta({ description: 'groups with at least one value, ordered by key (numbers numerically)' }),
  best: BestGroup,
  comparison: GroupComparison,
  resolution: SeedResolution,
  runs_without_value: z.int().meta({ description: 'succeeded runs that did not report the metric' }),
  runs_not_finished: z.int().meta({ description: 'cells whose run has not succeeded (yet)' }),
});

const PivotAxis = z.object({
  path: z.string(),
  values: z
    .array(z.unknown())
    .meta({ description: 'every value among the grid cells, sorted (numbers numerically)' }),
});

export const GridPivot = z.object({
  grid_id: z.string(),
  metric: z.string(),
  goal: MetricGoal,
  rows: PivotAxis,
  columns: PivotAxis,
  cells: z.array(z.array(GroupStatistics.nullable())).meta({
    description: 'cells[i][j] summarises rows.values[i] × columns.values[j]; null where no run has a value',
  }),
  comparison: GroupComparison,
  resolution: SeedResolution,
});

export const GridCellView = z.object({
  run_id: z.string(),
  cell_index: z.int().nullable(),
  axis_values: z.record(z.string(), z.unknown()).nullable(),
  seed: z.int(),
  status: RunStatus,
  value: z
    .number()
    .nullable()
    .meta({ description: 'final value of the metric so far (whatever the status); null when none' }),
  epoch_seconds: z.number().nullable().meta({ description: "mean of the run's epoch_seconds points" }),
  peak_memory_bytes: z.number().nullable().meta({ description: 'highest peak_memory_bytes point' }),
  wall_seconds: z.number().nullable().meta({ description: 'finished_at − started_at' }),
});

export const GridCells = z.object({
  grid_id: z.string(),
  metric: z.string(),
  cells: z.array(GridCellView).meta({ description: 'every cell of the grid, in cell order' }),
});

export const GridSeedsRequest = z
  .strictObject({
    seeds: z
      .array(Seed)
      .min(1)
      .max(MAX_AXIS_VALUES)
      .superRefine(requireDistinct)
      .optional()
      .meta({ description: 'seeds the grid should have; those it has already are left as they are' }),
    add: z
      .int()
      .min(1)
      .max(MAX_AXIS_VALUES)
      .optional()
      .meta({ description: 'how many new seeds: the largest seed the grid has + 1, + 2, …' }),
  })
  .superRefine((body, ctx) => {
    if (body.seeds !== undefined && body.add !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['add'],
        input: body.add,
        message: 'give either seeds or add, not both',
      });
    } else if (body.seeds === undefined && body.add === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['seeds'],
        input: body,
        message: 'is required unless add is given: the seeds the grid should have, or add: how many new ones',
      });
    }
  })
  .meta({ id: 'GridSeedsRequest', description: 'either `seeds` or `add`' });

export const GridSeedsView = GridView.extend({
  added_seeds: z.array(z.int()).meta({ description: 'the seeds new to the grid, in the order added' }),
  existing_seeds: z.array(z.int()).meta({ description: 'seeds asked for that the grid already had' }),
  runs: z.object({
    created: z.int().meta({ description: 'new cells that got a new run (or re-queued a failed one)' }),
    deduplicated: z.int().meta({ description: 'new cells whose spec already had a run' }),
    run_ids: z.array(z.string()).meta({ description: 'the runs of the new cells, in cell order' }),
  }),
});

/** One grid of GET /v1/grids: the grid, its run counts and its best group for the grid's metric so far. */
export const GridSummaryView = GridView.extend({
  axes: z.array(z.string()).meta({ description: "the grid's axis paths, sorted" }),
  best: BestGroup,
});

export const GridList = z.object({
  grids: z.array(GridSummaryView).meta({ description: 'newest first' }),
});

export const ReportedMetricView = z.object({
  name: z.string(),
  source: z.enum(['training', 'evaluation']),
  runs: z.int().meta({ description: "how many of the grid's runs reported it" }),
});

export const GridMetrics = z.object({
  grid_id: z.string(),
  metrics: z.array(ReportedMetricView).meta({
    description:
      "the metrics the grid's runs reported, by name; the grid's own metric included only if reported",
  }),
});

/** A likely mistake shared by some cells of a grid or suite, told once with how many cells have it. */
export const CellWarning = z
  .object({
    path: z.string(),
    message: z.string(),
    cells: z.int().meta({ description: 'how many cells have this warning' }),
    first_cell: z.int().meta({ description: 'index of the first such cell' }),
  })
  .meta({ id: 'CellWarning', description: 'a likely mistake shared by some cells; they are queued anyway' });

/** A cell of POST /v1/grids?dry_run=true. */
export const GridCellPreview = z.object({
  index: z.int(),
  axis_values: z.record(z.string(), z.unknown()),
  seed: z.int(),
  hash: z.string(),
  existing_run_id: z.string().nullable().meta({ description: 'the run that already has this spec, if any' }),
});

/** POST /v1/grids?dry_run=true: the cells the grid would have, nothing stored. */
export const GridDryRunView = z.object({
  dry_run: z.literal(true),
  cell_count: z.int(),
  new_cells: z.int(),
  cells: z.array(GridCellPreview),
  warnings: z.array(CellWarning),
});

/** POST /v1/grids: the grid and what became of its cells' runs. */
export const CreatedGridView = GridView.safeExtend({
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

/** POST /v1/grids/{id}/rerun-failed. */
export const GridRerunView = z.object({
  grid_id: z.string(),
  requeued: z.int(),
  run_ids: z.array(z.string()),
});

export type CellWarning = z.output<typeof CellWarning>;
export type GridCellPreview = z.output<typeof GridCellPreview>;
export type GridDryRunView = z.output<typeof GridDryRunView>;
export type CreatedGridView = z.output<typeof CreatedGridView>;
export type GridRerunView = z.output<typeof GridRerunView>;
export type MetricGoal = z.output<typeof MetricGoal>;
export type GridStatusCounts = z.output<typeof GridStatusCounts>;
export type GridView = z.output<typeof GridView>;
export type GroupTest = z.output<typeof GroupTest>;
export type GroupStatistics = z.output<typeof GroupStatistics>;
export type GroupCosts = z.output<typeof GroupCosts>;
export type ResultGroup = z.output<typeof ResultGroup>;
export type BestGroup = z.output<typeof BestGroup>;
export type GroupComparison = z.output<typeof GroupComparison>;
export type SeedResolution = z.output<typeof SeedResolution>;
export type GridResults = z.output<typeof GridResults>;
export type GridPivot = z.output<typeof GridPivot>;
export type GridCellView = z.output<typeof GridCellView>;
export type GridCells = z.output<typeof GridCells>;
export type GridSeedsRequest = z.output<typeof GridSeedsRequest>;
export type GridSeedsView = z.output<typeof GridSeedsView>;
export type GridSummaryView = z.output<typeof GridSummaryView>;
export type GridList = z.output<typeof GridList>;
export type ReportedMetricView = z.output<typeof ReportedMetricView>;
export type GridMetrics = z.output<typeof GridMetrics>;
