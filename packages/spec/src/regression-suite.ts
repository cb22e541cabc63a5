import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { expandGrid, type GridCell } from './expand-grid.js';
import type { ExperimentSpec } from './experiment-spec.js';
import { ExperimentSpecFields, Seed } from './experiment-spec.js';
import { GridMetric, GridSpec, gridCellCount } from './grid-spec.js';
import { type Issue, issuesFromZod } from './issues.js';

/**
 * A regression suite (issue 7): a base experiment, an optional small grid of axes, the seeds every cell runs
 * with, and the metrics compared against a baseline, each with a direction and a tolerance.
 */

export const MAX_SUITE_CELLS = 16;
export const MAX_SUITE_SEEDS = 10;
export const MAX_SUITE_METRICS = 32;

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/** Suite and baseline names: they appear in URLs and file names, so a conservative alphabet. */
export const RegressionName = z
  .string()
  .min(1)
  .max(100)
  .regex(NAME_PATTERN, { message: 'may only contain letters, digits, ".", "_" and "-"' });

export const AbsoluteTolerance = z.strictObject({
  kind: z.literal('absolute'),
  value: z.number().min(0).meta({ description: 'largest allowed worsening of the mean, in metric units' }),
});

export const RelativeTolerance = z.strictObject({
  kind: z.literal('relative'),
  value: z
    .number()
    .min(0)
    .max(100)
    .meta({ description: 'largest allowed worsening as a fraction of |baseline mean| (0.05 = 5 %)' }),
});

export const StatisticalTolerance = z.strictObject({
  kind: z.literal('statistical'),
  alpha: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.05)
    .meta({ description: 'significance level of the one-sided test' }),
  min_effect: z
    .number()
    .min(0)
    .default(0)
    .meta({ description: 'a significant worsening counts only when |delta| exceeds this' }),
});

export const Tolerance = z.discriminatedUnion('kind', [
  AbsoluteTolerance,
  RelativeTolerance,
  StatisticalTolerance,
]);
export type Tolerance = z.output<typeof Tolerance>;

export const MetricDirection = z.enum(['max', 'min']).meta({ description: 'which way is better' });
export type MetricDirection = z.output<typeof MetricDirection>;

export const SuiteMetric = z.strictObject({
  name: GridMetric.shape.name,
  direction: MetricDirection,
  tolerance: Tolerance,
});
export type SuiteMetric = z.output<typeof SuiteMetric>;

function requireDistinctSeeds(seeds: readonly number[], ctx: z.core.$RefinementCtx<number[]>): void {
  const first = new Map<number, number>();
  for (const [i, seed] of seeds.entries()) {
    const earlier = first.get(seed);
    if (earlier === undefined) first.set(seed, i);
    else ctx.addIssue({ code: 'custom', path: [i], input: seed, message: `duplicates entry [${earlier}]` });
  }
}

export const RegressionSuite = z
  .strictObject({
    name: RegressionName,
    spec: ExperimentSpecFields,
    axes: GridSpec.shape.axes.default(() => ({})),
    seeds: z.array(Seed).min(1).max(MAX_SUITE_SEEDS).superRefine(requireDistinctSeeds),
    metrics: z.array(SuiteMetric).min(1).max(MAX_SUITE_METRICS),
  })
  .superRefine((suite, ctx) => {
    const cells = gridCellCount(suite.axes, 1);
    if (cells > MAX_SUITE_CELLS) {
      ctx.addIssue({
        code: 'custom',
        path: ['axes'],
        input: suite.axes,
        message: `the axes give ${cells} cells (without seeds); a suite may have at most ${MAX_SUITE_CELLS}`,
      });
    }
  });

export type RegressionSuiteInput = z.input<typeof RegressionSuite>;
export type RegressionSuite = z.output<typeof RegressionSuite>;

export type SuiteExpansion =
  | { ok: true; suite: RegressionSuite; cells: GridCell[] }
  | { ok: false; errors: Issue[] };

/** The key a cell's axis values are compared by (`{}` for a suite without axes). */
export function cellKey(axisValues: Record<string, unknown>): string {
  return canonicalJson(axisValues);
}

// Grid expansion reports the suite's `spec` as the grid's `base`.
function fromGridIssue(issue: Issue): Issue {
  const path = /^base(?=$|[.[])/.test(issue.path) ? `spec${issue.path.slice(4)}` : issue.path;
  return { path, message: issue.message.replace(/\bbase\./g, 'spec.') };
}

/** Why `metric` would never be reported by a run of `spec` (its evaluation is switched off), if it would not. */
function unreportedMetric(metric: string, spec: ExperimentSpec): string | undefined {
  const knn = /^knn_top1@(\d+)$/.exec(metric);
  if (knn) {
    if (spec.eval.knn === null) return `${metric} is never evaluated: spec.eval.knn is null`;
    const k = Number(knn[1]);
    if (!spec.eval.knn.k.includes(k)) {
      return `${metric} is never evaluated: spec.eval.knn.k is ${JSON.stringify(spec.eval.knn.k)}`;
    }
  }
  const linear = /^linear_(fast_)?top[15]$/.exec(metric);
  if (linear) {
    if (spec.eval.linear === null) return `${metric} is never evaluated: spec.eval.linear is null`;
    const protocol = linear[1] === undefined ? 'paper' : 'fast';
    if (spec.eval.linear.protocol !== protocol) {
      return `${metric} is never evaluated: spec.eval.linear.protocol is "${spec.eval.linear.protocol}" (${metric} comes from "${protocol}")`;
    }
  }
  if (metric.startsWith('semisup_') && spec.eval.semisup === null) {
    return `${metric} is never evaluated: spec.eval.semisup is null`;
  }
  return undefined;
}

/**
 * Validates a suite completely: the fields, then every cell of spec × axes × seeds as a full experiment spec
 * (cross-field rules included), and that every metric is one the cells report. Errors name the field.
 */
export function expandSuite(input: unknown): SuiteExpansion {
  const parsed = RegressionSuite.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: issuesFromZod(parsed.error, { schema: RegressionSuite }) };
  const suite = parsed.data;
  const expansion = expandGrid({ name: suite.name, base: suite.spec, axes: suite.axes, seeds: suite.seeds });
  if (!expansion.ok) return { ok: false, errors: expansion.errors.map(fromGridIssue) };
  const errors: Issue[] = [];
  for (const [i, metric] of suite.metrics.entries()) {
    const problem = expansion.cells
      .map((cell) => unreportedMetric(metric.name, cell.spec))
      .find((p) => p !== undefined);
    if (problem) errors.push({ path: `metrics[${i}].name`, message: problem });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, suite, cells: expansion.cells };
}
