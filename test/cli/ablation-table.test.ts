// The ablation tables of `swavlab results` on hand-built responses: the ★ and ≈ marks, n and the confidence
// intervals in both layouts, the notes naming the test and the correction, what the seeds resolve, and the unit
// of --power.
import type { GridResults, ResultGroup } from '@swavlab/spec';
import { describe, expect, it } from 'vitest';
import {
  differenceInMetricUnits,
  formatDifference,
  groupsTable,
  pivotTable,
  significantDifferences,
  statisticsNotes,
} from '../../apps/cli/src/ablation-table.js';

function group(
  prototypes: number,
  iterations: number,
  values: Partial<ResultGroup> & Pick<ResultGroup, 'n' | 'mean'>,
): ResultGroup {
  return {
    key: { 'swav.prototypes': prototypes, 'swav.sinkhorn_iterations': iterations },
    std: null,
    median: values.mean,
    min: values.mean,
    max: values.mean,
    run_ids: [],
    ci95: null,
    best: false,
    tied_with_best: null,
    test: null,
    costs: { epoch_seconds_mean: null, peak_memory_bytes_max: null, wall_seconds_mean: null },
    ...values,
  };
}

const test = (p: number, difference = -0.1) => ({
  difference,
  difference_ci95: { low: difference - 0.05, high: difference + 0.05 },
  t: -2,
  df: 4,
  p_value: p / 2,
  p_adjusted: p,
});

function results(groups: ResultGroup[], overrides: Partial<GridResults> = {}): GridResults {
  return {
    grid_id: 'G1',
    metric: 'knn_top1@20',
    goal: 'max',
    group_by: ['swav.prototypes', 'swav.sinkhorn_iterations'],
    groups,
    best: null,
    comparison: {
      method:
        "Welch's two-sided t-test of each group against the best group, Holm-corrected over the tests made",
      test: 'welch_t_two_sided',
      correction: 'holm',
      alpha: 0.05,
      possible: true,
      comparisons: 2,
      tied: 1,
      message: null,
    },
    resolution: {
      alpha: 0.05,
      power: 0.8,
      seeds_per_group: 3,
      pooled_std: 0.021,
      pooled_df: 6,
      min_resolvable_difference: 0.0583,
      difference: null,
      seeds_needed: null,
      message: null,
    },
    runs_without_value: 0,
    runs_not_finished: 0,
    ...overrides,
  };
}

const GROUPS = [
  group(30, 1, {
    n: 3,
    mean: 0.59,
    std: 0.055,
    ci95: { low: 0.4534, high: 0.7266 },
    tied_with_best: true,
    test: test(0.31),
  }),
  group(30, 3, { n: 3, mean: 0.469, std: 0.077, ci95: { low: 0.2777, high: 0.6603 }, best: true }),
  group(100, 1, {
    n: 3,
    mean: 0.2,
    std: 0.01,
    ci95: { low: 0.1752, high: 0.2248 },
    tied_with_best: false,
    test: test(0.00004, -0.269),
  }),
  group(100, 3, { n: 1, mean: 0.3 }),
];

