-- Baselines are named per suite; regressions remember the baseline version they compare against.

-- DropIndex
DROP INDEX "baselines_name_version_key";

-- AlterTable
ALTER TABLE "regression_runs" ADD COLUMN     "baseline_version" INTEGER,
ADD COLUMN     "promote_if_missing" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE UNIQUE INDEX "baselines_suite_name_name_version_key" ON "baselines"("suite_name", "name", "version");
