// A run's metric series downsampled inside the database: the min/max bucketing of downsample.ts as one
// aggregate pass over the series' primary-key range, so a 1M-point series never reaches Node.
import type { Database, MetricPoint } from '@swavlab/db';
import { runSql, sql } from '../sql.js';

export interface DownsampledSeries {
  name: string;
  totalPoints: number;
  points: MetricPoint[];
}

interface PointRow {
  step: number;
  epoch: number | null;
  value: number;
  time: Date;
}

/** The series of metric `name` of run `runId`, by step, at most `maxPoints` points (≥ 2), as downsampleMinMax. */
export async function downsampledSeries(
  db: Database,
  runId: string,
  name: string,
  maxPoints: number,
): Promise<DownsampledSeries> {
  const toPoint = (row: PointRow): MetricPoint => ({ runId, name, ...row });
  // Counting at most maxPoints + 1 points tells a short series (returned whole) from a long one cheaply.
  const [head] = await runSql<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM metric_points
      WHERE run_id = ${runId}::text AND name = ${name}::text LIMIT ${String(maxPoints + 1)}::int) AS head`,
  );
  if ((head?.n ?? 0) <= maxPoints) {
    const rows = await runSql<PointRow>(
      db,
      sql`SELECT step, epoch, value, time FROM metric_points
        WHERE run_id = ${runId}::text AND name = ${name}::text ORDER BY step`,
    );
    return { name, totalPoints: rows.length, points: rows.map(toPoint) };
  }
  const buckets = String(Math.floor((maxPoints - 2) / 2));
  // One pass over the series; the picked steps are then fetched by primary key (= ANY of an array, so that the
  // planner does not merge-join them against the whole series).
  // Each bucket's first lowest point is min((value, step)) and its first highest max((value, -step)): float8
  // arrays compare element-wise, with NaN above every number, exactly as the reference orders them.
  const rows = await runSql<PointRow & { total: number }>(
    db,
    sql`WITH ends AS (
        SELECT min(step) AS lo, max(step) AS hi FROM metric_points
        WHERE run_id = ${runId}::text AND name = ${name}::text
      ),
      buckets AS (
        SELECT count(*) AS n,
          min(ARRAY[m.value, m.step::float8]) AS lowest,
          max(ARRAY[m.value, -m.step::float8]) AS highest
        FROM metric_points m CROSS JOIN ends
        WHERE m.run_id = ${runId}::text AND m.name = ${name}::text AND m.step > ends.lo AND m.step < ends.hi
        GROUP BY ((m.step - ends.lo - 1)::bigint * ${buckets}::bigint) / (ends.hi - ends.lo - 1)
      ),
      picked AS (
        SELECT lo AS step FROM ends
        UNION SELECT hi FROM ends
        UNION SELECT lowest[2]::int FROM buckets WHERE ${buckets}::bigint > 0
        UNION SELECT (-highest[2])::int FROM buckets WHERE ${buckets}::bigint > 0
      )
      SELECT m.step, m.epoch, m.value, m.time, (SELECT 2 + sum(n) FROM buckets)::int AS total
      FROM metric_points m
      WHERE m.run_id = ${runId}::text AND m.name = ${name}::text AND m.step = ANY(ARRAY(SELECT step FROM picked))
      ORDER BY m.step`,
  );
  return {
    name,
    totalPoints: rows[0]?.total ?? 0,
    points: rows.map(({ total: _total, ...row }) => toPoint(row)),
  };
}
