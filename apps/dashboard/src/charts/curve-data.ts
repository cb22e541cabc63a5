// Turning stored metric points into what a curve chart draws: x as step, epoch (fractional, from where each epoch's
// steps start) or wall time since the first point; an exponential moving average (debiased, as TensorBoard does)
// for smoothing; values a log axis cannot show dropped; and the mean with a min–max or ±std band over several runs
// (seeds) aligned on their steps.
import type { MetricPoint } from '../types';

export type CurveX = 'step' | 'epoch' | 'time';

export interface CurveSettings {
  x: CurveX;
  /** EMA weight in [0, 1): 0 draws the points as stored. */
  smoothing: number;
  logY: boolean;
}

export const X_NAMES: Record<CurveX, string> = { step: 'step', epoch: 'epoch', time: 'wall time (s)' };

/** Debiased EMA over the finite values; gaps (null) stay gaps and do not reset the average. */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return [...values];
  let average = 0;
  let seen = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    seen += 1;
    average = weight * average + (1 - weight) * v;
    return average / (1 - weight ** seen);
  });
}

/** The x of every point: its step, its fractional epoch, or seconds since the series' first point. */
export function xValues(points: readonly MetricPoint[], mode: CurveX): number[] {
  if (mode === 'step') return points.map((p) => p.step);
  if (mode === 'time') {
    const first = points.length > 0 ? Date.parse((points[0] as MetricPoint).time) : 0;
    return points.map((p) => (Date.parse(p.time) - first) / 1000);
  }
  // Where each epoch's points start; an epoch's steps spread it evenly up to where the next one starts.
  const starts = new Map<number, number>();
  for (const p of points) if (p.epoch !== null && !starts.has(p.epoch)) starts.set(p.epoch, p.step);
  const epochs = [...starts.keys()].sort((a, b) => a - b);
  const lengths = epochs
    .slice(0, -1)
    .map((e, i) => (starts.get(epochs[i + 1] as number) as number) - (starts.get(e) as number));
  const typical =
    lengths.length > 0
      ? Math.max(...lengths)
      : Math.max(1, (points.at(-1)?.step ?? 1) - (starts.get(epochs[0] as number) ?? 0) + 1);
  return points.map((p) => {
    if (p.epoch === null) return p.step;
    const index = epochs.indexOf(p.epoch);
    const length = lengths[index] ?? typical;
    return p.epoch + (p.step - (starts.get(p.epoch) as number)) / Math.max(1, length);
  });
}

/** [x, value] pairs of one series after smoothing; on a log axis, values ≤ 0 become gaps. */
export function curvePoints(
  points: readonly MetricPoint[],
  settings: CurveSettings,
): [number, number | null][] {
  const xs = xValues(points, settings.x);
  const values = smooth(
    points.map((p) => p.value),
    settings.smoothing,
  );
  return values.map((v, i) => [xs[i] as number, v !== null && settings.logY && v <= 0 ? null : v]);
}

export type Band = 'minmax' | 'std' | 'none';

export interface GroupCurve {
  /** [x, mean] per step that any run has. */
  mean: [number, number | null][];
  /** [x, low, high] per step where the band is defined. */
  band: [number, number, number][];
  runs: number;
}

/** Mean over runs at every step (x: the mean of the runs' x there), and the chosen band, after smoothing each run. */
export function groupCurve(
  runs: readonly (readonly MetricPoint[])[],
  settings: CurveSettings,
  band: Band,
): GroupCurve {
  const byStep = new Map<number, { xs: number[]; values: number[] }>();
  for (const points of runs) {
    const xs = xValues(points, settings.x);
    const values = smooth(
      points.map((p) => p.value),
      settings.smoothing,
    );
    points.forEach((p, i) => {
      const entry = byStep.get(p.step) ?? { xs: [], values: [] };
      entry.xs.push(xs[i] as number);
      const v = values[i];
      if (v !== null && v !== undefined && !(settings.logY && v <= 0)) entry.values.push(v);
      byStep.set(p.step, entry);
    });
  }
  const mean: [number, number | null][] = [];
  const spread: [number, number, number][] = [];
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    const { xs, values } = byStep.get(step) as { xs: number[]; values: number[] };
    const x = xs.reduce((a, b) => a + b, 0) / xs.length;
    if (values.length === 0) {
      mean.push([x, null]);
      continue;
    }
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    mean.push([x, m]);
    if (band === 'minmax' && values.length > 1) spread.push([x, Math.min(...values), Math.max(...values)]);
    if (band === 'std' && values.length > 1) {
      const sd = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
      const low = settings.logY ? Math.max(m - sd, Math.min(...values)) : m - sd;
      spread.push([x, low, m + sd]);
    }
  }
  return { mean, band: spread, runs: runs.length };
}
