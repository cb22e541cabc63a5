// Runs, metric points, evaluations and checkpoints as they go on the wire; the schemas live in packages/spec.
import type { Checkpoint, Evaluation, EvaluationRequest, MetricPoint, Run } from '@swavlab/db';
import type {
  CheckpointView,
  EvaluationRequestView,
  EvaluationView,
  MetricPointView,
  RunView,
} from '@swavlab/spec';

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
    // Written only from a `dataset` event whose counts the worker checked (apps/worker trainer-events.ts).
    dataset: run.dataset as RunView['dataset'],
  };
}

export function evaluationRequestView(request: EvaluationRequest): EvaluationRequestView {
  return {
    id: request.id,
    run_id: request.runId,
    status: request.status,
    // Stored from the validated eval section (routes/evaluations.ts).
    eval: request.eval as EvaluationRequestView['eval'],
    checkpoint_step: request.checkpointStep,
    attempt: request.attempt,
    results: request.results as EvaluationRequestView['results'],
    error: request.error,
    device: request.device,
    worker_host: request.workerHost,
    created_at: request.createdAt.toISOString(),
    started_at: iso(request.startedAt),
    finished_at: iso(request.finishedAt),
  };
}

export function metricPointView(point: MetricPoint): MetricPointView {
  return {
    step: point.step,
    epoch: point.epoch,
    value: finiteOrNull(point.value),
    time: point.time.toISOString(),
  };
}

export function evaluationView(evaluation: Evaluation): EvaluationView {
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

export function checkpointView(checkpoint: Checkpoint): CheckpointView {
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
