// How numbers, durations and metric values are written in tables and progress lines.
import { formatCrops, isCropGroups } from '@swavlab/spec/crop-notation';

/** `42s`, `3m05s`, `1h02m`; `-` when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function formatAge(iso: string, now: Date = new Date()): string {
  const seconds = Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** A number with 4 significant digits (no exponent for everyday magnitudes); `-` for null. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** Accuracies (top-1/top-5 in [0, 1]) are shown in percent, as in the paper's tables. */
export function isAccuracyMetric(name: string): boolean {
  return /^((random_init_)?knn_top1@\d+|(linear|linear_fast|semisup)_top[15])$/.test(name);
}

/** Column header of a metric: `knn_top1@20 (%)` for accuracies. */
export function metricHeader(name: string): string {
  return isAccuracyMetric(name) ? `${name} (%)` : name;
}

/** One value of a metric: accuracies in percent with one decimal, others with 4 significant digits. */
export function formatMetric(name: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return isAccuracyMetric(name) ? (value * 100).toFixed(1) : formatNumber(value);
}

/** A value with its unit where it has one: `41.3%` for accuracies, `5.704` otherwise. */
export function formatMetricValue(name: string, value: number | null | undefined): string {
  const text = formatMetric(name, value);
  return isAccuracyMetric(name) && text !== '-' ? `${text}%` : text;
}

/** `mean ± std` (std omitted when there is a single value). */
export function formatMeanStd(name: string, mean: number | null, std: number | null): string {
  if (mean === null) return '-';
  return std === null ? formatMetric(name, mean) : `${formatMetric(name, mean)} ± ${formatMetric(name, std)}`;
}

/** A spec value for a table cell: strings bare, everything else as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  // Validated specs hold crops in the structured form; people read and write the notation.
  return isCropGroups(value) ? formatCrops(value) : JSON.stringify(value);
}

/** `swav.prototypes=30, swav.epsilon=0.05`: spec paths and their values (crops in the notation). */
export function formatSettings(settings: Record<string, unknown>, separator = ', '): string {
  return Object.entries(settings)
    .map(([path, value]) => `${path}=${formatValue(value)}`)
    .join(separator);
}
