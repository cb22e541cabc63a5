// The verdict rules of a regression (see the regression contract): one comparison per metric and cell, and the
// overall verdict. Pure functions over numbers; loading runs and storing the result is settle.ts's job.
import type {
  MetricComparison,
  RegressionVerdict,
  SampleSummary,
  SuiteCell,
  SuiteMetric,
} from '@swavlab/spec';
import { summarize } from '../stats.js';
import { welchWorseP } from '../student-t.js';

/** A statistical tolerance, and the p-value column, need this many values on each side. */
export const MIN_STATISTICAL_SEEDS = 3;

export interface ComparisonInput {
  metric: SuiteMetric;
  cell: SuiteCell;
  baseline: readonly number[];
  candidate: readonly number[];
  /** Why the candidate values of this cell cannot be judged (a run failed or was canceled). */
  candidateError?: string;
  /** Why there is nothing to compare against, when the baseline side is missing for a known reason. */
  baselineError?: string;
  /** No baseline exists and these values are to become its first version: a usable candidate side passes. */
  promoting?: boolean;
}

export function sampleSummary(values: readonly number[]): SampleSummary {
  const { mean, std, n } = summarize(values);
  return { mean, std, n, values: [...values] };
}

/** Four significant digits for reasons; the exact numbers are in the row's fields. */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(4)));
}

function thresholdOf(metric: SuiteMetric, baselineMean: number | null): number | null {
  const tolerance = metric.tolerance;
  switch (tolerance.kind) {
    case 'absolute':
      return tolerance.value;
    case 'relative':
      return baselineMean === null ? null : tolerance.value * Math.abs(baselineMean);
    case 'statistical':
      return tolerance.min_effect;
  }
}

type Judgement = { verdict: RegressionVerdict; reason: string };

function judge(
  input: ComparisonInput,
  baseline: SampleSummary,
  candidate: SampleSummary,
  delta: number | null,
  threshold: number | null,
  pValue: number | null,
): Judgement {
  const name = input.metric.name;
  if (input.candidateError !== undefined) return { verdict: 'error', reason: input.candidateError };
  if (candidate.n === 0) return { verdict: 'error', reason: `no candidate run reported ${name}` };
  if (input.promoting) return { verdict: 'pass', reason: 'no baseline yet: these values become version 1' };
  if (input.baselineError !== undefined) return { verdict: 'error', reason: input.baselineError };
  if (baseline.n === 0 || delta === null || threshold === null) {
    return { verdict: 'error', reason: `the baseline has no values of ${name} for this cell` };
  }
  const worseBy = input.metric.direction === 'max' ? -delta : delta;
  const change = worseBy > 0 ? `worse by ${formatNumber(worseBy)}` : `better by ${formatNumber(-worseBy)}`;
  const tolerance = input.metric.tolerance;
  if (tolerance.kind !== 'statistical') {
    return worseBy > threshold
      ? { verdict: 'regression', reason: `${change}, more than the threshold ${formatNumber(threshold)}` }
      : { verdict: 'pass', reason: `${change}, within the threshold ${formatNumber(threshold)}` };
  }
  if (pValue === null) {
    return {
      verdict: 'inconclusive',
      reason: `needs at least ${MIN_STATISTICAL_SEEDS} seeds per side (baseline ${baseline.n}, candidate ${candidate.n})`,
    };
  }
  const p = `p = ${formatNumber(pValue)}`;
  if (pValue >= tolerance.alpha) {
    return { verdict: 'pass', reason: `${change}; ${p} ≥ alpha ${formatNumber(tolerance.alpha)}` };
  }
  if (Math.abs(delta) <= tolerance.min_effect) {
    return {
      verdict: 'pass',
      reason: `${change}; ${p} < alpha but |delta| ≤ min_effect ${formatNumber(tolerance.min_effect)}`,
    };
  }
  return { verdict: 'regression', reason: `${change}; ${p} < alpha ${formatNumber(tolerance.alpha)}` };
}

/** Compares the candidate values of one metric in one cell with the baseline's. */
export function compareMetric(input: ComparisonInput): MetricComparison {
  const baseline = sampleSummary(input.baseline);
  const candidate = sampleSummary(input.candidate);
  const delta = baseline.mean !== null && candidate.mean !== null ? candidate.mean - baseline.mean : null;
  const threshold = thresholdOf(input.metric, baseline.mean);
  const pValue =
    baseline.n >= MIN_STATISTICAL_SEEDS && candidate.n >= MIN_STATISTICAL_SEEDS
      ? welchWorseP(input.baseline, input.candidate, input.metric.direction)
      : null;
  return {
    name: input.metric.name,
    cell: input.cell,
    direction: input.metric.direction,
    tolerance: input.metric.tolerance,
    baseline,
    candidate,
    delta,
    threshold,
    p_value: pValue,
    ...judge(input, baseline, candidate, delta, threshold, pValue),
  };
}

const SEVERITY: readonly RegressionVerdict[] = ['pass', 'inconclusive', 'regression', 'error'];

/** error > regression > inconclusive > pass; `pass` for no rows. */
export function overallVerdict(verdicts: readonly RegressionVerdict[]): RegressionVerdict {
  return verdicts.reduce<RegressionVerdict>(
    (worst, v) => (SEVERITY.indexOf(v) > SEVERITY.indexOf(worst) ? v : worst),
    'pass',
  );
}

export function describeCell(cell: SuiteCell): string {
  const parts = Object.entries(cell).map(([path, value]) => `${path}=${JSON.stringify(value)}`);
  return parts.length === 0 ? '' : ` [${parts.join(' ')}]`;
}

/** One line for the report: the verdict, and the rows that decided it. */
export function reportMessage(rows: readonly MetricComparison[]): string {
  const verdict = overallVerdict(rows.map((row) => row.verdict));
  const deciding = rows.filter((row) => row.verdict === verdict);
  if (verdict === 'pass') return `pass: all ${rows.length} metric comparisons are within their tolerance`;
  const listed = deciding
    .slice(0, 5)
    .map((row) => `${row.name}${describeCell(row.cell)}: ${row.reason}`)
    .join('; ');
  const more = deciding.length > 5 ? `; and ${deciding.length - 5} more` : '';
  return `${verdict}: ${deciding.length} of ${rows.length} metric comparisons (${listed}${more})`;
}
