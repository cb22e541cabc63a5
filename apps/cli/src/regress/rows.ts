// How one row of a regression report (a metric in a cell) is labelled and its numbers written, shared by the
// terminal table, the JUnit file and the Markdown comment so that all three say the same thing.
import { cellKey, type MetricComparison, type RegressionView, type SampleSummary } from '@swavlab/spec';
import { formatMetricValue, formatNumber, formatSettings, isAccuracyMetric } from '../format.js';

/**
 * `metric [cell]` (just `metric` without axes). A metric listed twice in the suite (say with an absolute and a
 * statistical tolerance) gets its tolerance kind too, so that rows have distinct names.
 */
export function rowLabel(row: MetricComparison, rows: readonly MetricComparison[]): string {
  const key = cellKey(row.cell);
  const listedTwice = rows.some(
    (other) => other !== row && other.name === row.name && cellKey(other.cell) === key,
  );
  const name = listedTwice ? `${row.name} (${row.tolerance.kind})` : row.name;
  const cell = formatSettings(row.cell);
  return cell === '' ? name : `${name} [${cell}]`;
}

/** `62.5% ± 3.1% (n=3)`, `2.446 (n=1)`; `- (n=0)` for an empty side. */
export function formatSample(name: string, sample: SampleSummary): string {
  if (sample.mean === null) return `- (n=${sample.n})`;
  const std = sample.std === null ? '' : ` ± ${formatMetricValue(name, sample.std)}`;
  return `${formatMetricValue(name, sample.mean)}${std} (n=${sample.n})`;
}

/** A magnitude in the metric's units: percentage points for accuracies, 4 significant digits otherwise. */
function magnitude(name: string, value: number): string {
  return isAccuracyMetric(name) ? `${(value * 100).toFixed(2)} pts` : formatNumber(value);
}

function signed(name: string, value: number): string {
  if (value === 0) return magnitude(name, 0);
  return `${value < 0 ? '-' : '+'}${magnitude(name, Math.abs(value))}`;
}

/**
 * `+12.3 (+4.1%)`, `-2.50 pts`, `0`; the relative change is left out for accuracies (already in points), for no
 * change, and where the baseline mean is 0 or missing.
 */
export function formatDelta(row: MetricComparison): string {
  if (row.delta === null) return '-';
  const text = signed(row.name, row.delta);
  const base = row.baseline.mean;
  if (isAccuracyMetric(row.name) || row.delta === 0 || base === null || base === 0) return text;
  const percent = (row.delta / Math.abs(base)) * 100;
  return `${text} (${percent < 0 ? '-' : '+'}${formatNumber(Math.abs(percent))}%)`;
}

/** What "worse by more than the tolerance" means for this row, in words a reviewer reads at a glance. */
export function formatThreshold(row: MetricComparison): string {
  const { tolerance } = row;
  switch (tolerance.kind) {
    case 'absolute':
      return magnitude(row.name, tolerance.value);
    case 'relative': {
      const share = `${formatNumber(tolerance.value * 100)}% of baseline`;
      return row.threshold === null ? share : `${magnitude(row.name, row.threshold)} (${share})`;
    }
    case 'statistical':
      return tolerance.min_effect > 0
        ? `p < ${formatNumber(tolerance.alpha)}, |delta| > ${magnitude(row.name, tolerance.min_effect)}`
        : `p < ${formatNumber(tolerance.alpha)}`;
  }
}

/** The one-sided p-value, `-` where a side has fewer than 3 values. */
export function formatP(p: number | null): string {
  return p === null ? '-' : formatNumber(p);
}

/** `main@3`, or `none` when the regression has no baseline (yet). */
export function baselineText(view: RegressionView): string {
  return view.baseline === null ? 'none' : `${view.baseline.name}@${view.baseline.version}`;
}

/** A 40-digit commit shortened to 12 as Git and forges do; anything else as given. */
export function shortCommit(commit: string): string {
  return /^[0-9a-f]{40}$/i.test(commit) ? commit.slice(0, 12) : commit;
}
