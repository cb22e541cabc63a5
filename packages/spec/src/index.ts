export { canonicalJson } from './canonical-json.js';
export {
  CropGroup,
  CropGroups,
  CropNotationError,
  Crops,
  DEFAULT_CROPS,
  defaultScales,
  formatCrops,
  parseCrops,
  totalCrops,
} from './crops.js';
export { DATA_SOURCES, IMAGE_EXTENSIONS, PATH_SOURCES } from './data-sources.js';
export { type DeviceDemand, deviceDemand, type RuntimeDevices, rankCount } from './devices.js';
export { EVALUATION_REQUEST_STATUSES, EvaluationRequestView } from './evaluation-request-views.js';
export {
  type ExpandGridResult,
  expandGrid,
  expandGridInSlices,
  type GridCell,
  type GridExpansion,
  startGridExpansion,
} from './expand-grid.js';
export {
  Eval,
  ExperimentSpec,
  ExperimentSpecFields,
  type ExperimentSpecInput,
  LINEAR_PROTOCOLS,
  SEMISUP_FRACTIONS,
  Seed,
  Tags,
} from './experiment-spec.js';
export {
  GridMetric,
  GridSpec,
  type GridSpecInput,
  gridCellCount,
  MAX_AXIS_VALUES,
  MAX_GRID_CELLS,
} from './grid-spec.js';
export {
  BestGroup,
  CellWarning,
  CreatedGridView,
  GridCellPreview,
  GridCells,
  GridCellView,
  GridDryRunView,
  GridList,
  GridMetrics,
  GridPivot,
  GridRerunView,
  GridResults,
  GridSeedsRequest,
  GridSeedsView,
  GridStatusCounts,
  GridSummaryView,
  GridView,
  GroupComparison,
  GroupCosts,
  GroupStatistics,
  GroupTest,
  MetricGoal,
  ReportedMetricView,
  ResultGroup,
  SeedResolution,
} from './grid-views.js';
export {
  describeValue,
  type Issue,
  type IssueOptions,
  issuesFromZod,
  issuesToText,
  SpecValidationError,
  WHEN_FIELDS_VALID,
} from './issues.js';
export { gridToJsonSchema, toJsonSchema } from './json-schema.js';
export {
  type EvaluationValue,
  LEARNING_CAUSES,
  LearningCheckView,
  learningCheck,
} from './learning-check.js';
export {
  EVALUATION_METRICS,
  isEvaluationMetric,
  isMetricName,
  METRIC_GOALS,
  metricGoal,
  TRAINING_METRICS,
} from './metrics.js';
export { type ParseResult, parseExperimentSpec } from './parse-spec.js';
export { formatPath, getAtPath, isPlainObject, setAtPath, splitDottedPath } from './paths.js';
export { WhoAmIView } from './principal-view.js';
export { pythonArtefacts } from './python-artefacts.js';
export { applyRecipe, RECIPE_NAMES, RECIPES, type Recipe, type RecipeName } from './recipes.js';
export {
  BaselineMetric,
  BaselineRequest,
  BaselineView,
  MetricComparison,
  REGRESSION_VERDICTS,
  RegressionList,
  RegressionProgress,
  RegressionReport,
  RegressionRequest,
  type RegressionRequestInput,
  RegressionVerdict,
  RegressionView,
  SampleSummary,
  SuiteCell,
  SuiteHistory,
  SuiteHistoryPoint,
} from './regression-report.js';
export {
  AbsoluteTolerance,
  cellKey,
  expandSuite,
  MAX_SUITE_CELLS,
  MAX_SUITE_METRICS,
  MAX_SUITE_SEEDS,
  MetricDirection,
  RegressionName,
  RegressionSuite,
  type RegressionSuiteInput,
  RelativeTolerance,
  StatisticalTolerance,
  type SuiteExpansion,
  SuiteMetric,
  Tolerance,
} from './regression-suite.js';
export { evaluate, type RuleExpr, type RuleIssue, runRules, type SpecRule } from './rule-engine.js';
export { isTerminalStatus, RUN_STATUSES, type RunStatusName, TERMINAL_STATUSES } from './run-status.js';
export {
  CheckpointView,
  CompareView,
  DatasetView,
  EvaluationView,
  MetricPointView,
  RunCheckpointsView,
  RunDetailView,
  RunList,
  RunMetricsView,
  RunProgressView,
  RunStatus,
  RunView,
  SpecWarning,
  SubmittedRunView,
} from './run-views.js';
export {
  hashValidSpec,
  SPEC_METADATA_FIELDS,
  specHash,
  TRAINING_SECTIONS,
  trainingHash,
} from './spec-hash.js';
export { isSpecLeafPath, SPEC_LEAF_PATHS } from './spec-paths.js';
export { checkSpecRules, SPEC_RULES } from './spec-rules.js';
export {
  type DatasetFacts,
  knownImageCount,
  SMALL_DATASET_IMAGES,
  specWarnings,
} from './spec-warnings.js';