describe('ablation tables', () => {
  it('marks the best group and the tied ones, with n, the CI and the adjusted p in the groups table', () => {
    const lines = groupsTable(results(GROUPS)).split('\n');
    expect(lines[0]).toMatch(
      /^ +swav\.prototypes +swav\.sinkhorn_iterations +knn_top1@20 \(%\) mean ± std +95% CI +n +min +max +p vs best$/,
    );
    expect(lines[2]).toMatch(/^≈ +30 +1 +59\.0 ± 5\.5 +\[45\.3, 72\.7\] +3 +59\.0 +59\.0 +0\.31$/);
    expect(lines[3]).toMatch(/^★ +30 +3 +46\.9 ± 7\.7 +\[27\.8, 66\.0\] +3 +46\.9 +46\.9 +-$/);
    expect(lines[4]).toMatch(/^ +100 +1 +20\.0 ± 1\.0 +\[17\.5, 22\.5\] +3 +20\.0 +20\.0 +4\.0e-5$/);
    expect(lines[5]).toMatch(/^ +100 +3 +30\.0 +- +1 +30\.0 +30\.0 +-$/);
  });

  it('names each difference the test calls significant, with its size, interval and adjusted p', () => {
    expect(significantDifferences(results(GROUPS))).toEqual([
      'significant: swav.prototypes=30 swav.sinkhorn_iterations=3 beats swav.prototypes=100 ' +
        'swav.sinkhorn_iterations=1 by 26.9 points (95% CI 21.9 points to 31.9 points, adjusted p = 4.0e-5)',
    ]);
    expect(significantDifferences(results(GROUPS.filter((g) => g.tied_with_best !== false)))).toEqual([]);
  });

  it('writes crops in the notation, not the structured form the validated spec holds', () => {
    const crops = [
      { count: 2, size: 32, min_scale: 0.3, max_scale: 1 },
      { count: 4, size: 16, min_scale: 0.15, max_scale: 0.4 },
    ];
    const table = groupsTable(
      results([{ ...group(30, 1, { n: 1, mean: 0.5, best: true }), key: { 'swav.crops': crops } }], {
        group_by: ['swav.crops'],
      }),
    );
    expect(table.split('\n')[2]).toMatch(/^★ +2x32\(0\.3-1\)\+4x16\(0\.15-0\.4\) +50\.0 /);
  });

  it('puts the mark, mean ± std, CI and n in every pivot cell', () => {
    const lines = pivotTable(results(GROUPS), 'swav.prototypes', 'swav.sinkhorn_iterations').split('\n');
    expect(lines[0]).toMatch(/^swav\.prototypes \\ swav\.sinkhorn_iterations +1 +3$/);
    expect(lines[2]).toBe(
      '30                                          ≈ 59.0 ± 5.5 [45.3, 72.7] n=3  ★ 46.9 ± 7.7 [27.8, 66.0] n=3',
    );
    expect(lines[3]).toMatch(/^100 + 20\.0 ± 1\.0 \[17\.5, 22\.5\] n=3 + 30\.0 n=1$/);
  });

  it('names the test and the correction under the table, and what the seeds resolve', () => {
    expect(statisticsNotes(results(GROUPS))).toEqual([
      "★ best for goal max (highest mean); ≈ tied with the best: not distinguishable by Welch's two-sided t-test " +
        'of each group against the best group, Holm-corrected over the tests made (2 tests, α = 0.05); p vs best ' +
        'is the Holm-adjusted p-value',
      '95% CI: mean ± t(0.975, n − 1) · std / √n over the n seeds of each group',
      'with 3 seeds per group the smallest difference these seeds resolve is 5.8 points (two-sided α = 0.05, ' +
        'power 0.8, pooled std 2.1 points)',
    ]);
  });

  it('says when no test is possible, and how many seeds --power needs', () => {
    const single = results(
      [group(30, 1, { n: 1, mean: 0.5, best: true }), group(30, 3, { n: 1, mean: 0.4 })],
      {
        goal: 'min',
        metric: 'loss',
        comparison: {
          ...results([]).comparison,
          possible: false,
          comparisons: 0,
          tied: 0,
          message: 'every group has one value (n = 1): no test is possible; add seeds',
        },
        resolution: {
          ...results([]).resolution,
          seeds_per_group: 1,
          pooled_std: null,
          pooled_df: 0,
          min_resolvable_difference: null,
          difference: 0.05,
          message: 'no group has two values: the variance between seeds cannot be estimated; add seeds',
        },
      },
    );
    expect(statisticsNotes(single)).toEqual([
      '★ best for goal min (lowest mean); no test against it is possible',
      '  (every group has one value (n = 1): no test is possible; add seeds)',
      '95% CI: mean ± t(0.975, n − 1) · std / √n over the n seeds of each group',
      'to resolve 0.05: no group has two values: the variance between seeds cannot be estimated; add seeds',
    ]);
    const powered = results(GROUPS, {
      resolution: { ...results([]).resolution, difference: 0.02, seeds_needed: 34 },
    });
    expect(statisticsNotes(powered).at(-1)).toBe(
      'to resolve 2.0 points: 34 seeds per group (from the observed variance)',
    );
  });

  it('reads --power in percentage points for accuracies and in metric units otherwise', () => {
    expect(differenceInMetricUnits('knn_top1@20', 2)).toBeCloseTo(0.02, 15);
    expect(differenceInMetricUnits('linear_top1', 0.5)).toBeCloseTo(0.005, 15);
    expect(differenceInMetricUnits('loss', 0.05)).toBe(0.05);
    expect(formatDifference('knn_top1@20', 0.02)).toBe('2.0 points');
    expect(formatDifference('loss', 0.05)).toBe('0.05');
  });
});
