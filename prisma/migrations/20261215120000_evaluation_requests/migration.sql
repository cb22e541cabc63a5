-- The trainer's dataset counts on the run, and evaluations of a run's checkpoints requested after the fact.

-- CreateEnum
CREATE TYPE "evaluation_status" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "dataset" JSONB;

-- CreateTable
CREATE TABLE "evaluation_requests" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "status" "evaluation_status" NOT NULL DEFAULT 'queued',
    "eval" JSONB NOT NULL,
    "checkpoint_step" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "fencing_token" TEXT,
    "error_kind" "error_kind",
    "error_message" TEXT,
    "error_traceback" TEXT,
    "results" JSONB,
    "device" TEXT,
    "worker_host" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "evaluation_requests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "evaluation_requests_run_id_created_at_idx" ON "evaluation_requests"("run_id", "created_at");

-- AddForeignKey
ALTER TABLE "evaluation_requests" ADD CONSTRAINT "evaluation_requests_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
