// The statistics an ablation table carries on the wire, for results groups and pivot cells alike: each group's
// 95 % confidence interval and its test against the best group, how the groups were compared, and what the seeds
// can resolve. The maths is group-comparison.ts; this turns it into the API's fields.
import type { GroupComparison, GroupStatistics, MetricGoal, SeedResolution } from '@swavlab/spec';
import {
  ALPHA,
  compareWithBest,
  confidenceInterval,
  type GroupSample,
  harmonicMeanSize,
  MAX_SEEDS,
  POWER,
  pooledStd,
  resolvableDifference,
  seedsNeeded,
} from '../group-comparison.js';

export const COMPARISON_METHOD =
  "Welch's two-sided t-test of each group against the best group, Holm-corrected over the tests made";

/** The fields a group gets beyond its summary statistics. */
export type GroupVerdict = Pick<GroupStatistics, 'ci95' | 'best' | 'tied_with_best' | 'test'>;

export interface TableStatistics {
  /** One per input group, in order. */
  groups: GroupVerdict[];
  comparison: GroupComparison;
  resolution: SeedResolution;
}

function resolution(groups: readonly GroupSample[], difference: number | undefined): SeedResolution {
  const pooled = pooledStd(groups);
  const n = harmonicMeanSize(groups);
  const base = {
    alpha: ALPHA,
    power: POWER,
    seeds_per_group: n,
    pooled_std: pooled?.std ?? null,
    pooled_df: pooled?.df ?? 0,
    difference: difference ?? null,
  };
  if (pooled === null || n === null) {
    return {
      ...base,
      min_resolvable_difference: null,
      seeds_needed: null,
      message: 'no group has two values: the variance between seeds cannot be estimated; add seeds',
    };
  }
  const needed = difference === undefined ? null : seedsNeeded(pooled.std, difference);
  return {
    ...base,
    // Below two values per group on average the two-sample test has no degrees of freedom to speak of.
    min_resolvable_difference: n > 1 ? resolvableDifference(pooled.std, n) : null,
    seeds_needed: needed,
    message:
      difference !== undefined && needed === null
        ? `more than ${MAX_SEEDS} seeds per group would be needed to resolve ${difference}`
        : null,
  };
}

/** The statistics of `groups` (each with at least one value) for `goal`; `difference` asks for seeds_needed. */
export function tableStatistics(
  groups: readonly GroupSample[],
  goal: MetricGoal,
  difference?: number,
): TableStatistics {
  const compared = compareWithBest(groups, goal);
  const verdicts = groups.map((group, i): GroupVerdict => {
    const test = compared.tests[i] ?? null;
    return {
      ci95: confidenceInterval(group),
      best: i === compared.best,
      tied_with_best: test?.tiedWithBest ?? null,
      test:
        test === null
          ? null
          : {
              difference: test.difference,
              difference_ci95: test.differenceCi,
              t: test.t,
              df: test.df,
              p_value: test.pValue,
              p_adjusted: test.pAdjusted,
            },
    };
  });
  return {
    groups: verdicts,
    comparison: {
      method: COMPARISON_METHOD,
      test: 'welch_t_two_sided',
      correction: 'holm',
      alpha: ALPHA,
      possible: compared.comparisons > 0,
      comparisons: compared.comparisons,
      tied: verdicts.filter((verdict) => verdict.tied_with_best === true).length,
      message: compared.message,
    },
    resolution: resolution(groups, difference),
  };
}
