// Summary statistics of a group of runs' final metric values (ablation tables).

export interface Summary {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1 in the denominator); null below two values. */
  std: number | null;
  min: number | null;
  max: number | null;
}

/** Mean, sample std, min and max of finite values; Welford's update keeps the variance accurate. */
export function summarize(values: readonly number[]): Summary {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    n += 1;
    const delta = value - mean;
    mean += delta / n;
    m2 += delta * (value - mean);
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (n === 0) return { n, mean: null, std: null, min: null, max: null };
  return { n, mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : null, min, max };
}
