// The API's responses as the dashboard reads them. Runs and their records, and the regression views, are the
// schemas of packages/spec (types only); the grid and query responses mirror the fields used here.
import type {
  CheckpointView,
  EvaluationView,
  MetricPointView,
  RunProgressView,
  RunStatus,
  RunView,
} from '@swavlab/spec';

export type Run = RunView;
export type RunProgress = RunProgressView;
export type RunError = NonNullable<RunView['error']>;
export type MetricPoint = MetricPointView;
export type Evaluation = EvaluationView;
export type Checkpoint = CheckpointView;
export type { RunStatus };

// A runtime copy of the statuses: importing values from @swavlab/spec would bundle zod into the page.
export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'stopping',
  'succeeded',
  'failed',
  'canceled',
];

export interface RunDetail extends Run {
  last_metrics: Record<string, MetricPoint>;
  evaluations: Evaluation[];
}

export interface RunPage {
  runs: Run[];
  next_page_token: string | null;
}

export interface MetricSeries {
  name: string;
  total_points: number;
  points: MetricPoint[];
}

export interface RunMetrics {
  run_id: string;
  series: MetricSeries[];
}

export interface Grid {
  id: string;
  name: string;
  metric: { name: string; goal: 'max' | 'min' };
  cell_count: number;
  spec: { axes?: Record<string, unknown[]>; seeds?: number[] } & Record<string, unknown>;
  created_at: string;
  status_counts: Record<RunStatus | 'total', number>;
}

export interface Summary {
  n: number;
  mean: number | null;
  std: number | null;
  median?: number | null;
  min: number | null;
  max: number | null;
}

export interface GroupCosts {
  epoch_seconds_mean: number | null;
  peak_memory_bytes_max: number | null;
  wall_seconds_mean: number | null;
}

export interface ResultGroup extends Summary {
  key: Record<string, unknown>;
  run_ids: string[];
  costs?: GroupCosts;
}

export interface GridResults {
  grid_id: string;
  metric: string;
  group_by: string[];
  groups: ResultGroup[];
  goal?: 'max' | 'min';
  best?: {
    key: Record<string, unknown>;
    mean: number;
    std: number | null;
    n: number;
    run_ids: string[];
  } | null;
  runs_without_value: number;
  runs_not_finished: number;
}

export interface PivotCell extends Summary {
  run_ids: string[];
}

export interface GridPivot {
  grid_id: string;
  metric: string;
  rows: { path: string; values: unknown[] };
  columns: { path: string; values: unknown[] };
  cells: (PivotCell | null)[][];
}

export interface GridCell {
  run_id: string;
  cell_index: number;
  axis_values: Record<string, unknown>;
  seed: number;
  status: RunStatus;
  value: number | null;
  epoch_seconds: number | null;
  peak_memory_bytes: number | null;
}

export interface GridCells {
  cells: GridCell[];
}

export interface Comparison {
  runs: { id: string; name: string | null; status: RunStatus; seed: number; grid_id: string | null }[];
  spec_differences: { path: string; values: unknown[] }[];
  final_metrics: Record<string, (number | null)[]>;
  evaluations: Record<string, (number | null)[]>;
}

/** The SSE events of GET /v1/runs/{id}/events (apps/api/src/routes/run-events.ts). */
export interface MetricsEvent {
  points: (MetricPoint & { name: string })[];
}

export interface StatusEvent {
  status: RunStatus;
  error: RunError | null;
  finished_at: string | null;
}

export interface ProblemDetail {
  title?: string;
  detail?: string;
  code?: string;
  errors?: { path: string; message: string }[];
}
