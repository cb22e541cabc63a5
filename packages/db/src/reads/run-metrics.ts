// Each run's final value of every metric and evaluation any of them has, for the comparison of runs.
import type { Database } from '../database.js';
import type { Run } from '../rows.js';
import { joinSql, runSql, sql } from '../sql.js';
import { finalMetricSql, type MetricSource } from './final-metrics.js';
import { metricNames } from './metric-names.js';

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
