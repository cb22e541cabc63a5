// The parts of the REST API's JSON responses the CLI reads (snake_case, as on the wire).

export type RunStatus = 'queued' | 'running' | 'stopping' | 'succeeded' | 'failed' | 'canceled';

export const TERMINAL: readonly RunStatus[] = ['succeeded', 'failed', 'canceled'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.includes(status);
}

export interface RunProgress {
  epoch: number | null;
  step: number | null;
  total_steps: number | null;
  eta_seconds: number | null;
  fraction: number | null;
}

export interface RunError {
  kind: string;
  message: string;
  traceback: string | null;
}

export interface Run {
  id: string;
  name: string | null;
  status: RunStatus;
  spec: Record<string, unknown>;
  spec_hash: string;
  seed: number;
  tags: string[];
  priority: number;
  grid_id: string | null;
  cell_index: number | null;
  axis_values: Record<string, unknown> | null;
  attempt: number;
  cancel_requested: boolean;
  progress: RunProgress;
  timings: {
    created_at: string;
    queued_at: string;
    started_at: string | null;
    finished_at: string | null;
    updated_at: string;
    duration_seconds: number | null;
  };
  error: RunError | null;
  device: string | null;
  worker_host: string | null;
  final_metrics: Record<string, unknown> | null;
}

export interface MetricPoint {
  step: number;
  epoch: number | null;
  value: number | null;
  time: string;
}

export interface Evaluation {
  name: string;
  value: number | null;
  split: string;
  epoch: number;
  step: number;
}

export interface RunDetail extends Run {
  last_metrics: Record<string, MetricPoint>;
  evaluations: Evaluation[];
}

export interface SubmittedRun extends Run {
  deduplicated: boolean;
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
