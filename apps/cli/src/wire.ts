// The REST API's JSON responses as the CLI reads them (snake_case, as on the wire): the API's own schemas from
// packages/spec, under the names the CLI's code uses.
import type {
  CreatedGridView,
  EvaluationRequestView,
  EvaluationView,
  GridDryRunView,
  GridResults,
  GridSeedsView,
  GridView,
  MetricPointView,
  ResultGroup,
  RunDetailView,
  RunList,
  RunProgressView,
  RunStatus,
  RunView,
  SpecWarning as SpecWarningView,
  SubmittedRunView,
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

export type SpecWarning = SpecWarningView;
export type SubmittedRun = SubmittedRunView;
export type RunPage = RunList;
export type CreatedGrid = CreatedGridView;
export type GridDryRun = GridDryRunView;

/** A metric point as sent by the event stream. */
export interface StreamedPoint extends MetricPoint {
  name: string;
}
