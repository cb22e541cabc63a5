import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { closestName } from './did-you-mean.js';
import { ExperimentSpecFields, Seed, Tags } from './experiment-spec.js';
import { EVALUATION_METRICS, isMetricName, METRIC_GOALS, TRAINING_METRICS } from './metrics.js';
import { getAtPath } from './paths.js';
import { applyRecipe } from './recipes.js';
import { SPEC_LEAF_PATHS } from './spec-paths.js';

/**
 * An ablation grid: a base spec, axes (spec path → values) and seeds. It expands to the cartesian product of
 * the axes times the seeds (see `expandGrid`).
 */

export const MAX_GRID_CELLS = 10_000;
export const MAX_AXIS_VALUES = 1000;

const METADATA_PATHS = new Set(['name', 'tags', 'recipe']);
const AXIS_PATHS = SPEC_LEAF_PATHS.filter((p) => p !== 'seed' && !METADATA_PATHS.has(p));
const AXIS_PATH_SET = new Set(AXIS_PATHS);

/** Adds an issue for every entry equal (as canonical JSON) to an earlier one. */
export function requireDistinct(values: readonly unknown[], ctx: z.core.$RefinementCtx<unknown[]>): void {
  const firstSeen = new Map<string, number>();
  for (const [i, value] of values.entries()) {
    const key = canonicalJson(value);
    const earlier = firstSeen.get(key);
    if (earlier === undefined) firstSeen.set(key, i);
    else ctx.addIssue({ code: 'custom', path: [i], input: value, message: `duplicates entry [${earlier}]` });
  }
}

function axisPathProblem(path: string): string | undefined {
  if (AXIS_PATH_SET.has(path)) return undefined;
  if (path === 'seed') return 'seed is not an axis; list the seeds in "seeds"';
  if (METADATA_PATHS.has(path)) return `"${path}" is metadata, not part of the spec; it cannot be an axis`;
  const inside = AXIS_PATHS.find((p) => p.startsWith(`${path}.`));
  if (inside) return `"${path}" is a section; an axis varies one field, such as "${inside}"`;
  const suggestion = closestName(path, AXIS_PATHS);
  return `unknown spec path "${path}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
}

const AxisValues = z.array(z.json()).min(1).max(MAX_AXIS_VALUES).superRefine(requireDistinct);

const Axes = z
  .record(z.string(), AxisValues)
  .meta({ description: 'spec leaf path (e.g. "swav.prototypes") → the values it takes' })
  .superRefine((axes, ctx) => {
    for (const path of Object.keys(axes)) {
      const problem = axisPathProblem(path);
      if (problem) ctx.addIssue({ code: 'custom', path: [path], input: path, message: problem });
    }
  });

export const GridMetric = z.strictObject({
  name: z.string().refine(isMetricName, {
    message: `must be a metric name: knn_top1@<k>, ${[...EVALUATION_METRICS, ...TRAINING_METRICS].join(', ')}`,
  }),
  goal: z.enum(METRIC_GOALS),
});

/** Number of cells a grid expands to, computed without materialising them. */
export function gridCellCount(axes: Record<string, readonly unknown[]>, seedCount: number): number {
  return Object.values(axes).reduce((product, values) => product * values.length, seedCount);
}

type GridFields = {
  base: z.output<typeof ExperimentSpecFields>;
  axes: Record<string, unknown[]>;
  seeds?: number[] | undefined;
};

function gridRules(grid: GridFields, ctx: z.core.$RefinementCtx<GridFields>): void {
  // An axis below a section the base switched off (eval.knn: null) would silently switch it back on.
  for (const path of Object.keys(grid.axes).filter((p) => AXIS_PATH_SET.has(p))) {
    const segments = path.split('.');
    for (let i = 1; i < segments.length; i++) {
      const section = segments.slice(0, i).join('.');
      if (getAtPath(grid.base, section) === null) {
        ctx.addIssue({
          code: 'custom',
          path: ['axes', path],
          input: path,
          message: `cannot vary "${path}": base.${section} is null`,
        });
      }
    }
  }
  const seedCount = grid.seeds?.length ?? 1;
  const cells = gridCellCount(grid.axes, seedCount);
  if (cells > MAX_GRID_CELLS) {
    const factors = [
      ...Object.entries(grid.axes).map(([p, v]) => `${p} (${v.length})`),
      `seeds (${seedCount})`,
    ];
    ctx.addIssue({
      code: 'custom',
      path: ['axes'],
      input: grid.axes,
      message: `the grid expands to ${factors.join(' × ')} = ${cells.toLocaleString('en-US')} cells; at most ${MAX_GRID_CELLS.toLocaleString('en-US')} are allowed`,
    });
  }
}

export const GridSpec = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    // The recipe is expanded before the defaults fill the base in: afterwards every field has a value, and the
    // cells would keep the defaults instead of the recipe's settings.
    base: z.preprocess(applyRecipe, ExperimentSpecFields),
    axes: Axes,
    seeds: z
      .array(Seed)
      .min(1)
      .max(MAX_AXIS_VALUES)
      .superRefine(requireDistinct)
      .optional()
      .meta({ description: "default: the base spec's seed" }),
    metric: GridMetric.default(() => ({ name: 'knn_top1@20', goal: 'max' as const })),
    tags: Tags.default(() => []),
  })
  .superRefine(gridRules);

export type GridSpecInput = z.input<typeof GridSpec>;
export type GridSpec = z.output<typeof GridSpec>;
