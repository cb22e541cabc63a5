-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "run_status" AS ENUM ('queued', 'running', 'stopping', 'succeeded', 'failed', 'canceled');

-- CreateEnum
CREATE TYPE "error_kind" AS ENUM ('spec', 'diverged', 'crashed', 'infrastructure');

-- CreateEnum
CREATE TYPE "metric_goal" AS ENUM ('max', 'min');

-- CreateEnum
CREATE TYPE "regression_verdict" AS ENUM ('pass', 'regression', 'inconclusive', 'error');

-- CreateTable
CREATE TABLE "grids" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "metric_name" TEXT NOT NULL,
    "metric_goal" "metric_goal" NOT NULL,
    "cell_count" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "grids_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runs" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "spec" JSONB NOT NULL,
    "spec_hash" TEXT NOT NULL,
    "grid_id" TEXT,
    "cell_index" INTEGER,
    "axis_values" JSONB,
    "seed" INTEGER NOT NULL,
    "status" "run_status" NOT NULL DEFAULT 'queued',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "fencing_token" TEXT,
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "error_kind" "error_kind",
    "error_message" TEXT,
    "error_traceback" TEXT,
    "progress_epoch" INTEGER,
    "progress_step" INTEGER,
    "total_steps" INTEGER,
    "eta_seconds" DOUBLE PRECISION,
    "device" TEXT,
    "worker_host" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queued_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "final_metrics" JSONB,

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "metric_points" (
    "run_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "epoch" INTEGER,
    "value" DOUBLE PRECISION NOT NULL,
    "time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metric_points_pkey" PRIMARY KEY ("run_id","name","step")
);

-- CreateTable
CREATE TABLE "checkpoints" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "path" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "checkpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "evaluations" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "checkpoint_id" TEXT,
    "name" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "split" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "evaluations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "scopes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "regression_runs" (
    "id" TEXT NOT NULL,
    "suite_name" TEXT NOT NULL,
    "suite" JSONB NOT NULL,
    "baseline_name" TEXT NOT NULL,
    "commit" TEXT,
    "branch" TEXT,
    "ci_url" TEXT,
    "candidate_run_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "verdict" "regression_verdict",
    "report" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "regression_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "baselines" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "suite_name" TEXT NOT NULL,
    "run_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "metrics" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "baselines_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "grids_created_at_idx" ON "grids"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "runs_spec_hash_key" ON "runs"("spec_hash");

-- CreateIndex
CREATE INDEX "runs_created_at_id_idx" ON "runs"("created_at", "id");

-- CreateIndex
CREATE INDEX "runs_status_created_at_idx" ON "runs"("status", "created_at");

-- CreateIndex
CREATE INDEX "runs_tags_idx" ON "runs" USING GIN ("tags");

-- CreateIndex
CREATE UNIQUE INDEX "runs_grid_id_cell_index_key" ON "runs"("grid_id", "cell_index");

-- CreateIndex
CREATE INDEX "metric_points_name_run_id_idx" ON "metric_points"("name", "run_id");

-- CreateIndex
CREATE UNIQUE INDEX "checkpoints_run_id_step_key" ON "checkpoints"("run_id", "step");

-- CreateIndex
CREATE INDEX "evaluations_name_run_id_idx" ON "evaluations"("name", "run_id");

-- CreateIndex
CREATE UNIQUE INDEX "evaluations_run_id_name_split_step_key" ON "evaluations"("run_id", "name", "split", "step");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "regression_runs_suite_name_created_at_idx" ON "regression_runs"("suite_name", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "baselines_name_version_key" ON "baselines"("name", "version");

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_grid_id_fkey" FOREIGN KEY ("grid_id") REFERENCES "grids"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "metric_points" ADD CONSTRAINT "metric_points_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "checkpoints" ADD CONSTRAINT "checkpoints_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "evaluations" ADD CONSTRAINT "evaluations_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "evaluations" ADD CONSTRAINT "evaluations_checkpoint_id_fkey" FOREIGN KEY ("checkpoint_id") REFERENCES "checkpoints"("id") ON DELETE SET NULL ON UPDATE CASCADE;
