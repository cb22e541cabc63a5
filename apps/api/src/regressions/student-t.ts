// Student's t distribution through the regularized incomplete beta function (continued fraction evaluated
// with the modified Lentz method, as in Numerical Recipes §6.4), and Welch's unequal-variance t-test.

import { summarize } from '../stats.js';

// Lanczos approximation (g = 7, 9 coefficients): |error| < 1e-15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const TINY = 1e-300;
const EPSILON = 1e-15;
const MAX_ITERATIONS = 1000;

function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < EPSILON) return h;
  }
  throw new Error(`incomplete beta: no convergence for a=${a}, b=${b}, x=${x}`);
}

/** The regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0) || Number.isNaN(x) || x < 0 || x > 1) {
    throw new RangeError(`incomplete beta: needs a, b > 0 and 0 <= x <= 1 (a=${a}, b=${b}, x=${x})`);
  }
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The continued fraction converges fast only below the mean; above it, use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a).
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` > 0 degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`Student t: df must be > 0, got ${df}`);
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

export interface WelchResult {
  /** (mean of b − mean of a) / standard error. */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
}

function meanAndVariance(values: readonly number[]): { mean: number; variance: number } {
  const { mean, std } = summarize(values);
  return { mean: mean ?? Number.NaN, variance: (std ?? 0) ** 2 };
}

/**
 * Welch's t statistic of b against a and its degrees of freedom; null when both samples have zero variance
 * (the statistic is undefined). Each sample needs at least 2 values.
 */
export function welchT(a: readonly number[], b: readonly number[]): WelchResult | null {
  if (a.length < 2 || b.length < 2) throw new RangeError('Welch t-test: needs at least 2 values per sample');
  const sa = meanAndVariance(a);
  const sb = meanAndVariance(b);
  const va = sa.variance / a.length;
  const vb = sb.variance / b.length;
  if (va + vb === 0) return null;
  const t = (sb.mean - sa.mean) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { t, df };
}

/**
 * One-sided p-value of Welch's test that b is worse than a: lower for `max` metrics (b smaller), higher for
 * `min` ones. With zero variance on both sides: 0 when the means differ in the worse direction, else 1.
 */
export function welchWorseP(a: readonly number[], b: readonly number[], direction: 'max' | 'min'): number {
  const result = welchT(a, b);
  if (result === null) {
    const delta = meanAndVariance(b).mean - meanAndVariance(a).mean;
    const worse = direction === 'max' ? delta < 0 : delta > 0;
    return worse ? 0 : 1;
  }
  // P(T ≥ t) = P(T ≤ −t): no cancellation in 1 − cdf for tiny p-values.
  return studentTCdf(direction === 'max' ? result.t : -result.t, result.df);
}
