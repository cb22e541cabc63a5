/** Metric names a run reports (the trainer emits these; grids and regressions refer to them). */
export const TRAINING_METRICS = [
  'loss',
  'lr',
  'images_per_sec',
  'prototype_usage',
  'code_entropy',
  'embedding_spread',
  'epoch_seconds',
  'peak_memory_bytes',
] as const;

/**
 * Evaluation results other than k-NN: the paper's linear protocol, the fast probe on cached features, and
 * semi-supervised fine-tuning.
 */
export const EVALUATION_METRICS = [
  'linear_top1',
  'linear_top5',
  'linear_fast_top1',
  'linear_fast_top5',
  'semisup_top1',
  'semisup_top5',
] as const;

// The run's k-NN, or the same backbone's at random init that the trainer reports beside it (the learning check).
const KNN_METRIC = /^(?:random_init_)?knn_top1@([1-9][0-9]{0,4})$/;
const MAX_KNN_K = 10000;
const NAMED: ReadonlySet<string> = new Set([...TRAINING_METRICS, ...EVALUATION_METRICS]);
const EVALUATED: ReadonlySet<string> = new Set(EVALUATION_METRICS);

/**
 * Whether `name` is an evaluation result (`knn_top1@<k>`, `random_init_knn_top1@<k>` or one of EVALUATION_METRICS)
 * rather than a training curve.
 */
export function isEvaluationMetric(name: string): boolean {
  return EVALUATED.has(name) || KNN_METRIC.test(name);
}

export const METRIC_GOALS = ['max', 'min'] as const;
export type MetricGoal = (typeof METRIC_GOALS)[number];

const LOWER_IS_BETTER: ReadonlySet<string> = new Set(['loss', 'epoch_seconds', 'peak_memory_bytes']);
const HIGHER_IS_BETTER: ReadonlySet<string> = new Set([
  'images_per_sec',
  'prototype_usage',
  'code_entropy',
  'embedding_spread',
]);

/**
 * The direction in which a metric improves: `max` for accuracies (every evaluation metric), throughput, prototype
 * usage and code entropy (codes spread over the prototypes), `min` for the loss, epoch time and memory; null for
 * the learning rate and unknown names, which have none.
 */
export function metricGoal(name: string): MetricGoal | null {
  if (isEvaluationMetric(name) || HIGHER_IS_BETTER.has(name)) return 'max';
  if (LOWER_IS_BETTER.has(name)) return 'min';
  return null;
}

/** Whether `name` is a training metric, an evaluation metric or `knn_top1@<k>` with k in 1..10000. */
export function isMetricName(name: string): boolean {
  if (NAMED.has(name)) return true;
  const knn = KNN_METRIC.exec(name);
  return knn !== null && Number(knn[1]) <= MAX_KNN_K;
}
