// The names of the training metrics runs have recorded, without reading their series: a loose index scan
// (one primary-key probe per name) rather than DISTINCT over every point, which a 1M-point run would make slow.
import type { Database } from '../database.js';
import { runSql, sql } from '../sql.js';

/** Distinct metric names of the runs `runIds`, sorted. */
export async function metricNames(db: Database, runIds: readonly string[]): Promise<string[]> {
  const rows = await runSql<{ name: string }>(
    db,
    sql`SELECT DISTINCT names.name FROM unnest(${runIds}::text[]) AS r(id)
      CROSS JOIN LATERAL (
        WITH RECURSIVE names(name) AS (
          SELECT min(m.name) FROM metric_points m WHERE m.run_id = r.id
          UNION ALL
          SELECT (SELECT min(m.name) FROM metric_points m WHERE m.run_id = r.id AND m.name > names.name)
          FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL
      ) AS names
      ORDER BY names.name`,
  );
  return rows.map((row) => row.name);
}
