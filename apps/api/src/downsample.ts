// Min/max bucketing of a metric series for plotting: spikes survive (each bucket keeps its lowest and highest
// point), and so do the first and last points, so a curve's start and end are exact.

export interface SeriesPoint {
  step: number;
  value: number;
}

/**
 * At most `maxPoints` points of `points` (sorted by step): all of them when they fit, else the first, the last
 * and, for each of floor((maxPoints - 2) / 2) equal slices of the rest, its minimum and maximum in step order.
 * A NaN (a diverged value) is taken as its slice's maximum, so that divergence stays visible.
 */
export function downsampleMinMax<P extends SeriesPoint>(points: readonly P[], maxPoints: number): P[] {
  if (maxPoints < 2) throw new RangeError('maxPoints must be at least 2');
  if (points.length <= maxPoints) return [...points];
  const first = points[0] as P;
  const last = points[points.length - 1] as P;
  const interior = points.slice(1, -1);
  const buckets = Math.floor((maxPoints - 2) / 2);
  const out: P[] = [first];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * interior.length) / buckets);
    const end = Math.floor(((b + 1) * interior.length) / buckets);
    if (end <= start) continue;
    let minIndex = start;
    let maxIndex = start;
    for (let i = start; i < end; i++) {
      const value = (interior[i] as P).value;
      const maxValue = (interior[maxIndex] as P).value;
      if (value < (interior[minIndex] as P).value || Number.isNaN((interior[minIndex] as P).value))
        minIndex = i;
      if (!Number.isNaN(maxValue) && (value > maxValue || Number.isNaN(value))) maxIndex = i;
    }
    const [lo, hi] = minIndex <= maxIndex ? [minIndex, maxIndex] : [maxIndex, minIndex];
    out.push(interior[lo] as P);
    if (hi !== lo) out.push(interior[hi] as P);
  }
  out.push(last);
  return out;
}
