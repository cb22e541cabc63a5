/**
 * @swavlab/worker: runs `pretrain` jobs (BullMQ) in per-job Python process trees through @swavlab/bridge and
 * persists their events through @swavlab/db with fencing tokens (see README.md).
 */
export {
  type HttpAddress,
  type LockSettings,
  loadWorkerConfig,
  type WorkerConfig,
  workerConfigFromEnv,
} from './config.js';
export { COLLAPSE_WARNING_METRIC, type CollapseNote, type ProgressReport } from './event-sink.js';
export {
  childLogger,
  createJsonLogger,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LogLevel,
} from './logger.js';
export { type StartWorkerOptions, startWorker, type WorkerHandle } from './main.js';
export { runWorkerProcess } from './process.js';
export type { RunJobOutcome, StopReason } from './run-job.js';
export { detectGpus, planSlots, type Slot } from './slots.js';
export { type ActiveRun, SwavWorker } from './worker.js';
