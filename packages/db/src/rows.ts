// Plain row shapes returned by the repositories, and their mapping from Prisma rows, so that callers never
// see Prisma types (bigints become numbers, JSON columns become Json, the fencing token stays private).
import type { RunStatusName } from '@swavlab/spec';
import type {
  ApiToken as ApiTokenModel,
  Artifact as ArtifactModel,
  Baseline as BaselineModel,
  Checkpoint as CheckpointModel,
  Evaluation as EvaluationModel,
  EvaluationRequest as EvaluationRequestModel,
  Grid as GridModel,
  MetricPoint as MetricPointModel,
  Prisma,
  RegressionRun as RegressionRunModel,
  Run as RunModel,
} from './generated/prisma/client.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

// The run statuses are packages/spec's (the run_status enum of schema.prisma holds the same values).
export { RUN_STATUSES, TERMINAL_STATUSES } from '@swavlab/spec';
export type RunStatus = RunStatusName;

export const ERROR_KINDS = ['spec', 'diverged', 'crashed', 'infrastructure'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export const EVALUATION_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type EvaluationStatus = (typeof EVALUATION_STATUSES)[number];

export const METRIC_GOALS = ['max', 'min'] as const;
export type MetricGoal = (typeof METRIC_GOALS)[number];

export const REGRESSION_VERDICTS = ['pass', 'regression', 'inconclusive', 'error'] as const;
export type RegressionVerdict = (typeof REGRESSION_VERDICTS)[number];

export interface RunProgress {
  epoch: number | null;
  step: number | null;
  totalSteps: number | null;
  etaSeconds: number | null;
}

export interface RunError {
  kind: ErrorKind;
  message: string;
  traceback: string | null;
}

export interface Run {
  id: string;
  name: string | null;
  spec: JsonObject;
  specHash: string;
  gridId: string | null;
  cellIndex: number | null;
  axisValues: JsonObject | null;
  seed: number;
  status: RunStatus;
  priority: number;
  attempt: number;
  cancelRequested: boolean;
  error: RunError | null;
  progress: RunProgress;
  device: string | null;
  workerHost: string | null;
  createdAt: Date;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  tags: string[];
  finalMetrics: JsonObject | null;
  /** The trainer's `dataset` event without its type (image counts per split, classes, skipped); null until reported. */
  dataset: JsonObject | null;
}

export interface Grid {
  id: string;
  name: string;
  spec: JsonObject;
  metricName: string;
  metricGoal: MetricGoal;
  cellCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface MetricPoint {
  runId: string;
  name: string;
  step: number;
  epoch: number | null;
  value: number;
  time: Date;
}

export interface Checkpoint {
  id: string;
  runId: string;
  epoch: number;
  step: number;
  path: string;
  sha256: string;
  bytes: number;
  attempt: number;
  createdAt: Date;
}

/** A file a run exported besides its checkpoints (name `backbone`), in the artifact store. */
export interface Artifact {
  runId: string;
  name: string;
  /** The artifact store key. */
  path: string;
  sha256: string;
  bytes: number;
  step: number;
  createdAt: Date;
}

export interface Evaluation {
  id: string;
  runId: string;
  checkpointId: string | null;
  name: string;
  value: number;
  split: string;
  epoch: number;
  step: number;
  createdAt: Date;
}

/** A later evaluation of one of a run's checkpoints. */
export interface EvaluationRequest {
  id: string;
  runId: string;
  status: EvaluationStatus;
  /** The eval section evaluated, defaults applied. */
  eval: JsonObject;
  checkpointStep: number;
  attempt: number;
  error: RunError | null;
  /** Metric values the evaluation returned (null for a non-finite one); null until it succeeded. */
  results: JsonObject | null;
  device: string | null;
  workerHost: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** An API token as stored: the plaintext is never kept, only its sha256. */
export interface ApiToken {
  id: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface RegressionRun {
  id: string;
  suiteName: string;
  suite: JsonObject;
  baselineName: string;
  baselineVersion: number | null;
  promoteIfMissing: boolean;
  commit: string | null;
  branch: string | null;
  ciUrl: string | null;
  candidateRunIds: string[];
  verdict: RegressionVerdict | null;
  report: JsonObject | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface Baseline {
  id: string;
  name: string;
  version: number;
  suiteName: string;
  runIds: string[];
  metrics: JsonObject;
  createdAt: Date;
}

function jsonObject(value: Prisma.JsonValue, column: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${column}: expected a JSON object in the database, found ${JSON.stringify(value)}`);
  }
  return value as JsonObject;
}

function nullableJsonObject(value: Prisma.JsonValue | null, column: string): JsonObject | null {
  return value === null ? null : jsonObject(value, column);
}

export function toRun(row: RunModel): Run {
  return {
    id: row.id,
    name: row.name,
    spec: jsonObject(row.spec, 'runs.spec'),
    specHash: row.specHash,
    gridId: row.gridId,
    cellIndex: row.cellIndex,
    axisValues: nullableJsonObject(row.axisValues, 'runs.axis_values'),
    seed: row.seed,
    status: row.status,
    priority: row.priority,
    attempt: row.attempt,
    cancelRequested: row.cancelRequested,
    error:
      row.errorKind === null
        ? null
        : { kind: row.errorKind, message: row.errorMessage ?? '', traceback: row.errorTraceback },
    progress: {
      epoch: row.progressEpoch,
      step: row.progressStep,
      totalSteps: row.totalSteps,
      etaSeconds: row.etaSeconds,
    },
    device: row.device,
    workerHost: row.workerHost,
    createdAt: row.createdAt,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    updatedAt: row.updatedAt,
    tags: row.tags,
    finalMetrics: nullableJsonObject(row.finalMetrics, 'runs.final_metrics'),
    dataset: nullableJsonObject(row.dataset, 'runs.dataset'),
  };
}

export function toEvaluationRequest(row: EvaluationRequestModel): EvaluationRequest {
  return {
    id: row.id,
    runId: row.runId,
    status: row.status,
    eval: jsonObject(row.eval, 'evaluation_requests.eval'),
    checkpointStep: row.checkpointStep,
    attempt: row.attempt,
    error:
      row.errorKind === null
        ? null
        : { kind: row.errorKind, message: row.errorMessage ?? '', traceback: row.errorTraceback },
    results: nullableJsonObject(row.results, 'evaluation_requests.results'),
    device: row.device,
    workerHost: row.workerHost,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    updatedAt: row.updatedAt,
  };
}

export function toGrid(row: GridModel): Grid {
  return { ...row, spec: jsonObject(row.spec, 'grids.spec') };
}

export function toMetricPoint(row: MetricPointModel): MetricPoint {
  return { ...row };
}

export function toCheckpoint(row: CheckpointModel): Checkpoint {
  return { ...row, bytes: Number(row.bytes) };
}

export function toArtifact(row: ArtifactModel): Artifact {
  return { ...row, bytes: Number(row.bytes) };
}

export function toEvaluation(row: EvaluationModel): Evaluation {
  return { ...row };
}

export function toApiToken(row: ApiTokenModel): ApiToken {
  const { tokenHash: _hash, ...rest } = row;
  return rest;
}

export function toRegressionRun(row: RegressionRunModel): RegressionRun {
  return {
    ...row,
    suite: jsonObject(row.suite, 'regression_runs.suite'),
    report: nullableJsonObject(row.report, 'regression_runs.report'),
  };
}

export function toBaseline(row: BaselineModel): Baseline {
  return { ...row, metrics: jsonObject(row.metrics, 'baselines.metrics') };
}
