// A run's metric series downsampled inside the database: the min/max bucketing of downsample.ts computed from
// the per-block extremes in metric_rollups plus the points of the few blocks a bucket boundary cuts, so a
// 1M-point series costs some tens of thousands of rows read and never reaches Node.
import type { Database } from '../database.js';
import type { MetricPoint } from '../rows.js';
import { runSql, type Sql, sql } from '../sql.js';

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
  const bucketOf = (step: Sql) =>
    sql`((${step} - ends.lo - 1)::bigint * ${buckets}::bigint) / (ends.hi - ends.lo - 1)`;
  /** The bucket of every step first … last when they all fall into one and none is an end point, else NULL. */
  const wholeBucket = (first: Sql, last: Sql) =>
    sql`CASE WHEN ${first} > ends.lo AND ${last} < ends.hi AND ${bucketOf(first)} = ${bucketOf(last)}
      THEN ${bucketOf(first)} END`;
  // metric_rollups holds each 64-step block (level 6: steps 64b … 64b + 63) and each 8-step block (level 3) of
  // the series. A bucket is covered by its whole 64-step blocks, then by the whole 8-step blocks of the 64-step
  // blocks a bucket boundary (or an end point) cuts, then by the points of the 8-step blocks that are cut.
  // Each bucket's first lowest point is then min((value, step)) and its first highest max((value, −step)):
  // float8 arrays compare element-wise, with NaN above every number, as the reference orders them.
  // Each lateral lookup says how many rows it can find at most (8 blocks or points in 8 steps, 1 point per
  // step): the LIMIT keeps it a primary-key probe per outer row (joined flat, the planner may walk the whole
  // series instead), and the planner's estimates small (else PostgreSQL's JIT compiles the statement, ~0.5 s).
  const rows = await runSql<PointRow & { total: number }>(
    db,
    sql`WITH ends AS (
        SELECT min(step) AS lo, max(step) AS hi FROM metric_points
        WHERE run_id = ${runId}::text AND name = ${name}::text
      ),
      coarse AS (
        SELECT r.block, r.points, r.lowest_value, r.lowest_step, r.highest_value, r.highest_step,
          ${wholeBucket(sql`r.block * 64`, sql`(r.block * 64 + 63)`)} AS bucket
        FROM metric_rollups r CROSS JOIN ends
        WHERE r.run_id = ${runId}::text AND r.name = ${name}::text AND r.level = 6
      ),
      fine AS (
        SELECT f.block, f.points, f.lowest_value, f.lowest_step, f.highest_value, f.highest_step,
          ${wholeBucket(sql`f.block * 8`, sql`(f.block * 8 + 7)`)} AS bucket
        FROM coarse c CROSS JOIN ends
        CROSS JOIN LATERAL (
          SELECT * FROM metric_rollups
          WHERE run_id = ${runId}::text AND name = ${name}::text AND level = 3
            AND block BETWEEN c.block * 8 AND c.block * 8 + 7
          LIMIT 8
        ) AS f
        WHERE c.bucket IS NULL
      ),
      parts AS (
        SELECT bucket, points, ARRAY[lowest_value, lowest_step::float8] AS lowest,
          ARRAY[highest_value, -highest_step::float8] AS highest
        FROM coarse WHERE bucket IS NOT NULL
        UNION ALL
        SELECT bucket, points, ARRAY[lowest_value, lowest_step::float8], ARRAY[highest_value, -highest_step::float8]
        FROM fine WHERE bucket IS NOT NULL
        UNION ALL
        SELECT ${bucketOf(sql`m.step`)}, 1, ARRAY[m.value, m.step::float8], ARRAY[m.value, -m.step::float8]
        FROM fine b CROSS JOIN ends
        CROSS JOIN LATERAL (
          SELECT step, value FROM metric_points
          WHERE run_id = ${runId}::text AND name = ${name}::text AND step BETWEEN b.block * 8 AND b.block * 8 + 7
          LIMIT 8
        ) AS m
        WHERE b.bucket IS NULL AND m.step > ends.lo AND m.step < ends.hi
      ),
      buckets AS (
        SELECT sum(points) AS n, min(lowest) AS lowest, max(highest) AS highest FROM parts GROUP BY bucket
      ),
      picked AS (
        SELECT lo AS step FROM ends
        UNION SELECT hi FROM ends
        UNION SELECT lowest[2]::int FROM buckets WHERE ${buckets}::bigint > 0
        UNION SELECT (-highest[2])::int FROM buckets WHERE ${buckets}::bigint > 0
      )
      SELECT m.step, m.epoch, m.value, m.time, (SELECT 2 + sum(n) FROM buckets)::int AS total
      FROM picked CROSS JOIN LATERAL (
        SELECT step, epoch, value, time FROM metric_points
        WHERE run_id = ${runId}::text AND name = ${name}::text AND step = picked.step
        LIMIT 1
      ) AS m
      ORDER BY m.step`,
  );
  return {
    name,
    totalPoints: rows[0]?.total ?? 0,
    points: rows.map(({ total: _total, ...row }) => toPoint(row)),
  };
}
