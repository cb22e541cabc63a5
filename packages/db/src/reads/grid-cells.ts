// The cells of a grid as one SQL row source: each run with its final metric value, its costs and its group key.
// Results, pivots and the cells endpoint all read this, so that "a cell's value" and "its cost" mean one thing.
import type { Database } from '../database.js';
import type { JsonObject, RunStatus } from '../rows.js';
import { joinSql, runSql, type Sql, sql } from '../sql.js';
import { finalMetricSql } from './final-metrics.js';
import { specPathSql } from './spec-path.js';

/** Names of the training metrics that measure what a cell cost. */
export const EPOCH_SECONDS = 'epoch_seconds';
export const PEAK_MEMORY_BYTES = 'peak_memory_bytes';

/**
 * One row per cell of the grid (its run may be shared with other grids): the run's id and status, the cell's
 * cell_index, seed and axis_values, `key` (a jsonb array of the values at
 * `keyPaths`, JSON null where a spec lacks one), `value` (the final value of `metric`, NULL when missing),
 * `epoch_seconds` (mean of the run's epoch_seconds points), `peak_memory_bytes` (their maximum) and
 * `wall_seconds` (finished_at − started_at).
 */
export function gridCellsSql(gridId: string, metric: string, keyPaths: readonly string[]): Sql {
  return sql`SELECT runs.id, gc.cell_index, gc.seed, runs.status::text AS status, gc.axis_values,
      jsonb_build_array(${joinSql(keyPaths.map(specPathSql), ', ')}) AS key,
      ${finalMetricSql(metric)} AS value,
      (SELECT avg(NULLIF(m.value, 'NaN'::float8)) FROM metric_points m
        WHERE m.run_id = runs.id AND m.name = ${EPOCH_SECONDS}::text) AS epoch_seconds,
      (SELECT max(NULLIF(m.value, 'NaN'::float8)) FROM metric_points m
        WHERE m.run_id = runs.id AND m.name = ${PEAK_MEMORY_BYTES}::text) AS peak_memory_bytes,
      EXTRACT(EPOCH FROM runs.finished_at - runs.started_at)::float8 AS wall_seconds
    FROM grid_cells gc JOIN runs ON runs.id = gc.run_id WHERE gc.grid_id = ${gridId}::text`;
}

export interface GridCellRow {
  id: string;
  cell_index: number | null;
  seed: number;
  status: RunStatus;
  axis_values: JsonObject | null;
  value: number | null;
  epoch_seconds: number | null;
  peak_memory_bytes: number | null;
  wall_seconds: number | null;
}

/** Every cell of the grid with its final value of `metric` and its costs, in cell order; one statement. */
export function gridCells(db: Database, gridId: string, metric: string): Promise<GridCellRow[]> {
  return runSql<GridCellRow>(
    db,
    sql`SELECT id, cell_index, seed, status, axis_values, value, epoch_seconds, peak_memory_bytes, wall_seconds
      FROM (${gridCellsSql(gridId, metric, [])}) AS cells ORDER BY cell_index, id`,
  );
}
