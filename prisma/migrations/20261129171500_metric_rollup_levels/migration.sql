-- metric_rollups at two block sizes: `level` is log2 of the steps a block spans, 6 (64 steps) and 3 (8 steps).
-- A downsampling bucket is covered by whole 64-step blocks, then by the 8-step blocks of the 64-step blocks a
-- bucket boundary cuts, and only the points of the 8-step blocks a boundary cuts are read one by one.

TRUNCATE "metric_rollups";

-- DropPrimaryKey
ALTER TABLE "metric_rollups" DROP CONSTRAINT "metric_rollups_pkey";

-- AlterTable
ALTER TABLE "metric_rollups" ADD COLUMN     "level" INTEGER NOT NULL;

-- AddPrimaryKey
ALTER TABLE "metric_rollups" ADD CONSTRAINT "metric_rollups_pkey" PRIMARY KEY ("run_id", "name", "level", "block");

CREATE OR REPLACE FUNCTION "metric_rollups_merge"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO metric_rollups AS r
    (run_id, name, level, block, points, lowest_value, lowest_step, highest_value, highest_step)
  SELECT run_id, name, level, block, points, lowest[1], lowest[2]::int, highest[1], (-highest[2])::int
  FROM (
    SELECT run_id, name, l.level, step >> l.level AS block, count(*)::int AS points,
      min(ARRAY[value, step::float8]) AS lowest, max(ARRAY[value, -step::float8]) AS highest
    FROM inserted CROSS JOIN (VALUES (3), (6)) AS l(level)
    GROUP BY run_id, name, l.level, step >> l.level
  ) AS batch
  ON CONFLICT (run_id, name, level, block) DO UPDATE SET
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

CREATE OR REPLACE FUNCTION "metric_rollups_recompute"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM metric_rollups r USING (
      SELECT DISTINCT run_id, name, l.level, step >> l.level AS block
      FROM changed CROSS JOIN (VALUES (3), (6)) AS l(level)
    ) AS t
    WHERE r.run_id = t.run_id AND r.name = t.name AND r.level = t.level AND r.block = t.block;
  INSERT INTO metric_rollups
    (run_id, name, level, block, points, lowest_value, lowest_step, highest_value, highest_step)
  SELECT run_id, name, level, block, points, lowest[1], lowest[2]::int, highest[1], (-highest[2])::int
  FROM (
    SELECT t.run_id, t.name, t.level, t.block, count(*)::int AS points,
      min(ARRAY[m.value, m.step::float8]) AS lowest, max(ARRAY[m.value, -m.step::float8]) AS highest
    FROM (
      SELECT DISTINCT run_id, name, l.level, step >> l.level AS block
      FROM changed CROSS JOIN (VALUES (3), (6)) AS l(level)
    ) AS t
    JOIN metric_points m ON m.run_id = t.run_id AND m.name = t.name
      AND m.step BETWEEN t.block << t.level AND (t.block << t.level) + (1 << t.level) - 1
    GROUP BY t.run_id, t.name, t.level, t.block
  ) AS blocks;
  RETURN NULL;
END;
$$;

INSERT INTO "metric_rollups"
  (run_id, name, level, block, points, lowest_value, lowest_step, highest_value, highest_step)
SELECT run_id, name, level, block, points, lowest[1], lowest[2]::int, highest[1], (-highest[2])::int
FROM (
  SELECT run_id, name, l.level, step >> l.level AS block, count(*)::int AS points,
    min(ARRAY[value, step::float8]) AS lowest, max(ARRAY[value, -step::float8]) AS highest
  FROM metric_points CROSS JOIN (VALUES (3), (6)) AS l(level)
  GROUP BY run_id, name, l.level, step >> l.level
) AS blocks;
