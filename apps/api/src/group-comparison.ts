// The statistics of an ablation table, from each group's n, mean and sample std: 95 % confidence intervals, the
// best group for the metric's goal, Welch's t-test of every other group against it with Holm's correction (which
// groups are tied with the best), and what the seeds can resolve (the smallest difference a two-group t-test
// detects with the usual power, and the seeds per group a given difference needs). Pure functions.
import { type SampleMoments, studentTQuantile, studentTTwoSidedP, welchFromMoments } from './student-t.js';

export const ALPHA = 0.05;
export const CONFIDENCE = 0.95;
export const POWER = 0.8;
/** The most seeds per group `seedsNeeded` considers: a grid's seed list holds at most this many (MAX_AXIS_VALUES). */
export const MAX_SEEDS = 1000;

export type Goal = 'max' | 'min';

export interface GroupSample {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null below two values. */
  std: number | null;
}

export interface Interval {
  low: number;
  high: number;
}

/** mean ± t(1 − (1 − level)/2, n − 1) · std / √n; null below two values. */
export function confidenceInterval(group: GroupSample, level = CONFIDENCE): Interval | null {
  if (group.mean === null || group.std === null || group.n < 2) return null;
  const half = (studentTQuantile(1 - (1 - level) / 2, group.n - 1) * group.std) / Math.sqrt(group.n);
  return { low: group.mean - half, high: group.mean + half };
}

/** The index of the group with the best mean for `goal` (the first on a tie); null when no group has a mean. */
export function bestIndex(groups: readonly GroupSample[], goal: Goal): number | null {
  let best: number | null = null;
  let bestMean = 0;
  for (const [i, group] of groups.entries()) {
    if (group.mean === null) continue;
    if (best === null || (goal === 'max' ? group.mean > bestMean : group.mean < bestMean)) {
      best = i;
      bestMean = group.mean;
    }
  }
  return best;
}

/**
 * Holm's step-down adjustment: sorted ascending, p₍ᵢ₎ becomes max over j ≤ i of min(1, (m − j + 1) · p₍ⱼ₎).
 * A hypothesis is rejected at level α when its adjusted p-value is below α. Input order is kept.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = [...pValues.keys()].sort((a, b) => (pValues[a] as number) - (pValues[b] as number));
  const adjusted = new Array<number>(m);
  let running = 0;
  for (const [rank, index] of order.entries()) {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[index] as number)));
    adjusted[index] = running;
  }
  return adjusted;
}

export interface GroupTest {
  /** This group's mean minus the best group's. */
  difference: number;
  /**
   * Welch's 95 % interval of that difference, difference ± t(0.975, df) · se; a single point when both groups have
   * zero variance.
   */
  differenceCi: Interval;
  /** Welch's statistic of this group against the best; null when both have zero variance. */
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom; null when both have zero variance. */
  df: number | null;
  /** Two-sided p-value, before the correction. */
  pValue: number;
  /** Holm-adjusted p-value. */
  pAdjusted: number;
  /** Not distinguishable from the best at level α after the correction. */
  tiedWithBest: boolean;
}

export interface BestComparison {
  best: number | null;
  /** Per group: its test against the best; null for the best itself and for groups that cannot be tested. */
  tests: (GroupTest | null)[];
  /** How many tests were made (the m of Holm's correction). */
  comparisons: number;
  /** Why no test, or not every group, could be tested; null when every other group was tested. */
  message: string | null;
}

function moments(group: GroupSample): SampleMoments {
  return { mean: group.mean as number, variance: (group.std ?? 0) ** 2, n: group.n };
}

/**
 * Two-sided Welch's t-test of every group with two or more values against the best group, Holm-corrected over
 * the tests made. Two groups with zero variance each have no t statistic: p is 0 when their means differ, else 1.
 */
