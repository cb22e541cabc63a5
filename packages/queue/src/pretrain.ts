import { type ConnectionOptions, type JobsOptions, Queue } from 'bullmq';
import { DEFAULT_REDIS_TIMEOUT_MS, withTimeout } from './timeout.js';

/** The one BullMQ queue of pretraining runs. */
export const QUEUE_NAME = 'pretrain';

/**
 * The job payload. Deliberately minimal: the Run row in the database is the source of truth (spec,
 * status, attempts, fencing token), the job only says which run to execute.
 */
export interface PretrainJob {
  runId: string;
  /** sha256 of the canonical spec; lets the worker check that the Run row is the one queued. */
  specHash: string;
}

/** The queue's type: payload PretrainJob, no return value stored (results go to the database). */
export type PretrainQueue = Queue<PretrainJob, void, typeof QUEUE_NAME>;

/** Priority of a run submitted without one. Lower numbers run sooner. */
export const DEFAULT_PRIORITY = 100;
/** BullMQ's range for explicit priorities; 0 would mean "no priority", which jumps ahead of all others. */
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 2_097_152;

/** Job options applied to every run (enqueueRun adds jobId and priority). */
export const pretrainJobOptions = {
  /** Total tries of a run; each retry resumes from the latest checkpoint. */
  attempts: 3,
  /** 30 s, 60 s, 120 s …: gives a lost GPU host or a Redis blip time to recover. */
  backoff: { type: 'exponential', delay: 30_000 },
  /** Keep finished jobs a week (at most 10 000) for inspection; the database keeps everything. */
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  /** Keep failed jobs a month (at most 10 000). */
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
} as const satisfies JobsOptions;

/** Open the `pretrain` queue. `prefix` (BullMQ's key prefix, default "bull") isolates tests and tenants. */
export function createPretrainQueue(
  connection: ConnectionOptions,
  { prefix }: { prefix?: string } = {},
): PretrainQueue {
  return new Queue<PretrainJob, void, typeof QUEUE_NAME>(QUEUE_NAME, {
    connection,
    ...(prefix === undefined ? {} : { prefix }),
    defaultJobOptions: pretrainJobOptions,
  });
}

/** What to enqueue: the run, its spec hash, and optionally a priority and a number of attempts. */
export interface EnqueueRequest extends PretrainJob {
  /** 1 (first) … 2 097 152 (last); default DEFAULT_PRIORITY. Equal priorities run in submission order. */
  priority?: number;
  /** Overrides pretrainJobOptions.attempts (e.g. 1 for CI regression runs that must not retry). */
  attempts?: number;
}

/** How enqueueRun ended: `deduplicated` when the run was already waiting or running. */
export interface EnqueueOutcome {
  jobId: string;
  deduplicated: boolean;
}

function checkInteger(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${field}: expected an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${field}: expected a non-empty string`);
  return value;
}

function checkRunId(value: unknown): string {
  // The run id becomes the BullMQ job id: BullMQ rejects all-digit custom ids and uses ':' in its keys.
  const id = checkText(value, 'runId');
  if (/^\d+$/.test(id) || id.includes(':')) {
    throw new TypeError(
      `runId: expected an id that is not all digits and has no ':', got ${JSON.stringify(id)}`,
    );
  }
  return id;
}

/**
 * Add a run to the queue with jobId = runId, so a run is queued at most once. A finished job of the same
 * run (completed or failed, kept for inspection) is removed first: re-enqueueing a run is a retry.
 */
export async function enqueueRun(
  queue: PretrainQueue,
  request: EnqueueRequest,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<EnqueueOutcome> {
  const runId = checkRunId(request.runId);
  const payload: PretrainJob = { runId, specHash: checkText(request.specHash, 'specHash') };
  const priority = checkInteger(request.priority ?? DEFAULT_PRIORITY, 'priority', MIN_PRIORITY, MAX_PRIORITY);
  const attempts = checkInteger(request.attempts ?? pretrainJobOptions.attempts, 'attempts', 1, 100);
  return withTimeout(
    (async () => {
      const existing = await queue.getJob(runId);
      if (existing) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
          return { jobId: runId, deduplicated: true };
        }
        await existing.remove();
      }
      // Should another producer add the same run in between, BullMQ keeps a single job for the id.
      await queue.add(QUEUE_NAME, payload, { jobId: runId, priority, attempts });
      return { jobId: runId, deduplicated: false };
    })(),
    timeoutMs,
    `enqueue run ${runId}`,
  );
}

/**
 * Adds jobs for runs that were just inserted, so that no job of theirs can exist yet: one `addBulk` per `chunk`
 * runs instead of enqueueRun's lookup and add per run (a 10,000-cell grid in about a second).
 */
export async function enqueueNewRuns(
  queue: PretrainQueue,
  requests: readonly EnqueueRequest[],
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS, chunk = 500 }: { timeoutMs?: number; chunk?: number } = {},
): Promise<void> {
  for (let start = 0; start < requests.length; start += chunk) {
    const jobs = requests.slice(start, start + chunk).map((request) => {
      const runId = checkRunId(request.runId);
      const payload: PretrainJob = { runId, specHash: checkText(request.specHash, 'specHash') };
      const priority = checkInteger(
        request.priority ?? DEFAULT_PRIORITY,
        'priority',
        MIN_PRIORITY,
        MAX_PRIORITY,
      );
      const attempts = checkInteger(request.attempts ?? pretrainJobOptions.attempts, 'attempts', 1, 100);
      return {
        name: QUEUE_NAME as typeof QUEUE_NAME,
        data: payload,
        opts: { jobId: runId, priority, attempts },
      };
    });
    await withTimeout(queue.addBulk(jobs), timeoutMs, `enqueue ${jobs.length} new runs`);
  }
}

/** Jobs per state, for /metrics. `waiting` includes prioritized jobs (every run has a priority). */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

/** Count the queue's jobs per state. */
export async function queueDepth(
  queue: PretrainQueue,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<QueueDepth> {
  const counts = await withTimeout(
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    timeoutMs,
    'queue depth',
  );
  const count = (state: string): number => counts[state] ?? 0;
  return {
    waiting: count('waiting') + count('prioritized'),
    active: count('active'),
    delayed: count('delayed'),
    failed: count('failed'),
    completed: count('completed'),
  };
}
