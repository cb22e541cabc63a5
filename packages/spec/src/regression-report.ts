import { z } from 'zod';
import { MetricDirection, RegressionName, RegressionSuite, Tolerance } from './regression-suite.js';

/**
 * Wire formats of the regression endpoints (/v1/regressions, /v1/baselines, /v1/suites/{name}/history): the API
 * validates and documents with these, the CLI parses its responses with the same schemas.
 */

export const REGRESSION_VERDICTS = ['pass', 'regression', 'inconclusive', 'error'] as const;
export const RegressionVerdict = z.enum(REGRESSION_VERDICTS);
export type RegressionVerdict = z.output<typeof RegressionVerdict>;

export const RegressionRequest = z.strictObject({
  suite: RegressionSuite,
  baseline: RegressionName.meta({ description: 'name of the baseline of this suite to compare against' }),
  commit: z.string().min(1).max(200).optional(),
  branch: z.string().min(1).max(500).optional(),
  ci_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
  promote_if_missing: z
    .boolean()
    .default(false)
    .meta({ description: 'when the suite has no such baseline, the candidate runs become its version 1' }),
});
export type RegressionRequestInput = z.input<typeof RegressionRequest>;
export type RegressionRequest = z.output<typeof RegressionRequest>;

/** One side of a comparison: the final metric values of its runs (one per seed). */
export const SampleSummary = z.object({
  mean: z.number().nullable().meta({ description: 'null when n = 0' }),
  std: z.number().nullable().meta({ description: 'sample standard deviation (n − 1); null when n < 2' }),
  n: z.int(),
  values: z.array(z.number()),
});
export type SampleSummary = z.output<typeof SampleSummary>;

/** Axis path → value of one cell of the suite; `{}` for a suite without axes. */
export const SuiteCell = z.record(z.string(), z.unknown());
export type SuiteCell = z.output<typeof SuiteCell>;

export const MetricComparison = z.object({
  name: z.string(),
  cell: SuiteCell,
  direction: MetricDirection,
  tolerance: Tolerance,
  baseline: SampleSummary,
  candidate: SampleSummary,
  delta: z
    .number()
    .nullable()
    .meta({ description: 'candidate mean − baseline mean; null when a side is empty' }),
  threshold: z
    .number()
    .nullable()
    .meta({ description: 'allowed worsening (absolute units); min_effect for statistical tolerances' }),
  p_value: z.number().nullable().meta({
    description: "one-sided Welch's t-test in the worse direction; null with fewer than 3 values a side",
  }),
  verdict: RegressionVerdict,
  reason: z.string(),
});
export type MetricComparison = z.output<typeof MetricComparison>;

export const RegressionReport = z.object({
  message: z.string(),
  metrics: z.array(MetricComparison),
});
export type RegressionReport = z.output<typeof RegressionReport>;

export const RegressionProgress = z.object({
  total: z.int(),
  succeeded: z.int(),
  failed: z.int().meta({ description: 'failed or canceled' }),
  running: z.int().meta({ description: 'running or stopping' }),
  queued: z.int(),
});
export type RegressionProgress = z.output<typeof RegressionProgress>;

export const RegressionView = z.object({
  id: z.string(),
  suite_name: z.string(),
  baseline: z.object({ name: z.string(), version: z.int() }).nullable().meta({
    description: 'the baseline version compared against; null until known or when it does not exist',
  }),
  commit: z.string().nullable(),
  branch: z.string().nullable(),
  ci_url: z.string().nullable(),
  created_at: z.iso.datetime(),
  finished_at: z.iso.datetime().nullable(),
  status: z.enum(['running', 'finished']),
  verdict: RegressionVerdict.nullable(),
  progress: RegressionProgress,
  candidate_run_ids: z.array(z.string()),
  report: RegressionReport.nullable(),
});
export type RegressionView = z.output<typeof RegressionView>;

export const RegressionList = z.object({
  regressions: z.array(RegressionView),
  next_page_token: z.string().nullable(),
});
export type RegressionList = z.output<typeof RegressionList>;

export const SuiteHistoryPoint = z.object({
  regression_id: z.string(),
  commit: z.string().nullable(),
  branch: z.string().nullable(),
  created_at: z.iso.datetime(),
  verdict: RegressionVerdict,
  cell: SuiteCell,
  mean: z.number().nullable(),
  std: z.number().nullable(),
  n: z.int(),
});
export type SuiteHistoryPoint = z.output<typeof SuiteHistoryPoint>;

export const SuiteHistory = z.object({
  suite_name: z.string(),
  metric: z.string(),
  points: z
    .array(SuiteHistoryPoint)
    .meta({ description: 'finished regressions, oldest first, one per cell' }),
});
export type SuiteHistory = z.output<typeof SuiteHistory>;

export const BaselineRequest = z.strictObject({
  name: RegressionName,
  regression_id: z.string().min(1).max(100),
});
export type BaselineRequest = z.output<typeof BaselineRequest>;

/** The reference values of one metric in one cell, fixed when the baseline was created. */
export const BaselineMetric = z.object({
  name: z.string(),
  cell: SuiteCell,
  values: z.array(z.number()),
  run_ids: z.array(z.string()).meta({ description: 'the run each value came from, in the same order' }),
});
export type BaselineMetric = z.output<typeof BaselineMetric>;

export const BaselineView = z.object({
  name: z.string(),
  version: z.int(),
  suite_name: z.string(),
  run_ids: z.array(z.string()),
  metrics: z.array(BaselineMetric),
  created_at: z.iso.datetime(),
});
export type BaselineView = z.output<typeof BaselineView>;
