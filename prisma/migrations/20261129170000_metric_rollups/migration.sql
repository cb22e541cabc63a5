-- Per-block extremes of every metric series, so that the API downsamples a long series (GET
-- /v1/runs/{id}/metrics) from one row per 64 steps instead of every point. A block is the steps
-- [64·block, 64·block + 63]; `lowest_*` is its first point with the lowest value and `highest_*` its first
-- point with the highest value, NaN counting as the highest (float8 order). Triggers keep the table in step with
-- metric_points: inserted points are merged into their blocks, and blocks that lose or change points are
-- recomputed from the points left. apps/api/src/queries/series.ts reads it; the block size is shared with it.

-- CreateTable
CREATE TABLE "metric_rollups" (
    "run_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "block" INTEGER NOT NULL,
    "points" INTEGER NOT NULL,
    "lowest_value" DOUBLE PRECISION NOT NULL,
    "lowest_step" INTEGER NOT NULL,
    "highest_value" DOUBLE PRECISION NOT NULL,
    "highest_step" INTEGER NOT NULL,

    CONSTRAINT "metric_rollups_pkey" PRIMARY KEY ("run_id","name","block")
);

-- Merges points (a transition table's rows, given as a query) into their blocks.
CREATE FUNCTION "metric_rollups_merge"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO metric_rollups AS r (run_id, name, block, points, lowest_value, lowest_step, highest_value, highest_step)
  SELECT run_id, name, block, points, lowest[1], lowest[2]::int, highest[1], (-highest[2])::int
  FROM (
    SELECT run_id, name, step >> 6 AS block, count(*)::int AS points,
      min(ARRAY[value, step::float8]) AS lowest, max(ARRAY[value, -step::float8]) AS highest
    FROM inserted GROUP BY run_id, name, step >> 6
  ) AS batch
  ON CONFLICT (run_id, name, block) DO UPDATE SET
    points = r.points + excluded.points,
    lowest_value = CASE WHEN (excluded.lowest_value, excluded.lowest_step) < (r.lowest_value, r.lowest_step)
      THEN excluded.lowest_value ELSE r.lowest_value END,
    lowest_step = CASE WHEN (excluded.lowest_value, excluded.lowest_step) < (r.lowest_value, r.lowest_step)
      THEN excluded.lowest_step ELSE r.lowest_step END,
    highest_value = CASE WHEN (excluded.highest_value, -excluded.highest_step) > (r.highest_value, -r.highest_step)
      THEN excluded.highest_value ELSE r.highest_value END,
    highest_step = CASE WHEN (excluded.highest_value, -excluded.highest_step) > (r.highest_value, -r.highest_step)
      THEN excluded.highest_step ELSE r.highest_step END;
  RETURN NULL;
END;
$$;

-- Recomputes the blocks of the changed points (a transition table) from the points there are now. Points are
-- deleted with their run or when a resumed attempt discards what a lost one recorded after its checkpoint; they
-- are never updated today, but an update (old and new rows alike) is handled the same way.
CREATE FUNCTION "metric_rollups_recompute"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM metric_rollups r USING (SELECT DISTINCT run_id, name, step >> 6 AS block FROM changed) AS t
    WHERE r.run_id = t.run_id AND r.name = t.name AND r.block = t.block;
  INSERT INTO metric_rollups (run_id, name, block, points, lowest_value, lowest_step, highest_value, highest_step)
  SELECT run_id, name, block, points, lowest[1], lowest[2]::int, highest[1], (-highest[2])::int
  FROM (
    SELECT t.run_id, t.name, t.block, count(*)::int AS points,
      min(ARRAY[m.value, m.step::float8]) AS lowest, max(ARRAY[m.value, -m.step::float8]) AS highest
    FROM (SELECT DISTINCT run_id, name, step >> 6 AS block FROM changed) AS t
    JOIN metric_points m ON m.run_id = t.run_id AND m.name = t.name
      AND m.step BETWEEN t.block * 64 AND t.block * 64 + 63
    GROUP BY t.run_id, t.name, t.block
  ) AS blocks;
  RETURN NULL;
END;
$$;

CREATE FUNCTION "metric_rollups_clear"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE metric_rollups;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "metric_rollups_after_insert" AFTER INSERT ON "metric_points"
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_merge"();
CREATE TRIGGER "metric_rollups_after_delete" AFTER DELETE ON "metric_points"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_recompute"();
CREATE TRIGGER "metric_rollups_after_update_old" AFTER UPDATE ON "metric_points"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_recompute"();
CREATE TRIGGER "metric_rollups_after_update_new" AFTER UPDATE ON "metric_points"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_recompute"();
CREATE TRIGGER "metric_rollups_after_truncate" AFTER TRUNCATE ON "metric_points"
  FOR EACH STATEMENT EXECUTE FUNCTION "metric_rollups_clear"();

-- The points recorded before this migration.
INSERT INTO "metric_rollups" (run_id, name, block, points, lowest_value, lowest_step, highest_value, highest_step)
SELECT run_id, name, block, points, lowest[1], lowest[2]::int, highest[1], (-highest[2])::int
FROM (
  SELECT run_id, name, step >> 6 AS block, count(*)::int AS points,
    min(ARRAY[value, step::float8]) AS lowest, max(ARRAY[value, -step::float8]) AS highest
  FROM metric_points GROUP BY run_id, name, step >> 6
) AS blocks;
