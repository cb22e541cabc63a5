// Min/max bucketing of a metric series for plotting: spikes survive (each bucket keeps its lowest and highest
// point), and so do the first and last points, so a curve's start and end are exact. This is the reference the
// SQL of @swavlab/db's reads/series.ts implements (and is tested against).

export interface SeriesPoint {
  step: number;
  value: number;
}

/** Orders values as PostgreSQL orders float8: NaN (a diverged value) above every number. */
function below(a: number, b: number): boolean {
  if (Number.isNaN(a)) return false;
  return Number.isNaN(b) || a < b;
}

/**
 * At most `maxPoints` points of `points` (sorted by distinct integer steps): all of them when they fit, else the
 * first, the last and, for each of B = floor((maxPoints − 2) / 2) equal ranges of the steps between them, the
 * first point with its range's lowest value and the first with its highest, in step order. A point at step s
 * falls in range floor((s − first − 1) · B / (last − first − 1)). NaN counts as the highest value, so that
 * divergence stays visible.
 */
export function downsampleMinMax<P extends SeriesPoint>(points: readonly P[], maxPoints: number): P[] {
  if (maxPoints < 2) throw new RangeError('maxPoints must be at least 2');
  if (points.length <= maxPoints) return [...points];
  const first = points[0] as P;
  const last = points[points.length - 1] as P;
  const buckets = Math.floor((maxPoints - 2) / 2);
  const span = last.step - first.step - 1;
  const lowest = new Map<number, P>();
  const highest = new Map<number, P>();
  for (const point of buckets > 0 ? points.slice(1, -1) : []) {
    const bucket = Math.floor(((point.step - first.step - 1) * buckets) / span);
    const low = lowest.get(bucket);
    const high = highest.get(bucket);
    if (low === undefined || below(point.value, low.value)) lowest.set(bucket, point);
    if (high === undefined || below(high.value, point.value)) highest.set(bucket, point);
  }
  const kept = new Set<P>([first, ...lowest.values(), ...highest.values(), last]);
  return [...kept].sort((a, b) => a.step - b.step);
}
