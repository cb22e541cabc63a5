// How runs, metric points, evaluations and checkpoints look on the wire (snake_case JSON), with the zod schemas
// that document them in the OpenAPI document.
import type { Checkpoint, Evaluation, MetricPoint, Run } from '@swavlab/db';
import { RUN_STATUSES } from '@swavlab/db';
import { z } from 'zod';

const Timestamp = z.iso.datetime();
const NullableNumber = z.number().nullable();

export const RunProgressView = z.object({
  epoch: z.int().nullable(),
  step: z.int().nullable(),
  total_steps: z.int().nullable(),
  eta_seconds: NullableNumber,
  /** step / total_steps when both are known. */
  fraction: NullableNumber,
});

export const RunView = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    status: z.enum(RUN_STATUSES),
    spec: z.record(z.string(), z.unknown()).meta({ description: 'the validated spec, defaults applied' }),
    spec_hash: z.string(),
    seed: z.int(),
    tags: z.array(z.string()),
    priority: z.int(),
    grid_id: z.string().nullable(),
    cell_index: z.int().nullable(),
    axis_values: z.record(z.string(), z.unknown()).nullable(),
    attempt: z.int(),
    cancel_requested: z.boolean(),
    progress: RunProgressView,
    timings: z.object({
      created_at: Timestamp,
      queued_at: Timestamp,
      started_at: Timestamp.nullable(),
      finished_at: Timestamp.nullable(),
      updated_at: Timestamp,
      duration_seconds: NullableNumber.meta({
        description: 'running time so far, or until the run finished',
      }),
    }),
    error: z.object({ kind: z.string(), message: z.string(), traceback: z.string().nullable() }).nullable(),
    device: z.string().nullable(),
    worker_host: z.string().nullable(),
    final_metrics: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'Run' });

export type RunView = z.output<typeof RunView>;

export const MetricPointView = z.object({
  step: z.int(),
  epoch: z.int().nullable(),
  value: NullableNumber.meta({ description: 'null for a non-finite (diverged) value' }),
  time: Timestamp,
});

export const EvaluationView = z.object({
  name: z.string(),
  value: NullableNumber,
  split: z.string(),
  epoch: z.int(),
  step: z.int(),
  checkpoint_id: z.string().nullable(),
  created_at: Timestamp,
});

export const CheckpointView = z.object({
  epoch: z.int(),
  step: z.int(),
  path: z.string(),
  sha256: z.string(),
  bytes: z.int(),
  attempt: z.int(),
  created_at: Timestamp,
});

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

export function runView(run: Run, now: Date = new Date()): RunView {
  const { progress } = run;
  const fraction =
    progress.step !== null && progress.totalSteps !== null && progress.totalSteps > 0
      ? Math.min(1, progress.step / progress.totalSteps)
      : null;
  const end = run.finishedAt ?? (run.startedAt ? now : null);
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    spec: run.spec,
    spec_hash: run.specHash,
    seed: run.seed,
    tags: run.tags,
    priority: run.priority,
    grid_id: run.gridId,
    cell_index: run.cellIndex,
    axis_values: run.axisValues,
    attempt: run.attempt,
    cancel_requested: run.cancelRequested,
    progress: {
      epoch: progress.epoch,
      step: progress.step,
      total_steps: progress.totalSteps,
      eta_seconds: finiteOrNull(progress.etaSeconds),
      fraction,
    },
    timings: {
      created_at: run.createdAt.toISOString(),
      queued_at: run.queuedAt.toISOString(),
      started_at: iso(run.startedAt),
      finished_at: iso(run.finishedAt),
      updated_at: run.updatedAt.toISOString(),
      duration_seconds:
        run.startedAt && end ? Math.max(0, (end.getTime() - run.startedAt.getTime()) / 1000) : null,
    },
    error: run.error,
    device: run.device,
    worker_host: run.workerHost,
    final_metrics: run.finalMetrics,
  };
}

export function metricPointView(point: MetricPoint): z.output<typeof MetricPointView> {
  return {
    step: point.step,
    epoch: point.epoch,
    value: finiteOrNull(point.value),
    time: point.time.toISOString(),
  };
}

export function evaluationView(evaluation: Evaluation): z.output<typeof EvaluationView> {
  return {
    name: evaluation.name,
    value: finiteOrNull(evaluation.value),
    split: evaluation.split,
    epoch: evaluation.epoch,
    step: evaluation.step,
    checkpoint_id: evaluation.checkpointId,
    created_at: evaluation.createdAt.toISOString(),
  };
}

export function checkpointView(checkpoint: Checkpoint): z.output<typeof CheckpointView> {
  return {
    epoch: checkpoint.epoch,
    step: checkpoint.step,
    path: checkpoint.path,
    sha256: checkpoint.sha256,
    bytes: checkpoint.bytes,
    attempt: checkpoint.attempt,
    created_at: checkpoint.createdAt.toISOString(),
  };
}
