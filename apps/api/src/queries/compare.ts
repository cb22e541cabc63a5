// Side-by-side comparison of runs: which spec leaves differ, and each run's final metrics and evaluations.
import type { Database, JsonObject, Run } from '@swavlab/db';
import { canonicalJson, getAtPath, isPlainObject } from '@swavlab/spec';
import { finalMetricSql, type MetricSource } from '../final-metrics.js';
import { joinSql, runSql, sql } from '../sql.js';
import { metricNames } from './metric-names.js';

export interface SpecDifference {
  path: string;
  /** The value at `path` in each run's spec, null where a spec lacks it. */
  values: unknown[];
}

/** Dotted paths of the leaves (anything but a non-empty object; arrays are leaves) of `value`. */
function leafPaths(value: Record<string, unknown>, prefix: string, out: Set<string>): void {
  for (const [key, inner] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isPlainObject(inner) && Object.keys(inner).length > 0) leafPaths(inner, path, out);
    else out.add(path);
  }
}

/** Leaf paths whose values are not all equal across `specs`, sorted by path. */
export function specDifferences(specs: readonly JsonObject[]): SpecDifference[] {
  const paths = new Set<string>();
  for (const spec of specs) leafPaths(spec, '', paths);
  const differences: SpecDifference[] = [];
  for (const path of [...paths].sort()) {
    const values = specs.map((spec) => getAtPath(spec, path) ?? null);
    const distinct = new Set(values.map((value) => canonicalJson(value)));
    if (distinct.size > 1) differences.push({ path, values });
  }
  return differences;
}

export interface RunMetrics {
  /** Training metric name → the last point's value per run (null where a run has none). */
  finalMetrics: Record<string, (number | null)[]>;
  /** Evaluation name → the latest evaluation's value per run. */
  evaluations: Record<string, (number | null)[]>;
}

/** Final values of every metric and evaluation any of `runs` has, in three statements whatever their number. */
export async function runMetrics(db: Database, runs: readonly Run[]): Promise<RunMetrics> {
  const ids = runs.map((run) => run.id);
  const [training, evaluated] = await Promise.all([
    metricNames(db, ids),
    runSql<{ name: string }>(
      db,
      sql`SELECT DISTINCT name FROM evaluations WHERE run_id = ANY(${ids}::text[]) ORDER BY name`,
    ).then((rows) => rows.map((row) => row.name)),
  ]);
  const columns: { name: string; source: MetricSource }[] = [
    ...training.map((name) => ({ name, source: 'training' as const })),
    ...evaluated.map((name) => ({ name, source: 'evaluation' as const })),
  ];
  const empty = (source: MetricSource) =>
    Object.fromEntries(
      columns.filter((c) => c.source === source).map((c) => [c.name, ids.map(() => null)]),
    ) as Record<string, (number | null)[]>;
  const result: RunMetrics = { finalMetrics: empty('training'), evaluations: empty('evaluation') };
  if (columns.length === 0) return result;
  const finals = joinSql(
    columns.map((column) => finalMetricSql(column.name, column.source)),
    ', ',
  );
  const rows = await runSql<{ id: string; finals: (number | null)[] }>(
    db,
    sql`SELECT runs.id, ARRAY[${finals}]::float8[] AS finals FROM runs WHERE runs.id = ANY(${ids}::text[])`,
  );
  for (const row of rows) {
    const position = ids.indexOf(row.id);
    columns.forEach((column, i) => {
      const target = column.source === 'training' ? result.finalMetrics : result.evaluations;
      (target[column.name] as (number | null)[])[position] = row.finals[i] ?? null;
    });
  }
  return result;
}
