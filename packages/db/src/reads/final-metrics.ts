// What "a run's final value of a metric" means, in one place for search (`metrics.<name>`) and grid results:
// the latest evaluation for evaluation metrics (k-NN, linear probe), the last training point otherwise. A NaN
// (diverged) value counts as missing.
import { isEvaluationMetric } from '@swavlab/spec';
import type { Database } from '../database.js';
import { joinSql, runSql, type Sql, sql } from '../sql.js';

export type MetricSource = 'evaluation' | 'training';

export function metricSource(name: string): MetricSource {
  return isEvaluationMetric(name) ? 'evaluation' : 'training';
}

/** Correlated subquery: the final value of metric `name` of the row `runs`, NULL when there is none. */
export function finalMetricSql(name: string, source: MetricSource = metricSource(name)): Sql {
  if (source === 'evaluation') {
    return sql`(SELECT NULLIF(e.value, 'NaN'::float8) FROM evaluations e WHERE e.run_id = runs.id AND e.name = ${name}::text ORDER BY e.step DESC, e.created_at DESC LIMIT 1)`;
  }
  return sql`(SELECT NULLIF(m.value, 'NaN'::float8) FROM metric_points m WHERE m.run_id = runs.id AND m.name = ${name}::text ORDER BY m.step DESC LIMIT 1)`;
}

function finiteValues(rows: readonly { id: string; value: number | null }[]): Map<string, number> {
  return new Map(
    rows
      .filter((row) => row.value !== null && Number.isFinite(row.value))
      .map((row) => [row.id, row.value as number]),
  );
}

/** Run id → final value of `metric`, for those of the given runs that have one. */
export async function runsFinalValues(
  db: Database,
  runIds: readonly string[],
  metric: string,
): Promise<Map<string, number>> {
  if (runIds.length === 0) return new Map();
  const ids = joinSql(
    runIds.map((id) => sql`${id}::text`),
    ', ',
  );
  return finiteValues(
    await runSql<{ id: string; value: number | null }>(
      db,
      sql`SELECT runs.id, ${finalMetricSql(metric)} AS value FROM runs WHERE runs.id IN (${ids})`,
    ),
  );
}
