// The statistics of ablation tables on seeded values whose answers were computed independently, once, offline in
// Python: SciPy 1.10 (scipy.stats.ttest_ind(equal_var=False) for Welch's t, df and p; numpy for means, stds and
// the pooled variance), Holm's adjustment written out by hand, confidence intervals and the resolvable difference
// (t.ppf(0.975, ν) + t.ppf(0.8, ν)) · s · √(2/n) with SciPy's quantiles and a loop over n, quantiles with mpmath.
// Nothing here calls Python: the numbers are pasted.
import { describe, expect, it } from 'vitest';
import {
  bestIndex,
  compareWithBest,
  confidenceInterval,
  type GroupSample,
  harmonicMeanSize,
  holmAdjust,
  MAX_SEEDS,
  pooledStd,
  resolvableDifference,
  seedsNeeded,
} from '../src/group-comparison.js';
import { summarize } from '../src/stats.js';
import { studentTCdf, studentTQuantile, studentTTwoSidedP } from '../src/student-t.js';

describe("Student's t quantiles", () => {
  it('match the closed forms for 1 and 2 degrees of freedom', () => {
    for (const p of [0.6, 0.8, 0.9, 0.975, 0.995, 0.025]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 10);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 12);
    }
  });

  it('match the table values', () => {
    // Computed offline with mpmath at 40 digits (root of 1 − I_{ν/(ν+t²)}(ν/2, 1/2)/2 = p); SciPy's t.ppf agrees
    // only to about 1e-10 at small ν, so it is not the reference here.
    const table: [number, number, number][] = [
      [0.975, 1, 12.706204736174692],
      [0.975, 2, 4.302652729749462],
      [0.975, 3, 3.182446305283708],
      [0.975, 4, 2.7764451051977934],
      [0.975, 5, 2.5705818356363146],
      [0.975, 10, 2.2281388519862744],
      [0.975, 30, 2.0422724563012378],
      [0.8, 2, 1.0606601717798214],
      [0.8, 4, 0.9409645772351813],
      [0.995, 3, 5.840909309733355],
      [0.9, 1, 3.077683537175254],
      [0.975, 2.5, 3.5746548420036817],
      [0.025, 7, -2.3646242515927853],
      [0.999999, 3, 103.29946777942897],
    ];
    for (const [p, df, t] of table) expect(Math.abs(studentTQuantile(p, df) / t - 1)).toBeLessThan(1e-13);
    expect(studentTQuantile(0.5, 3)).toBe(0);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5); // the normal limit
  });

  it('invert the CDF, and the two-sided p-value is twice the tail', () => {
    for (const df of [1, 2.5, 7, 40]) {
      for (const p of [0.001, 0.2, 0.6, 0.95, 0.9999]) {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 12);
      }
    }
    expect(studentTTwoSidedP(2, 5)).toBeCloseTo(2 * 0.05096973941492914, 12);
    expect(studentTTwoSidedP(-2, 5)).toBeCloseTo(2 * 0.05096973941492914, 12);
    expect(studentTTwoSidedP(0, 5)).toBe(1);
  });

  it('refuses p outside (0, 1) and df ≤ 0', () => {
    expect(() => studentTQuantile(0, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(RangeError);
  });
});

// Six groups of an accuracy (goal max): A is best; B and D overlap it, C and E do not; F has one seed.
const VALUES: Record<string, number[]> = {
  A: [0.62, 0.65, 0.61, 0.66],
  B: [0.6, 0.63, 0.59, 0.64],
  C: [0.5, 0.52, 0.49, 0.53],
  D: [0.58, 0.66, 0.55, 0.63],
  E: [0.57, 0.58, 0.575],
  F: [0.55],
};
const NAMES = Object.keys(VALUES);

function sample(values: readonly number[]): GroupSample {
  const { n, mean, std } = summarize(values);
  return { n, mean, std };
}

const GROUPS = NAMES.map((name) => sample(VALUES[name] as number[]));

