-- Grid membership as its own table: grids share runs through the spec hash, so a run can be a cell of several
-- grids (runs.grid_id keeps the grid that created it). Existing grids keep the cells their runs record.

-- CreateTable
CREATE TABLE "grid_cells" (
    "grid_id" TEXT NOT NULL,
    "cell_index" INTEGER NOT NULL,
    "run_id" TEXT NOT NULL,
    "axis_values" JSONB NOT NULL,
    "seed" INTEGER NOT NULL,

    CONSTRAINT "grid_cells_pkey" PRIMARY KEY ("grid_id","cell_index")
);

-- CreateIndex
CREATE INDEX "grid_cells_run_id_idx" ON "grid_cells"("run_id");

-- AddForeignKey
ALTER TABLE "grid_cells" ADD CONSTRAINT "grid_cells_grid_id_fkey" FOREIGN KEY ("grid_id") REFERENCES "grids"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "grid_cells" ADD CONSTRAINT "grid_cells_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill
INSERT INTO "grid_cells" ("grid_id", "cell_index", "run_id", "axis_values", "seed")
SELECT "grid_id", "cell_index", "id", COALESCE("axis_values", '{}'::jsonb), "seed"
FROM "runs" WHERE "grid_id" IS NOT NULL AND "cell_index" IS NOT NULL;
