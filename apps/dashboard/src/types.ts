// The API's responses as the dashboard reads them. Runs and their records, grids and their results, and the
// regression views are the schemas of packages/spec (types only); the other query responses mirror the fields
// used here.

import type {
  CheckpointView,
  CompareView,
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
  RunList,
  RunMetricsView,
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

export type RunPage = RunList;
export type RunMetrics = RunMetricsView;
export type MetricSeries = RunMetricsView['series'][number];

/** A grid as GET /v1/grids/{id} returns it, with the spec fields the grid page reads. */
export type Grid = GridView & {
  spec: { axes?: Record<string, unknown[]>; seeds?: number[] } & Record<string, unknown>;
};

export type Comparison = CompareView;

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
