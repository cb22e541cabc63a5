// How runs, metric points, evaluations and checkpoints look on the wire (snake_case JSON): the zod schemas that
// apps/api serialises with and documents in its OpenAPI document, and the types its clients (CLI, dashboard) read.
import { z } from 'zod';
import { LearningCheckView } from './learning-check.js';
import { RUN_STATUSES } from './run-status.js';

export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.output<typeof RunStatus>;

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

export const DatasetView = z
  .looseObject({
    source: z.string(),
    pretrain_images: z.int().meta({ description: 'images pretraining reads per epoch' }),
    eval_train_images: z
      .int()
      .meta({ description: 'labelled images evaluations fit on (k-NN bank, probes)' }),
    eval_test_images: z.int().meta({ description: 'labelled images evaluations are scored on' }),
    classes: z.int(),
    skipped: z.int().meta({ description: 'files left out as unreadable' }),
  })
  .meta({ description: "the trainer's dataset report; other fields it sends are kept" });

export const RunView = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    status: RunStatus,
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
    dataset: DatasetView.nullable().meta({ description: 'null until the trainer has reported its dataset' }),
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

export type DatasetView = z.output<typeof DatasetView>;
export type RunProgressView = z.output<typeof RunProgressView>;
export type MetricPointView = z.output<typeof MetricPointView>;
/** One run with its latest metric points, its evaluations and the learning check (GET /v1/runs/{id}). */
export const RunDetailView = RunView.safeExtend({
  last_metrics: z.record(z.string(), MetricPointView).meta({ description: 'latest point of every metric' }),
  evaluations: z.array(EvaluationView),
  learning_check: LearningCheckView.nullable().meta({
    description:
      'k-NN at the first evaluation against the same backbone at random init; null until there is one',
  }),
}).meta({ id: 'RunDetail' });

export type EvaluationView = z.output<typeof EvaluationView>;
export type RunDetailView = z.output<typeof RunDetailView>;
export type CheckpointView = z.output<typeof CheckpointView>;

/** A spec problem that does not stop the run but will likely waste it (see `specWarnings`). */
export const SpecWarning = z
  .object({ path: z.string(), message: z.string() })
  .meta({ id: 'SpecWarning', description: 'a likely mistake in an accepted spec, with what to change' });

/** POST /v1/runs: the run (new or the existing one with the same spec hash) and the spec's warnings. */
export const SubmittedRunView = RunView.safeExtend({
  deduplicated: z.boolean().meta({ description: 'true when an identical spec already had a run' }),
  warnings: z
    .array(SpecWarning)
    .meta({ description: 'likely mistakes in the spec; the run is queued anyway' }),
});

/** GET /v1/runs: a page of runs. */
export const RunList = z.object({ runs: z.array(RunView), next_page_token: z.string().nullable() });

/** GET /v1/runs/{id}/metrics: the run's series, downsampled. */
export const RunMetricsView = z.object({
  run_id: z.string(),
  series: z.array(
    z.object({
      name: z.string(),
      total_points: z.int().meta({ description: 'points the series has before downsampling' }),
      points: z.array(MetricPointView),
    }),
  ),
});

/** GET /v1/runs/{id}/checkpoints. */
export const RunCheckpointsView = z.object({ run_id: z.string(), checkpoints: z.array(CheckpointView) });

const PerRun = z.array(z.number().nullable()).meta({ description: 'one value per run, in `runs` order' });

/** GET /v1/compare: 2–10 runs side by side. */
export const CompareView = z.object({
  runs: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      status: RunStatus,
      seed: z.int(),
      grid_id: z.string().nullable(),
    }),
  ),
  spec_differences: z
    .array(
      z.object({
        path: z.string().meta({ description: 'dotted spec path of a leaf (arrays are leaves)' }),
        values: z.array(z.unknown()).meta({ description: 'the value per run; null where a spec lacks it' }),
      }),
    )
    .meta({ description: 'the leaf paths whose values are not all equal, sorted by path' }),
  final_metrics: z
    .record(z.string(), PerRun)
    .meta({ description: "training metric → each run's last point (null: none or non-finite)" }),
  evaluations: z
    .record(z.string(), PerRun)
    .meta({ description: "evaluation name → each run's latest evaluation (null: none or non-finite)" }),
});

export type SpecWarning = z.output<typeof SpecWarning>;
export type SubmittedRunView = z.output<typeof SubmittedRunView>;
export type RunList = z.output<typeof RunList>;
export type RunMetricsView = z.output<typeof RunMetricsView>;
export type RunCheckpointsView = z.output<typeof RunCheckpointsView>;
export type CompareView = z.output<typeof CompareView>;
