import { type ConnectionOptions, type JobsOptions, Queue } from 'bullmq';
import { DEFAULT_REDIS_TIMEOUT_MS, withTimeout } from './timeout.js';

/**
 * The BullMQ queue of later evaluations of a run's checkpoint, beside `pretrain`: its jobs are few and short, and
 * the reconciler's rules for run jobs (a job whose run is finished is an orphan) do not apply to them.
 */
export const EVALUATE_QUEUE_NAME = 'evaluate';

/** The job payload: which request to process. The evaluation_requests row is the source of truth. */
export interface EvaluateJob {
  requestId: string;
  runId: string;
}

export type EvaluateQueue = Queue<EvaluateJob, void, typeof EVALUATE_QUEUE_NAME>;

/** Job options of every evaluation (enqueueEvaluation adds the job id). */
export const evaluateJobOptions = {
  /** Tries of an evaluation: infrastructure failures (artifact store, database) are retried; Python errors are not. */
  attempts: 3,
  /** 10 s, 20 s, 40 s: an evaluation waits on the same recoveries a run does, but is shorter. */
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
} as const satisfies JobsOptions;

/**
 * Opens the `evaluate` queue. `prefix` must be the one of the `pretrain` queue (SWAVLAB_QUEUE_PREFIX): workers
 * read both under the same prefix.
 */
export function createEvaluateQueue(
  connection: ConnectionOptions,
  { prefix }: { prefix?: string } = {},
): EvaluateQueue {
  return new Queue<EvaluateJob, void, typeof EVALUATE_QUEUE_NAME>(EVALUATE_QUEUE_NAME, {
    connection,
    ...(prefix === undefined ? {} : { prefix }),
    defaultJobOptions: evaluateJobOptions,
  });
}

function checkId(value: unknown, field: string): string {
  // Ids become BullMQ job ids: BullMQ rejects all-digit custom ids and uses ':' in its keys.
  if (typeof value !== 'string' || value === '' || /^\d+$/.test(value) || value.includes(':')) {
    throw new TypeError(`${field}: expected a non-empty id that is not all digits and has no ':'`);
  }
  return value;
}

/**
 * Adds the request's job (job id = request id, so a request is queued at most once): a job still waiting or
 * running is left as it is, a finished one (kept for inspection) is removed first, as enqueueRun does for runs.
 */
export async function enqueueEvaluation(
  queue: EvaluateQueue,
  request: EvaluateJob,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<void> {
  const payload: EvaluateJob = {
    requestId: checkId(request.requestId, 'requestId'),
    runId: checkId(request.runId, 'runId'),
  };
  await withTimeout(
    (async () => {
      const existing = await queue.getJob(payload.requestId);
      if (existing) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
        await existing.remove();
      }
      await queue.add(EVALUATE_QUEUE_NAME, payload, { jobId: payload.requestId });
    })(),
    timeoutMs,
    `enqueue evaluation ${payload.requestId}`,
  );
}
