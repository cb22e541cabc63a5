// The API's responses as the dashboard reads them. Runs and their records, grids and their results, and the
// regression views are the schemas of packages/spec (types only); the other query responses mirror the fields
// used here.

import type {
  CheckpointView,
  EvaluationView,
  GridCells,
  GridList,
  GridMetrics,
  GridPivot,
  GridResults,
  GridSummaryView,
  GridView,
  GroupStatistics,
  MetricPointView,
  ReportedMetricView,
  ResultGroup,
  RunDetailView,
  RunProgressView,
  RunStatus,
  RunView,
  WhoAmIView,
} from '@swavlab/spec';
import { RUN_STATUSES as STATUSES } from '@swavlab/spec/run-status';

export type Run = RunView;
export type RunProgress = RunProgressView;
export type RunError = NonNullable<RunView['error']>;
export type MetricPoint = MetricPointView;
export type Evaluation = EvaluationView;
export type Checkpoint = CheckpointView;
export type {
  GridCells,
  GridList,
  GridMetrics,
  GridPivot,
  GridResults,
  GroupStatistics,
  ResultGroup,
  RunStatus,
};
export type GridSummary = GridSummaryView;
export type WhoAmI = WhoAmIView;
export type ReportedMetric = ReportedMetricView;

// The statuses from their zod-free module: importing values from @swavlab/spec itself would bundle zod into the page.
export const RUN_STATUSES: readonly RunStatus[] = STATUSES;

export type RunDetail = RunDetailView;

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

/** A grid as GET /v1/grids/{id} returns it, with the spec fields the grid page reads. */
export type Grid = GridView & {
  spec: { axes?: Record<string, unknown[]>; seeds?: number[] } & Record<string, unknown>;
};

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
