// @swavlab/db: the database of swavlab (embedded PGlite or PostgreSQL), its migrator and repositories.
export {
  type Database,
  type DatabaseTarget,
  type OpenDatabaseOptions,
  openDatabase,
  resolveDatabaseTarget,
} from './database.js';
export {
  GridChangedError,
  InvalidInputError,
  MigrationError,
  StaleAttemptError,
  StaleEvaluationError,
} from './errors.js';
export {
  applyMigrations,
  checksumOf,
  defaultMigrationsDir,
  loadMigrations,
  type MigrateOptions,
  type Migration,
  type MigrationReport,
  PRISMA_MIGRATE_LOCK_KEY,
  pendingMigrations,
} from './migrator.js';
export { type Cursor, decodePageToken, encodePageToken } from './pagination.js';
export { runsFinalValues } from './reads/final-metrics.js';
export { type GridCellRow, gridCells } from './reads/grid-cells.js';
export { type GroupStats, groupStats } from './reads/group-stats.js';
export { metricNames } from './reads/metric-names.js';
export { type RunMetrics, runMetrics } from './reads/run-metrics.js';
export { type RunSearch, type RunSearchPage, searchRuns } from './reads/run-search.js';
export { SORT_DESCRIPTION } from './reads/run-sort.js';
export { type DownsampledSeries, downsampledSeries } from './reads/series.js';
export { slotDemand } from './reads/slot-demand.js';
export type { ArtifactInput, ArtifactsRepository } from './repositories/artifacts.js';
export {
  BaselineExistsError,
  type BaselinesRepository,
  type CreateBaselineInput,
} from './repositories/baselines.js';
export type { CheckpointInput, CheckpointsRepository } from './repositories/checkpoints.js';
export type {
  ClaimedEvaluation,
  CreateEvaluationRequestInput,
  EvaluationOutcome,
  EvaluationRequestsRepository,
  RequestedResultInput,
  ScanRequestsQuery,
} from './repositories/evaluation-requests.js';
export type { AddedEvaluation, EvaluationInput, EvaluationsRepository } from './repositories/evaluations.js';
export type {
  AddGridCellsInput,
  CreatedGrid,
  CreateGridInput,
  GridCellInput,
  GridStatusCounts,
  GridsRepository,
  GridWithCounts,
  ReportedMetric,
} from './repositories/grids.js';
export type { MetricPointInput, MetricsRepository } from './repositories/metrics.js';
export type {
  CandidateRunInput,
  CreatedRegressionRun,
  CreateRegressionRunInput,
  ListRegressionRunsQuery,
  RegressionRunPage,
  RegressionsRepository,
  RegressionVerdictInput,
} from './repositories/regressions.js';
export type {
  BulkRunResult,
  ClaimedRun,
  CreateRunInput,
  CreateRunResult,
  ListRunsQuery,
  ProgressUpdate,
  RunOutcome,
  RunPage,
  RunRef,
  RunsRepository,
  ScanRunsQuery,
} from './repositories/runs.js';
export type { CreatedApiToken, TokensRepository } from './repositories/tokens.js';
export {
  type ApiToken,
  type Artifact,
  type Baseline,
  type Checkpoint,
  ERROR_KINDS,
  type ErrorKind,
  EVALUATION_STATUSES,
  type Evaluation,
  type EvaluationRequest,
  type EvaluationStatus,
  type Grid,
  type Json,
  type JsonObject,
  METRIC_GOALS,
  type MetricGoal,
  type MetricPoint,
  REGRESSION_VERDICTS,
  type RegressionRun,
  type RegressionVerdict,
  RUN_STATUSES,
  type Run,
  type RunError,
  type RunProgress,
  type RunStatus,
  TERMINAL_STATUSES,
} from './rows.js';
export {
  pgliteSessions,
  postgresSessions,
  type SessionProvider,
  type SqlExecutor,
  type SqlSession,
} from './session.js';