/** Reference: Welch t of the group against A (group − A), its df, the two-sided p and Holm's adjusted p. */
const REFERENCE: Record<string, { t: number; df: number; p: number; holm: number; tied: boolean }> = {
  B: { t: -1.18817705157201, df: 6, p: 0.279658290904658, holm: 0.559316581809316, tied: true },
  C: {
    t: -8.33333333333333,
    df: 5.62210796915167,
    p: 0.000227082325220564,
    holm: 0.000908329300882257,
    tied: false,
  },
  D: {
    t: -1.09544511501033,
    df: 4.32538269846921,
    p: 0.330533929678895,
    holm: 0.559316581809316,
    tied: true,
  },
  E: {
    t: -4.89897948556636,
    df: 3.34595524956971,
    p: 0.0125537464590777,
    holm: 0.0376612393772332,
    tied: false,
  },
};

describe('comparing groups with the best', () => {
  it('finds the best group, the tied ones and the p-values of the reference', () => {
    const result = compareWithBest(GROUPS, 'max');
    expect(result.best).toBe(NAMES.indexOf('A'));
    expect(result.comparisons).toBe(4);
    expect(result.message).toBe('1 group has one value (n = 1) and was not tested');
    expect(result.tests[NAMES.indexOf('A')]).toBeNull();
    expect(result.tests[NAMES.indexOf('F')]).toBeNull();
    for (const [name, reference] of Object.entries(REFERENCE)) {
      const test = result.tests[NAMES.indexOf(name)];
      expect(test?.t).toBeCloseTo(reference.t, 10);
      expect(test?.df).toBeCloseTo(reference.df, 10);
      expect(test?.pValue).toBeCloseTo(reference.p, 12);
      expect(test?.pAdjusted).toBeCloseTo(reference.holm, 12);
      expect(test?.tiedWithBest).toBe(reference.tied);
    }
    const tied = NAMES.filter((_, i) => result.tests[i]?.tiedWithBest === true);
    expect(tied).toEqual(['B', 'D']);
  });

  it('gives the 95 % confidence intervals of the reference', () => {
    const reference: Record<string, [number, number]> = {
      A: [0.597121312471886, 0.672878687528114],
      C: [0.480948372842447, 0.539051627157553],
      D: [0.526506825802108, 0.683493174197892],
      E: [0.562579311440781, 0.587420688559219],
    };
    for (const [name, [low, high]] of Object.entries(reference)) {
      const interval = confidenceInterval(GROUPS[NAMES.indexOf(name)] as GroupSample);
      expect(interval?.low).toBeCloseTo(low, 12);
      expect(interval?.high).toBeCloseTo(high, 12);
    }
    expect(confidenceInterval(GROUPS[NAMES.indexOf('F')] as GroupSample)).toBeNull();
  });

  it('takes the lowest mean for a loss, and tests in the other direction', () => {
    // Reference: best p100; p30 t 5.69102408201207, p 0.00842083516723098, Holm 0.016841670334462 (distinct);
    // p300 t 0.258198889747157, p 0.813263406615481, Holm 0.813263406615481 (tied).
    const loss = [
      [5.7, 5.65, 5.72],
      [5.4, 5.52, 5.46],
      [5.44, 5.5, 5.47],
    ].map(sample);
    const result = compareWithBest(loss, 'min');
    expect(result.best).toBe(1);
    expect(result.tests[0]?.t).toBeCloseTo(5.69102408201207, 10);
    expect(result.tests[0]?.pValue).toBeCloseTo(0.00842083516723098, 12);
    expect(result.tests[0]?.pAdjusted).toBeCloseTo(0.016841670334462, 12);
    expect(result.tests[0]?.tiedWithBest).toBe(false);
    expect(result.tests[2]?.t).toBeCloseTo(0.258198889747157, 10);
    expect(result.tests[2]?.pAdjusted).toBeCloseTo(0.813263406615481, 12);
    expect(result.tests[2]?.tiedWithBest).toBe(true);
    expect(bestIndex(loss, 'max')).toBe(0);
  });

  it('says that no test is possible with one seed per group, and never makes up a p-value', () => {
    const single = [[0.5], [0.6], [0.55]].map(sample);
    const result = compareWithBest(single, 'max');
    expect(result.best).toBe(1);
    expect(result.comparisons).toBe(0);
    expect(result.tests).toEqual([null, null, null]);
    expect(result.message).toBe('every group has one value (n = 1): no test is possible; add seeds');
    const bestAlone = compareWithBest([[0.5, 0.52], [0.7]].map(sample), 'max');
    expect(bestAlone.tests).toEqual([null, null]);
    expect(bestAlone.message).toMatch(/^the best group has one value/);
    expect(compareWithBest([sample([0.5, 0.6])], 'max').message).toBe('one group: nothing to compare');
    expect(compareWithBest([], 'max')).toMatchObject({ best: null, message: 'no group has a value yet' });
  });

  it('handles groups without variance: p 1 for equal means, 0 for different ones', () => {
    const result = compareWithBest(
      [
        [0.5, 0.5],
        [0.5, 0.5],
        [0.4, 0.4],
      ].map(sample),
      'max',
    );
    expect(result.best).toBe(0);
    expect(result.tests[1]).toEqual({
      difference: 0,
      differenceCi: { low: 0, high: 0 },
      t: null,
      df: null,
      pValue: 1,
      pAdjusted: 1,
      tiedWithBest: true,
    });
    expect(result.tests[2]).toMatchObject({ t: null, df: null, pValue: 0, tiedWithBest: false });
    expect(result.tests[2]?.difference).toBeCloseTo(-0.1, 15);
    expect(result.tests[2]?.differenceCi.low).toBe(result.tests[2]?.differenceCi.high);
  });

  it("gives Welch's 95 % interval of each group's difference from the best", () => {
    // Equal sizes and variances make Welch's df exactly 2(n − 1) = 4: the interval is −3 ± t(0.975, 4) · √(2/3),
    // with t(0.975, 4) = 2.7764451051977934 (mpmath, as in the quantile table above).
    const result = compareWithBest([sample([4, 5, 6]), sample([1, 2, 3])], 'max');
    const test = result.tests[1];
    expect(test?.df).toBeCloseTo(4, 12);
    expect(test?.difference).toBe(-3);
    const half = 2.7764451051977934 * Math.sqrt(2 / 3);
    expect(test?.differenceCi.low).toBeCloseTo(-3 - half, 12);
    expect(test?.differenceCi.high).toBeCloseTo(-3 + half, 12);
  });

  it("adjusts p-values with Holm's step-down procedure", () => {
    expect(holmAdjust([0.01, 0.04, 0.03, 0.005])).toEqual([0.03, 0.06, 0.06, 0.02]);
    expect(holmAdjust([0.3, 0.9])).toEqual([0.6, 0.9]);
    expect(holmAdjust([0.5, 0.9])).toEqual([1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe('what the seeds can resolve', () => {
  it('pools the variance and gives the reference resolvable difference and seeds needed', () => {
    const pooled = pooledStd(GROUPS);
    expect(pooled?.std).toBeCloseTo(0.0289704282723904, 14);
    expect(pooled?.df).toBe(14);
    const n = harmonicMeanSize(GROUPS) as number;
    expect(n).toBeCloseTo(2.57142857142857, 12);
    expect(resolvableDifference(pooled?.std as number, n)).toBeCloseTo(0.104079455367648, 10);
    // Reference: the smallest n whose resolvable difference is at most 0.02 is 34 (0.02029 at 33, 0.01998 at
    // 34); 133 for 0.01; 7 for 0.05.
    expect(seedsNeeded(pooled?.std as number, 0.02)).toBe(34);
    expect(seedsNeeded(pooled?.std as number, 0.01)).toBe(133);
    expect(seedsNeeded(pooled?.std as number, 0.05)).toBe(7);
    expect(seedsNeeded(0.2, 0.001)).toBeNull();
    expect(seedsNeeded(0, 0.01)).toBe(2);
    expect(MAX_SEEDS).toBe(1000);
  });

  it('has no variance estimate without a group of two values', () => {
    expect(pooledStd([[0.5], [0.6]].map(sample))).toBeNull();
    expect(harmonicMeanSize([])).toBeNull();
    expect(() => resolvableDifference(0.1, 1)).toThrow(RangeError);
    expect(() => seedsNeeded(0.1, 0)).toThrow(RangeError);
  });
});
