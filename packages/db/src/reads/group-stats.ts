// Aggregates a grid's cells by the values at some spec paths, in SQL: n, mean, sample std, median, min, max and
// the costs of each group. Only succeeded runs with a final value count; the other cells are tallied.
import type { Database } from '../database.js';
import { runSql, sql } from '../sql.js';
import { gridCellsSql } from './grid-cells.js';

export interface GroupStats {
  /** The values at the key paths, in their order. */
  key: unknown[];
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null below two values. */
  std: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
  /** The counted runs, in cell order. */
  runIds: string[];
  epochSecondsMean: number | null;
  peakMemoryBytesMax: number | null;
  wallSecondsMean: number | null;
  /** Cells of this key whose run has not succeeded (yet). */
  notFinished: number;
  /** Succeeded cells of this key without a value of the metric. */
  withoutValue: number;
}

interface GroupRow {
  key: unknown[];
  n: number;
  mean: number | null;
  std: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
  run_ids: string[] | null;
  epoch_seconds_mean: number | null;
  peak_memory_bytes_max: number | null;
  wall_seconds_mean: number | null;
  not_finished: number;
  without_value: number;
}

/**
 * Every key present among the grid's cells (including keys none of whose cells counts, n = 0), ordered by key
 * (jsonb order: numbers numerically). One statement; aggregates skip the NULL `v` of cells that do not count.
 */
export async function groupStats(
  db: Database,
  gridId: string,
  metric: string,
  keyPaths: readonly string[],
): Promise<GroupStats[]> {
  const rows = await runSql<GroupRow>(
    db,
    sql`WITH cells AS MATERIALIZED (${gridCellsSql(gridId, metric, keyPaths)}),
      counted AS (SELECT cells.*, CASE WHEN status = 'succeeded' THEN value END AS v FROM cells)
    SELECT key,
      count(v)::int AS n,
      avg(v) AS mean,
      stddev_samp(v) AS std,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median,
      min(v) AS min,
      max(v) AS max,
      array_agg(id ORDER BY cell_index, id) FILTER (WHERE v IS NOT NULL) AS run_ids,
      avg(epoch_seconds) FILTER (WHERE v IS NOT NULL) AS epoch_seconds_mean,
      max(peak_memory_bytes) FILTER (WHERE v IS NOT NULL) AS peak_memory_bytes_max,
      avg(wall_seconds) FILTER (WHERE v IS NOT NULL) AS wall_seconds_mean,
      count(*) FILTER (WHERE status <> 'succeeded')::int AS not_finished,
      count(*) FILTER (WHERE status = 'succeeded' AND v IS NULL)::int AS without_value
    FROM counted GROUP BY key ORDER BY key`,
  );
  return rows.map((row) => ({
    key: row.key,
    n: row.n,
    mean: row.mean,
    std: row.std,
    median: row.median,
    min: row.min,
    max: row.max,
    runIds: row.run_ids ?? [],
    epochSecondsMean: row.epoch_seconds_mean,
    peakMemoryBytesMax: row.peak_memory_bytes_max,
    wallSecondsMean: row.wall_seconds_mean,
    notFinished: row.not_finished,
    withoutValue: row.without_value,
  }));
}
