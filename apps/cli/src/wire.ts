// The REST API's JSON responses as the CLI reads them (snake_case, as on the wire); runs and their records are
// the API's own schemas from packages/spec.
import type {
  EvaluationRequestView,
  EvaluationView,
  MetricPointView,
  RunProgressView,
  RunStatus,
  RunView,
} from '@swavlab/spec';

export type Run = RunView;
export type RunProgress = RunProgressView;
export type MetricPoint = MetricPointView;
export type Evaluation = EvaluationView;
export type EvaluationRequest = EvaluationRequestView;
export type RunError = NonNullable<RunView['error']>;
export type { RunStatus };

export const TERMINAL: readonly RunStatus[] = ['succeeded', 'failed', 'canceled'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.includes(status);
}

export interface RunDetail extends Run {
  last_metrics: Record<string, MetricPoint>;
  evaluations: Evaluation[];
}

export interface SpecWarning {
  path: string;
  message: string;
}

export interface SubmittedRun extends Run {
  deduplicated: boolean;
  warnings: SpecWarning[];
}

export interface RunPage {
  runs: Run[];
  next_page_token: string | null;
}

export type StatusCounts = Record<RunStatus, number> & { total: number };

export interface Grid {
  id: string;
  name: string;
  metric: { name: string; goal: 'max' | 'min' };
  cell_count: number;
  spec: Record<string, unknown>;
  created_at: string;
  status_counts: StatusCounts;
}

export interface CreatedGrid extends Grid {
  dry_run: false;
  runs: { created: number; deduplicated: number; run_ids: string[] };
}

export interface GridDryRun {
  dry_run: true;
  cell_count: number;
  new_cells: number;
  cells: {
    index: number;
    axis_values: Record<string, unknown>;
    seed: number;
    hash: string;
    existing_run_id: string | null;
  }[];
}

export interface ResultGroup {
  key: Record<string, unknown>;
  n: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  run_ids: string[];
}

export interface GridResults {
  grid_id: string;
  metric: string;
  group_by: string[];
  groups: ResultGroup[];
  runs_without_value: number;
  runs_not_finished: number;
}

/** A metric point as sent by the event stream. */
export interface StreamedPoint extends MetricPoint {
  name: string;
}
