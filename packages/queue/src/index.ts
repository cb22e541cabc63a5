/**
 * @swavlab/queue: the `pretrain` BullMQ queue, its payload, producer helpers, worker settings, Redis
 * connection options and cross-host cancels (see README.md and docs/queue.md).
 */
export { CANCEL_CHANNEL, publishCancel, type SubscribeOptions, subscribeCancels } from './cancel.js';
export {
  DEFAULT_REDIS_URL,
  type RedisConnectionOptions,
  type RedisRole,
  redactCredentials,
  redisConnectionOptions,
} from './connection.js';
export {
  createEvaluateQueue,
  EVALUATE_QUEUE_NAME,
  type EvaluateJob,
  type EvaluateQueue,
  enqueueEvaluation,
  evaluateJobOptions,
} from './evaluate.js';
export { claimLeadership, releaseLeadership } from './leadership.js';
export {
  createPretrainQueue,
  DEFAULT_PRIORITY,
  type EnqueueOutcome,
  type EnqueueRequest,
  enqueueNewRuns,
  enqueueRun,
  MAX_PRIORITY,
  MIN_PRIORITY,
  type PretrainJob,
  type PretrainQueue,
  pretrainJobOptions,
  QUEUE_NAME,
  type QueueDepth,
  queueDepth,
} from './pretrain.js';
export {
  countReconcilerActions,
  RECONCILER_ACTIONS,
  type ReconcilerAction,
  reconcilerActions,
  reconcilerActionsKey,
  reconcilerLeaderKey,
} from './reconciler-actions.js';
export { DEFAULT_REDIS_TIMEOUT_MS, QueueUnavailable } from './timeout.js';
export { defaultWorkerOptions } from './worker-options.js';
export {
  announceWorker,
  describeWorkers,
  largestCapacity,
  liveWorkers,
  retireWorker,
  WORKER_HEARTBEAT_MS,
  WORKER_STALE_AFTER_MS,
  type WorkerCapacity,
  workersKey,
} from './worker-registry.js';