export function compareWithBest(groups: readonly GroupSample[], goal: Goal, alpha = ALPHA): BestComparison {
  const best = bestIndex(groups, goal);
  const tests: (GroupTest | null)[] = groups.map(() => null);
  if (best === null) return { best, tests, comparisons: 0, message: 'no group has a value yet' };
  const bestGroup = groups[best] as GroupSample;
  const others = [...groups.keys()].filter((i) => i !== best && groups[i]?.mean !== null);
  if (others.length === 0) return { best, tests, comparisons: 0, message: 'one group: nothing to compare' };
  if (bestGroup.n < 2) {
    const message = others.every((i) => (groups[i] as GroupSample).n < 2)
      ? 'every group has one value (n = 1): no test is possible; add seeds'
      : 'the best group has one value (n = 1): no group can be tested against it; add seeds';
    return { best, tests, comparisons: 0, message };
  }
  const tested = others.filter((i) => (groups[i] as GroupSample).n >= 2);
  const raw = tested.map((i) => {
    const group = groups[i] as GroupSample;
    const difference = (group.mean as number) - (bestGroup.mean as number);
    const welch = welchFromMoments(moments(bestGroup), moments(group));
    if (welch === null) {
      const point = { low: difference, high: difference };
      return { difference, differenceCi: point, t: null, df: null, pValue: difference === 0 ? 1 : 0 };
    }
    const half = studentTQuantile(1 - (1 - CONFIDENCE) / 2, welch.df) * welch.se;
    return {
      difference,
      differenceCi: { low: difference - half, high: difference + half },
      t: welch.t,
      df: welch.df,
      pValue: studentTTwoSidedP(welch.t, welch.df),
    };
  });
  const adjusted = holmAdjust(raw.map((test) => test.pValue));
  for (const [k, i] of tested.entries()) {
    const pAdjusted = adjusted[k] as number;
    tests[i] = { ...(raw[k] as (typeof raw)[number]), pAdjusted, tiedWithBest: pAdjusted >= alpha };
  }
  const untested = others.length - tested.length;
  const message =
    untested === 0
      ? null
      : `${untested} group${untested === 1 ? ' has' : 's have'} one value (n = 1) and ${untested === 1 ? 'was' : 'were'} not tested`;
  return { best, tests, comparisons: tested.length, message };
}

export interface PooledStd {
  /** √(Σ (nᵢ − 1) sᵢ² / Σ (nᵢ − 1)) over the groups with two or more values. */
  std: number;
  /** Σ (nᵢ − 1). */
  df: number;
}

/** The pooled within-group standard deviation; null when no group has two values. */
export function pooledStd(groups: readonly GroupSample[]): PooledStd | null {
  let df = 0;
  let sum = 0;
  for (const group of groups) {
    if (group.n < 2 || group.std === null) continue;
    df += group.n - 1;
    sum += (group.n - 1) * group.std ** 2;
  }
  return df === 0 ? null : { std: Math.sqrt(sum / df), df };
}

/** The harmonic mean of the groups' sizes: the n of two equal groups whose difference has the typical variance. */
export function harmonicMeanSize(groups: readonly GroupSample[]): number | null {
  const sizes = groups.filter((group) => group.n > 0).map((group) => group.n);
  if (sizes.length === 0) return null;
  return sizes.length / sizes.reduce((sum, n) => sum + 1 / n, 0);
}

/**
 * The smallest difference between two groups of n values each that a two-sided two-sample t-test at level α
 * detects with probability `power`, when the values' standard deviation is `std`:
 *   δ = (t(1 − α/2, ν) + t(power, ν)) · std · √(2/n),  ν = 2(n − 1)
 * (the usual approximation of the noncentral t by a shifted central t). Needs n > 1.
 */
export function resolvableDifference(std: number, n: number, alpha = ALPHA, power = POWER): number {
  if (!(n > 1)) throw new RangeError(`resolvable difference: needs n > 1, got ${n}`);
  const df = 2 * (n - 1);
  return (studentTQuantile(1 - alpha / 2, df) + studentTQuantile(power, df)) * std * Math.sqrt(2 / n);
}

/**
 * The fewest values per group (≥ 2) whose resolvable difference is at most `difference`; null when even
 * MAX_SEEDS are not enough. The resolvable difference falls as n grows, so a bisection finds it.
 */
export function seedsNeeded(std: number, difference: number, alpha = ALPHA, power = POWER): number | null {
  if (!(difference > 0)) throw new RangeError(`seeds needed: the difference must be > 0, got ${difference}`);
  const enough = (n: number) => resolvableDifference(std, n, alpha, power) <= difference;
  if (!enough(MAX_SEEDS)) return null;
  let low = 1;
  let high = MAX_SEEDS;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (enough(mid)) high = mid;
    else low = mid;
  }
  return high;
}
