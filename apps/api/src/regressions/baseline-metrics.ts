// How a baseline stores its reference values (baselines.metrics: metric name → one entry per cell), built from
// a regression's candidate runs and read back for comparisons and the API.
import type { Baseline, JsonObject } from '@swavlab/db';
import { BaselineMetric, cellKey, type SuiteCell } from '@swavlab/spec';
import { z } from 'zod';
import type { CellRuns } from './candidates.js';

const StoredBaselineMetrics = z.record(z.string(), z.array(BaselineMetric.omit({ name: true })));
type StoredBaselineMetrics = z.output<typeof StoredBaselineMetrics>;

/** The stored values of the given metrics, cell by cell, from the candidate runs that reported them. */
export function baselineMetricsOf(
  cells: readonly CellRuns[],
  values: ReadonlyMap<string, ReadonlyMap<string, number>>,
): JsonObject {
  const stored: StoredBaselineMetrics = {};
  for (const [metric, byRun] of values) {
    stored[metric] = cells.map(({ cell, runs }) => {
      const reported = runs.filter((run) => byRun.has(run.id));
      return {
        cell,
        values: reported.map((run) => byRun.get(run.id) as number),
        run_ids: reported.map((run) => run.id),
      };
    });
  }
  return stored as JsonObject;
}

/** A stored baseline's values as the API shows them. */
export function baselineMetricList(baseline: Baseline): BaselineMetric[] {
  const stored = StoredBaselineMetrics.parse(baseline.metrics);
  return Object.entries(stored).flatMap(([name, cells]) => cells.map((entry) => ({ name, ...entry })));
}

/** Looks up a baseline's values of a metric in a cell (undefined when it has none). */
export function baselineLookup(
  baseline: Baseline,
): (metric: string, cell: SuiteCell) => number[] | undefined {
  const byKey = new Map(
    baselineMetricList(baseline).map((entry) => [`${entry.name} ${cellKey(entry.cell)}`, entry.values]),
  );
  return (metric, cell) => byKey.get(`${metric} ${cellKey(cell)}`);
}
