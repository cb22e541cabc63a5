// Student's t distribution through the regularized incomplete beta function (continued fraction evaluated
// with the modified Lentz method, as in Numerical Recipes §6.4): CDF, density, tail probabilities and quantiles;
// and Welch's unequal-variance t-test, from raw values or from a sample's mean, variance and size.

import { summarize } from './stats.js';

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

function requireDf(df: number): void {
  if (!(df > 0)) throw new RangeError(`Student t: df must be > 0, got ${df}`);
}

/** P(T ≥ |t|) for Student's t with `df` > 0: computed directly, so that tiny tails keep their precision. */
export function studentTUpperTail(t: number, df: number): number {
  requireDf(df);
  if (!Number.isFinite(t)) return Number.isNaN(t) ? Number.NaN : 0;
  return 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** P(T ≤ t) for Student's t with `df` > 0 degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  requireDf(df);
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const tail = studentTUpperTail(t, df);
  return t > 0 ? 1 - tail : tail;
}

/** Two-sided p-value of a t statistic: P(|T| ≥ |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  return Math.min(1, 2 * studentTUpperTail(t, df));
}

/** The density of Student's t with `df` > 0 degrees of freedom. */
export function studentTPdf(t: number, df: number): number {
  requireDf(df);
  const logNorm = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** The t > 0 with P(T ≥ t) = q (0 < q < 1/2): Newton's method on the tail, kept inside a bisection bracket. */
function upperQuantile(q: number, df: number): number {
  let low = 0;
  let high = 1;
  while (studentTUpperTail(high, df) > q) {
    low = high;
    high *= 2;
  }
  let t = (low + high) / 2;
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    const excess = studentTUpperTail(t, df) - q;
    if (excess === 0) return t;
    // The tail falls as t grows: a positive excess means t is still too small.
    if (excess > 0) low = t;
    else high = t;
    const newton = t + excess / studentTPdf(t, df);
    const next = newton > low && newton < high ? newton : (low + high) / 2;
    if (Math.abs(next - t) <= 1e-14 * next) return next;
    t = next;
  }
  return t;
}

/** The p-quantile of Student's t with `df` > 0 degrees of freedom: the t with P(T ≤ t) = p, for 0 < p < 1. */
export function studentTQuantile(p: number, df: number): number {
  requireDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`Student t quantile: needs 0 < p < 1, got ${p}`);
  if (p === 0.5) return 0;
  return p > 0.5 ? upperQuantile(1 - p, df) : -upperQuantile(p, df);
}

export interface WelchResult {
  /** (mean of b − mean of a) / standard error. */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Standard error of the difference of the means, √(s_a²/n_a + s_b²/n_b). */
  se: number;
}

/** What Welch's test needs of a sample. */
export interface SampleMoments {
  mean: number;
  /** Sample variance (n − 1 in the denominator). */
  variance: number;
  n: number;
}

function momentsOf(values: readonly number[]): SampleMoments {
  const { mean, std, n } = summarize(values);
  return { mean: mean ?? Number.NaN, variance: (std ?? 0) ** 2, n };
}

/**
 * Welch's t statistic of b against a and its Welch–Satterthwaite degrees of freedom, from each sample's mean,
 * variance and size; null when both variances are zero (the statistic is undefined). Each sample needs n ≥ 2.
 */
export function welchFromMoments(a: SampleMoments, b: SampleMoments): WelchResult | null {
  if (a.n < 2 || b.n < 2) throw new RangeError('Welch t-test: needs at least 2 values per sample');
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  if (va + vb === 0) return null;
  const se = Math.sqrt(va + vb);
  const t = (b.mean - a.mean) / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return { t, df, se };
}

/**
 * Welch's t statistic of b against a and its degrees of freedom; null when both samples have zero variance
 * (the statistic is undefined). Each sample needs at least 2 values.
 */
export function welchT(a: readonly number[], b: readonly number[]): WelchResult | null {
  return welchFromMoments(momentsOf(a), momentsOf(b));
}

/**
 * One-sided p-value of Welch's test that b is worse than a: lower for `max` metrics (b smaller), higher for
 * `min` ones. With zero variance on both sides: 0 when the means differ in the worse direction, else 1.
 */
export function welchWorseP(a: readonly number[], b: readonly number[], direction: 'max' | 'min'): number {
  const result = welchT(a, b);
  if (result === null) {
    const delta = momentsOf(b).mean - momentsOf(a).mean;
    const worse = direction === 'max' ? delta < 0 : delta > 0;
    return worse ? 0 : 1;
  }
  // P(T ≥ t) = P(T ≤ −t): no cancellation in 1 − cdf for tiny p-values.
  return studentTCdf(direction === 'max' ? result.t : -result.t, result.df);
}
