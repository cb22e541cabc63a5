// The REST API's JSON responses as the CLI reads them (snake_case, as on the wire); runs and their records, grids
// and their results are the API's own schemas from packages/spec.
import type {
  EvaluationRequestView,
  EvaluationView,
  GridResults,
  GridSeedsView,
  GridView,
  MetricPointView,
  ResultGroup,
  RunDetailView,
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
export type { GridResults, GridSeedsView, ResultGroup, RunStatus };
export type Grid = GridView;

export { isTerminalStatus as isTerminal } from '@swavlab/spec';

export type RunDetail = RunDetailView;

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

/** A metric point as sent by the event stream. */
export interface StreamedPoint extends MetricPoint {
  name: string;
}
