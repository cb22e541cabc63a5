// The BullMQ side: one Worker on the `pretrain` queue with one concurrent job per device slot. Each job becomes
// a RunJob; its outcome decides the job's fate (completed, failed without retry, retried, or handed back on
// shutdown). Cancels reach the RunJob from any host through the CancelListener.
import type { Database } from '@swavlab/db';
import { type PretrainJob, QUEUE_NAME, redisConnectionOptions } from '@swavlab/queue';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CancelListener } from './cancel-listener.js';
import type { WorkerConfig } from './config.js';
import type { ProgressReport } from './event-sink.js';
import type { Logger } from './logger.js';
import { RunJob, type RunJobOutcome } from './run-job.js';
import { type Slot, SlotPool } from './slots.js';

/** A job this worker is running. */
export interface ActiveRun {
  runId: string;
  attempt: number | undefined;
  device: string;
  runnerPid: number | undefined;
  pythonPid: number | undefined;
}

export interface SwavWorkerDeps {
  config: WorkerConfig;
  db: Database;
  logger: Logger;
  pythonBin: string;
}

// Kept after the kill so that killed children can be reaped and their runs handed back before the bound.
const REQUEUE_MARGIN_MS = 3_000;

function checkPayload(data: unknown): PretrainJob {
  const payload = data as Partial<PretrainJob> | null;
  if (typeof payload?.runId !== 'string' || payload.runId === '') {
    throw new UnrecoverableError('job data: runId must be a non-empty string');
  }
  if (typeof payload.specHash !== 'string' || payload.specHash === '') {
    throw new UnrecoverableError('job data: specHash must be a non-empty string');
  }
  return { runId: payload.runId, specHash: payload.specHash };
}

/** Sends progress to Redis one write at a time, keeping only the newest while one is in flight (Redis may be away). */
function liveProgress(job: Job<PretrainJob>, logger: Logger): (progress: ProgressReport) => void {
  let inFlight = false;
  let pending: ProgressReport | undefined;
  const send = (progress: ProgressReport): void => {
    inFlight = true;
    job
      .updateProgress({ ...progress })
      .catch((error: unknown) => logger.debug('cannot publish live progress', { runId: job.id, error }))
      .finally(() => {
        inFlight = false;
        const next = pending;
        pending = undefined;
        if (next !== undefined) send(next);
      });
  };
  return (progress) => {
    if (inFlight) pending = progress;
    else send(progress);
  };
}

export class SwavWorker {
  readonly #deps: SwavWorkerDeps;
  readonly #slots: SlotPool;
  readonly #active = new Map<string, { job: RunJob; slot: Slot }>();
  #bull: Worker<PretrainJob, void> | undefined;
  #subscriber: Redis | undefined;
  #cancels: CancelListener | undefined;
  #closing: Promise<void> | undefined;

  constructor(deps: SwavWorkerDeps) {
    this.#deps = deps;
    this.#slots = new SlotPool(deps.config.slots);
  }

