// The verdict engine against numbers computed by hand and with SciPy (scipy.stats.t, scipy.special.betainc,
// scipy.stats.ttest_ind(equal_var=False)); no database.
import type { SuiteMetric } from '@swavlab/spec';
import { describe, expect, it } from 'vitest';
import { compareMetric, overallVerdict, reportMessage } from '../src/regressions/verdict.js';
import { logGamma, regularizedIncompleteBeta, studentTCdf, welchT, welchWorseP } from '../src/student-t.js';

describe("Student's t and the incomplete beta function", () => {
  it('matches known values', () => {
    expect(1 - studentTCdf(2, 5)).toBeCloseTo(0.05096973941492914, 12);
    expect(studentTCdf(-2, 5)).toBeCloseTo(0.05096973941492914, 12);
    expect(studentTCdf(1, 2)).toBeCloseTo(0.7886751345948129, 12); // 1/2 + t / (2 sqrt(2 + t²))
    expect(1 - studentTCdf(1, 1)).toBeCloseTo(0.25, 12); // Cauchy
    expect(studentTCdf(0, 7)).toBe(0.5);
    expect(1 - studentTCdf(30, 3)).toBeCloseTo(4.067640213581984e-5, 12);
    expect(studentTCdf(-8, 2.5)).toBeCloseTo(0.0038283220655217225, 12);
    expect(studentTCdf(1.959964, 1e7)).toBeCloseTo(0.975, 6); // the normal limit
  });

  it('computes I_x(a, b) on both sides of the continued fraction switch', () => {
    expect(regularizedIncompleteBeta(0.4, 2, 3)).toBeCloseTo(0.5248, 12);
    expect(regularizedIncompleteBeta(0.3, 1, 3)).toBeCloseTo(1 - 0.7 ** 3, 12);
    expect(regularizedIncompleteBeta(0.01, 0.5, 10)).toBeCloseTo(0.3420718248432155, 12);
    expect(regularizedIncompleteBeta(0.45, 50, 60)).toBeCloseTo(0.4642352914306064, 10);
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
    expect(() => regularizedIncompleteBeta(1.5, 2, 3)).toThrow(RangeError);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  it("gives Welch's statistic, degrees of freedom and one-sided p-values", () => {
    const baseline = [0.5, 0.52, 0.54];
    const worse = [0.44, 0.46, 0.48];
    const result = welchT(baseline, worse);
    expect(result?.t).toBeCloseTo(-3.674234614174769, 10);
    expect(result?.df).toBeCloseTo(4, 12);
    expect(welchWorseP(baseline, worse, 'max')).toBeCloseTo(0.010655820564378348, 10);
    expect(welchWorseP(baseline, worse, 'min')).toBeCloseTo(1 - 0.010655820564378348, 10);

    const a = [1.0, 1.1, 0.9, 1.2];
    const b = [1.3, 1.25, 1.1];
    expect(welchT(a, b)?.df).toBeCloseTo(4.915360501567398, 10);
    expect(welchWorseP(a, b, 'min')).toBeCloseTo(0.059192541382898756, 10);
  });

  it('handles zero variance on both sides: p 0 when worse, 1 otherwise', () => {
    expect(welchT([1, 1, 1], [1, 1, 1])).toBeNull();
    expect(welchWorseP([1, 1, 1], [0.9, 0.9, 0.9], 'max')).toBe(0);
    expect(welchWorseP([1, 1, 1], [1.1, 1.1, 1.1], 'max')).toBe(1);
    expect(welchWorseP([1, 1, 1], [1.1, 1.1, 1.1], 'min')).toBe(0);
    expect(welchWorseP([0.3, 0.3, 0.3], [0.3, 0.3, 0.3], 'min')).toBe(1);
  });
});

const knnAbs: SuiteMetric = {
  name: 'knn_top1@20',
  direction: 'max',
  tolerance: { kind: 'absolute', value: 0.02 },
};
const lossRel: SuiteMetric = { name: 'loss', direction: 'min', tolerance: { kind: 'relative', value: 0.05 } };
const knnStat: SuiteMetric = {
  name: 'knn_top1@20',
  direction: 'max',
  tolerance: { kind: 'statistical', alpha: 0.05, min_effect: 0.01 },
};

describe('compareMetric', () => {
  it('absolute, max: a drop beyond the threshold regresses, a smaller one or a rise passes', () => {
    const row = compareMetric({
      metric: knnAbs,
      cell: {},
      baseline: [0.5, 0.52, 0.54],
      candidate: [0.47, 0.49],
    });
    expect(row).toMatchObject({
      baseline: { mean: 0.52, n: 3 },
      candidate: { mean: 0.48, n: 2, std: expect.closeTo(Math.SQRT2 * 0.01, 12) },
      threshold: 0.02,
      p_value: null,
      verdict: 'regression',
      reason: 'worse by 0.04, more than the threshold 0.02',
    });
    expect(row.delta).toBeCloseTo(-0.04, 12);
    const small = compareMetric({ metric: knnAbs, cell: {}, baseline: [0.52], candidate: [0.51] });
    expect(small).toMatchObject({ verdict: 'pass', reason: 'worse by 0.01, within the threshold 0.02' });
    const better = compareMetric({ metric: knnAbs, cell: {}, baseline: [0.52], candidate: [0.6] });
    expect(better.verdict).toBe('pass');
    expect(better.reason).toMatch(/^better by 0\.08/);
  });

  it('relative, min: the threshold is value × |baseline mean|, and the p-value is shown with 3 seeds a side', () => {
    const baseline = [4.0, 4.2, 4.4];
    const up = compareMetric({
      metric: lossRel,
      cell: { 'swav.prototypes': 30 },
      baseline,
      candidate: [4.5, 4.5, 4.6],
    });
    expect(up.threshold).toBeCloseTo(0.21, 12);
    expect(up.delta).toBeCloseTo(4.5333333333 - 4.2, 8);
    expect(up.verdict).toBe('regression');
    expect(up.p_value).not.toBeNull();
    expect(up.cell).toEqual({ 'swav.prototypes': 30 });
    const within = compareMetric({ metric: lossRel, cell: {}, baseline, candidate: [4.3, 4.4, 4.2] });
    expect(within.delta).toBeCloseTo(0.1, 12);
    expect(within.verdict).toBe('pass');
    const lower = compareMetric({ metric: lossRel, cell: {}, baseline, candidate: [3, 3, 3] });
    expect(lower.verdict).toBe('pass');
    const negative = compareMetric({
      metric: { ...lossRel, direction: 'max' },
      cell: {},
      baseline: [-2, -2],
      candidate: [-2.2],
    });
    expect(negative.threshold).toBeCloseTo(0.1, 12);
    expect(negative.verdict).toBe('regression');
  });

  it('statistical: significant and large enough regresses; not significant, or too small an effect, passes', () => {
    const baseline = [0.5, 0.52, 0.54];
    const row = compareMetric({ metric: knnStat, cell: {}, baseline, candidate: [0.44, 0.46, 0.48] });
    expect(row.p_value).toBeCloseTo(0.010655820564378348, 10);
    expect(row.threshold).toBe(0.01);
    expect(row).toMatchObject({ verdict: 'regression', reason: 'worse by 0.06; p = 0.01066 < alpha 0.05' });

    const noisy = compareMetric({ metric: knnStat, cell: {}, baseline, candidate: [0.4, 0.52, 0.6] });
    expect(noisy.verdict).toBe('pass');
    expect(noisy.p_value).toBeGreaterThan(0.05);

    const tiny = compareMetric({
      metric: knnStat,
      cell: {},
      baseline: [0.5, 0.5, 0.5],
      candidate: [0.495, 0.495, 0.495],
    });
    expect(tiny).toMatchObject({ p_value: 0, verdict: 'pass' });
    expect(tiny.reason).toMatch(/\|delta\| ≤ min_effect 0\.01/);

    const better = compareMetric({ metric: knnStat, cell: {}, baseline, candidate: [0.6, 0.62, 0.64] });
    expect(better.verdict).toBe('pass');
    expect(better.p_value).toBeGreaterThan(0.99);
  });

  it('statistical with min direction and zero variance on both sides', () => {
    const metric: SuiteMetric = {
      name: 'loss',
      direction: 'min',
      tolerance: { kind: 'statistical', alpha: 0.05, min_effect: 0 },
    };
    const same = compareMetric({ metric, cell: {}, baseline: [2, 2, 2], candidate: [2, 2, 2] });
    expect(same).toMatchObject({ delta: 0, p_value: 1, verdict: 'pass' });
    const up = compareMetric({ metric, cell: {}, baseline: [2, 2, 2], candidate: [2.5, 2.5, 2.5] });
    expect(up).toMatchObject({ delta: 0.5, p_value: 0, verdict: 'regression' });
  });

  it('statistical with fewer than 3 seeds on a side is inconclusive', () => {
    const row = compareMetric({
      metric: knnStat,
      cell: {},
      baseline: [0.5, 0.52, 0.54],
      candidate: [0.1, 0.1],
    });
    expect(row).toMatchObject({
      p_value: null,
      verdict: 'inconclusive',
      reason: 'needs at least 3 seeds per side (baseline 3, candidate 2)',
    });
  });

  it('a failed candidate run, a metric not reported or a missing baseline cell is an error', () => {
    const failed = compareMetric({
      metric: knnAbs,
      cell: {},
      baseline: [0.5],
      candidate: [0.5],
      candidateError: 'candidate run r2 (seed 2) failed (diverged: loss is NaN)',
    });
    expect(failed).toMatchObject({
      verdict: 'error',
      reason: 'candidate run r2 (seed 2) failed (diverged: loss is NaN)',
    });
    expect(compareMetric({ metric: knnAbs, cell: {}, baseline: [0.5], candidate: [] })).toMatchObject({
      verdict: 'error',
      reason: 'no candidate run reported knn_top1@20',
      delta: null,
    });
    expect(compareMetric({ metric: knnAbs, cell: {}, baseline: [], candidate: [0.5] })).toMatchObject({
      verdict: 'error',
      reason: 'the baseline has no values of knn_top1@20 for this cell',
    });
    expect(
      compareMetric({ metric: knnAbs, cell: {}, baseline: [], candidate: [0.5], promoting: true }),
    ).toMatchObject({ verdict: 'pass' });
  });
});

describe('overall verdict', () => {
  it('orders error > regression > inconclusive > pass', () => {
    expect(overallVerdict([])).toBe('pass');
    expect(overallVerdict(['pass', 'inconclusive'])).toBe('inconclusive');
    expect(overallVerdict(['inconclusive', 'regression', 'pass'])).toBe('regression');
    expect(overallVerdict(['regression', 'error', 'inconclusive'])).toBe('error');
  });

  it('names the deciding rows, metric and cell, in the message', () => {
    const rows = [
      compareMetric({ metric: knnAbs, cell: { 'swav.prototypes': 30 }, baseline: [0.5], candidate: [0.4] }),
      compareMetric({ metric: knnAbs, cell: { 'swav.prototypes': 60 }, baseline: [0.5], candidate: [0.5] }),
    ];
    expect(reportMessage(rows)).toBe(
      'regression: 1 of 2 metric comparisons (knn_top1@20 [swav.prototypes=30]: worse by 0.1, more than the threshold 0.02)',
    );
    expect(reportMessage(rows.slice(1))).toBe('pass: all 1 metric comparisons are within their tolerance');
  });
});