  /** Subscribes to cancels and starts taking jobs. */
  async start(): Promise<void> {
    const { config, db, logger } = this.#deps;
    this.#subscriber = new Redis(redisConnectionOptions(config.redisUrl, 'worker'));
    this.#subscriber.on('error', (error) => logger.debug('cancel subscriber connection', { error }));
    this.#cancels = new CancelListener({
      db,
      subscriber: this.#subscriber,
      pollMs: config.cancelPollMs,
      logger,
    });
    // Both the subscription and BullMQ wait for Redis without limit; say so rather than hang silently.
    const waiting = setTimeout(() => logger.warn('waiting for Redis', { redisUrl: config.redisUrl }), 5_000);
    try {
      await this.#cancels.start();
    } finally {
      clearTimeout(waiting);
    }

    const bull = new Worker<PretrainJob, void>(QUEUE_NAME, (job, token) => this.#process(job, token), {
      connection: redisConnectionOptions(config.redisUrl, 'worker'),
      ...(config.queuePrefix === undefined ? {} : { prefix: config.queuePrefix }),
      concurrency: config.slots.length,
      ...config.lock,
      autorun: false,
    });
    bull.on('error', (error) => logger.warn('queue connection', { error }));
    bull.on('lockRenewalFailed', (jobIds) =>
      logger.warn('lost the lock of jobs; another worker may take them over', { jobIds }),
    );
    bull.on('stalled', (jobId) => logger.warn('a stalled job was put back in the queue', { jobId }));
    bull.on('failed', (job, error) => {
      // A job that stalled too often is failed by whichever worker fetches it next, without running the
      // processor: no attempt is left to end its run, so the run is ended here.
      if (job?.deferredFailure) void this.#abandon(job.data, error.message);
    });
    this.#bull = bull;
    void bull.run().catch((error: unknown) => logger.error('the queue loop stopped', { error }));
    logger.info('worker started', {
      worker: config.workerName,
      slots: config.slots.map((slot) => slot.device),
      queuePrefix: config.queuePrefix ?? 'bull',
    });
  }

  activeRuns(): ActiveRun[] {
    return [...this.#active.values()].map(({ job, slot }) => ({
      runId: job.runId,
      attempt: job.attempt,
      device: slot.device,
      runnerPid: job.runnerPid,
      pythonPid: job.pythonPid,
    }));
  }

  /**
   * Graceful shutdown: stop fetching jobs, ask running ones to checkpoint and stop, hand them back to the queue,
   * and return within `timeoutMs` (default config.shutdownTimeoutMs); jobs still running when only the kill
   * grace is left are killed (and still handed back).
   */
  close(timeoutMs = this.#deps.config.shutdownTimeoutMs): Promise<void> {
    this.#closing ??= this.#shutdown(timeoutMs);
    return this.#closing;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    const { logger, config } = this.#deps;
    logger.info('worker shutting down', { active: this.#active.size, timeoutMs });
    const bull = this.#bull;
    const drained = bull?.close() ?? Promise.resolve();
    for (const { job } of this.#active.values()) job.stop('shutdown');

    const killAfter = Math.max(0, timeoutMs - config.killGraceMs - REQUEUE_MARGIN_MS);
    const killer = setTimeout(() => {
      for (const { job } of this.#active.values()) {
        logger.warn('job did not stop in time; killing it', { runId: job.runId });
        job.kill();
      }
    }, killAfter);
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      deadline = setTimeout(resolve, timeoutMs, 'expired');
    });
    const outcome = await Promise.race([drained.then(() => 'drained' as const), expired]);
    clearTimeout(killer);
    clearTimeout(deadline);
    if (outcome === 'expired') {
      logger.error('shutdown bound reached with jobs still active; closing anyway', {
        active: [...this.#active.keys()],
      });
      await bull?.close(true).catch((error: unknown) => logger.warn('forced close', { error }));
    }
    await this.#cancels?.stop().catch((error: unknown) => logger.warn('cancel listener stop', { error }));
    this.#subscriber?.disconnect();
    logger.info('worker stopped');
  }

  async #abandon(data: unknown, reason: string): Promise<void> {
    const { db, logger } = this.#deps;
    try {
      const { runId } = checkPayload(data);
      const run = await db.runs.abandonRun(
        runId,
        `the queue gave up on this run: ${reason} (its workers lost the job's lock repeatedly: ` +
          'crashed, killed or overloaded hosts); retry it once the workers are healthy',
      );
      if (run !== null) logger.error('run abandoned by the queue', { runId, status: run.status, reason });
    } catch (error) {
      logger.error('cannot end a run the queue gave up on', { reason, error });
    }
  }

  async #process(job: Job<PretrainJob>, token: string | undefined): Promise<void> {
    const { runId, specHash } = checkPayload(job.data);
    const { logger } = this.#deps;
    const slot = this.#slots.acquire();
    const finalDelivery = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const runJob = new RunJob(
      { db: this.#deps.db, logger, pythonBin: this.#deps.pythonBin, config: this.#deps.config },
      { runId, specHash, slot, finalDelivery, onProgress: liveProgress(job, logger) },
    );
    this.#active.set(runId, { job: runJob, slot });
    const unwatch = this.#cancels?.watch(runId, () => runJob.stop('cancel'));
    if (this.#closing !== undefined) runJob.stop('shutdown');
    let outcome: RunJobOutcome;
    try {
      outcome = await runJob.done;
    } finally {
      unwatch?.();
      this.#active.delete(runId);
      this.#slots.release(slot);
    }
    logger.info('job outcome', { runId, jobId: job.id, outcome });
    switch (outcome.kind) {
      case 'skipped':
      case 'finished':
      case 'superseded':
        return;
      case 'rejected':
      case 'failed':
        throw new UnrecoverableError(outcome.message);
      case 'retry':
        throw new Error(outcome.message);
      case 'requeued':
        // Back to the queue without counting as a failed attempt: delayed until now, then waiting again.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
    }
  }
}
