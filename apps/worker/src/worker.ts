// The BullMQ side: one Worker on the `pretrain` queue, taking up to one job per device slot. Each job first gets
// its run's ranks from the DeviceScheduler (or, when this worker can never hold it, is handed to another worker
// or failed), then becomes a RunJob; its outcome decides the job's fate (completed, failed without retry,
// retried, or handed back on shutdown). Cancels reach the job from any host through the CancelListener. A second
// Worker takes `evaluate` jobs (later evaluations of a checkpoint): each gets one slot from the same scheduler,
// like a one-rank run, and becomes an EvaluationJob.
import type { Database } from '@swavlab/db';
import {
  announceWorker,
  createEvaluateQueue,
  createPretrainQueue,
  describeWorkers,
  EVALUATE_QUEUE_NAME,
  type EvaluateJob,
  type EvaluateQueue,
  largestCapacity,
  liveWorkers,
  type PretrainJob,
  type PretrainQueue,
  pretrainJobOptions,
  QUEUE_NAME,
  redisConnectionOptions,
  retireWorker,
  WORKER_HEARTBEAT_MS,
  workersKey,
} from '@swavlab/queue';
import { type DeviceDemand, deviceDemand, parseExperimentSpec } from '@swavlab/spec';
import { probe } from '@swavlab/telemetry';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CancelListener } from './cancel-listener.js';
import type { WorkerConfig } from './config.js';
import { DeviceScheduler, NeverFits, type Reservation, WaitAborted } from './device-scheduler.js';
import { EvaluationJob, type EvaluationJobOutcome } from './evaluation-job.js';
import type { ProgressReport } from './event-sink.js';
import type { ReadinessChecks } from './http-server.js';
import type { Logger } from './logger.js';
import type { QueueKind, WorkerLoad, WorkerMetrics } from './metrics.js';
import { Reconciler } from './reconciler.js';
import { RunJob, type RunJobOutcome } from './run-job.js';

/** A job this worker is running. */
export interface ActiveRun {
  runId: string;
  /** Set for a later evaluation of one of the run's checkpoints: the request's id. */
  evaluationId?: string;
  attempt: number | undefined;
  device: string;
  /** Device slots it holds (its ranks). */
  ranks: number;
  runnerPid: number | undefined;
  pythonPid: number | undefined;
}

// A job this worker can never hold goes back to the queue for this long, so that a bigger worker takes it.
const HAND_BACK_DELAY_MS = 2_000;

export interface SwavWorkerDeps {
  config: WorkerConfig;
  db: Database;
  logger: Logger;
  pythonBin: string;
  metrics?: WorkerMetrics;
}

// Kept after the kill so that killed children can be reaped and their runs handed back before the bound.
const REQUEUE_MARGIN_MS = 3_000;

function checkEvaluatePayload(data: unknown): EvaluateJob {
  const payload = data as Partial<EvaluateJob> | null;
  for (const field of ['requestId', 'runId'] as const) {
    if (typeof payload?.[field] !== 'string' || payload[field] === '') {
      throw new UnrecoverableError(`job data: ${field} must be a non-empty string`);
    }
  }
  return { requestId: payload?.requestId as string, runId: payload?.runId as string };
}

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
  readonly #scheduler: DeviceScheduler;
  /** By queue job id: run id for training, request id for an evaluation. */
  readonly #active = new Map<string, { job: RunJob | EvaluationJob; reservation: Reservation }>();
  /** Jobs waiting for device slots; aborted on shutdown. */
  readonly #waits = new Set<AbortController>();
  #bull: Worker<PretrainJob, void> | undefined;
  #evaluations: Worker<EvaluateJob, void> | undefined;
  #subscriber: Redis | undefined;
  #registry: Redis | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #producer: PretrainQueue | undefined;
  #evaluationProducer: EvaluateQueue | undefined;
  #reconciler: Reconciler | undefined;
  #cancels: CancelListener | undefined;
  #closing: Promise<void> | undefined;

  constructor(deps: SwavWorkerDeps) {
    this.#deps = deps;
    this.#scheduler = new DeviceScheduler(deps.config.slots, { reserveAfterMs: deps.config.reserveAfterMs });
  }

  get #workersKey(): string {
    return workersKey(this.#deps.config.queuePrefix);
  }

  /** Refresh this worker's entry in the registry (other workers and the API read what it can hold). */
  async #announce(): Promise<void> {
    const { config, logger } = this.#deps;
    if (this.#registry === undefined) return;
    try {
      await announceWorker(this.#registry, this.#workersKey, {
        name: config.workerName,
        slots: this.#scheduler.capacity('cpu'),
        gpus: this.#scheduler.capacity('gpu'),
      });
    } catch (error) {
      logger.debug('cannot refresh the worker registry', { error });
    }
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
    // Its own concurrency: with the pretrain Worker's, this worker may hold up to twice as many jobs as slots, and
    // the scheduler decides which of them run.
    const evaluations = new Worker<EvaluateJob, void>(
      EVALUATE_QUEUE_NAME,
      (job, token) => this.#processEvaluation(job, token),
      {
        connection: redisConnectionOptions(config.redisUrl, 'worker'),
        ...(config.queuePrefix === undefined ? {} : { prefix: config.queuePrefix }),
        concurrency: config.slots.length,
        ...config.lock,
        autorun: false,
      },
    );
    this.#registry = new Redis(redisConnectionOptions(config.redisUrl, 'worker'));
    this.#registry.on('error', (error) => logger.debug('registry connection', { error }));
    await this.#announce();
    this.#heartbeat = setInterval(() => void this.#announce(), WORKER_HEARTBEAT_MS);
    this.#heartbeat.unref();
    if (config.reconcileIntervalMs > 0) {
      const prefix = config.queuePrefix === undefined ? {} : { prefix: config.queuePrefix };
      this.#producer = createPretrainQueue(redisConnectionOptions(config.redisUrl, 'worker'), prefix);
      this.#evaluationProducer = createEvaluateQueue(
        redisConnectionOptions(config.redisUrl, 'worker'),
        prefix,
      );
      this.#reconciler = new Reconciler({
        db,
        redis: this.#registry,
        queue: this.#producer,
        evaluations: this.#evaluationProducer,
        queuePrefix: config.queuePrefix,
        owner: config.workerName,
        intervalMs: config.reconcileIntervalMs,
        silentRunMs: config.silentRunMs,
        maxAttempts: pretrainJobOptions.attempts,
        logger,
      });
      this.#reconciler.start();
    }
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
    evaluations.on('error', (error) => logger.warn('evaluate queue connection', { error }));
    evaluations.on('stalled', (jobId) =>
      logger.warn('a stalled evaluation was put back in the queue', { jobId }),
    );
    evaluations.on('failed', (job, error) => {
      if (job?.deferredFailure) void this.#abandonEvaluation(job.data, error.message);
    });
    this.#bull = bull;
    this.#evaluations = evaluations;
    void bull.run().catch((error: unknown) => logger.error('the queue loop stopped', { error }));
    void evaluations
      .run()
      .catch((error: unknown) => logger.error('the evaluate queue loop stopped', { error }));
    logger.info('worker started', {
      worker: config.workerName,
      slots: config.slots.map((slot) => slot.device),
      queuePrefix: config.queuePrefix ?? 'bull',
      reserveAfterMs: config.reserveAfterMs,
    });
  }

  activeRuns(): ActiveRun[] {
    return [...this.#active.values()].map(({ job, reservation }) => ({
      runId: job.runId,
      ...(job instanceof EvaluationJob ? { evaluationId: job.requestId } : {}),
      attempt: job.attempt,
      device: reservation.device,
      ranks: reservation.slots.length,
      runnerPid: job.runnerPid,
      pythonPid: job.pythonPid,
    }));
  }

  /** What the worker holds now, for /metrics. */
  load(): WorkerLoad {
    const running: Record<QueueKind, number> = { pretrain: 0, evaluate: 0 };
    let slotsBusy = 0;
    for (const { job, reservation } of this.#active.values()) {
      running[job instanceof EvaluationJob ? 'evaluate' : 'pretrain'] += 1;
      slotsBusy += reservation.slots.length;
    }
    return {
      running,
      waitingForSlots: this.#waits.size,
      slotsTotal: this.#deps.config.slots.length,
      slotsBusy,
    };
  }

  /** /readyz: the database and Redis answer, and both BullMQ workers take jobs (not while shutting down). */
  async readiness(): Promise<ReadinessChecks> {
    const { db } = this.#deps;
    const registry = this.#registry;
    const [database, redis] = await Promise.all([
      probe('the database', () => db.ping()),
      registry === undefined || registry.status !== 'ready'
        ? Promise.resolve(`Redis is not connected (${registry?.status ?? 'not started'})`)
        : probe('Redis', () => registry.ping()),
    ]);
    let queue: string | null = null;
    if (this.#closing !== undefined) queue = 'the worker is shutting down';
    else if (!this.#bull?.isRunning() || !this.#evaluations?.isRunning()) {
      queue = 'the BullMQ workers are not running';
    }
    return { database, redis, queue };
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
    const evaluations = this.#evaluations;
    const drained = Promise.all([bull?.close(), evaluations?.close()]);
    for (const wait of this.#waits) wait.abort();
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
      await evaluations?.close(true).catch((error: unknown) => logger.warn('forced close', { error }));
    }
    await this.#cancels?.stop().catch((error: unknown) => logger.warn('cancel listener stop', { error }));
    clearInterval(this.#heartbeat);
    await this.#reconciler?.stop().catch((error: unknown) => logger.warn('reconciler stop', { error }));
    await this.#producer?.close().catch((error: unknown) => logger.warn('reconciler queue close', { error }));
    await this.#evaluationProducer
      ?.close()
      .catch((error: unknown) => logger.warn('reconciler queue close', { error }));
    if (this.#registry !== undefined) {
      await retireWorker(this.#registry, this.#workersKey, config.workerName).catch((error: unknown) =>
        logger.debug('cannot leave the worker registry', { error }),
      );
      this.#registry.disconnect();
    }
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

  async #abandonEvaluation(data: unknown, reason: string): Promise<void> {
    const { db, logger } = this.#deps;
    try {
      const { requestId } = checkEvaluatePayload(data);
      const request = await db.evaluationRequests.abandonRequest(
        requestId,
        `the queue gave up on this evaluation: ${reason} (its workers lost the job's lock repeatedly: crashed, ` +
          'killed or overloaded hosts); request it again once the workers are healthy',
      );
      if (request !== null) logger.error('evaluation abandoned by the queue', { requestId, reason });
    } catch (error) {
      logger.error('cannot end an evaluation the queue gave up on', { reason, error });
    }
  }

  /** The run's device needs, from its stored spec (an unreadable spec asks for one slot: the claim fails it). */
  async #demandOf(runId: string): Promise<DeviceDemand> {
    const run = await this.#deps.db.runs.getRun(runId);
    const parsed = run === null ? undefined : parseExperimentSpec(run.spec);
    return parsed?.ok ? deviceDemand(parsed.spec.runtime) : { ranks: 1, kind: 'any' };
  }

  /**
   * A run this worker can never hold: back to the queue when another live worker can hold it, else failed with
   * kind `spec` and a message that lists what the workers have.
   */
  async #neverFits(
    job: Job<PretrainJob>,
    token: string | undefined,
    payload: PretrainJob,
    demand: DeviceDemand,
    reason: string,
  ): Promise<void> {
    const { config, logger } = this.#deps;
    const workers = this.#registry === undefined ? [] : await liveWorkers(this.#registry, this.#workersKey);
    const others = workers.filter((worker) => worker.name !== config.workerName);
    if (largestCapacity(others, demand.kind) >= demand.ranks) {
      logger.info('run needs a bigger worker; handed back to the queue', { runId: payload.runId, reason });
      await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
      throw new DelayedError();
    }
    const field = demand.kind === 'gpu' ? 'runtime.gpus' : 'runtime.processes';
    const message =
      `${field}: ${reason}, and no live worker can hold ${demand.ranks} ranks ` +
      `(${describeWorkers(workers)}); start a worker with more ${demand.kind === 'gpu' ? 'GPUs' : 'slots (SWAVLAB_SLOTS)'} or ask for fewer`;
    return this.#settle(job, token, await this.#runJob(job, payload, { device: 'none', env: {} }, message));
  }

  async #process(job: Job<PretrainJob>, token: string | undefined): Promise<void> {
    const payload = checkPayload(job.data);
    const { runId } = payload;
    const demand = await this.#demandOf(runId);
    const received = Date.now();
    this.#deps.logger.info('job received', { runId, ranks: demand.ranks, kind: demand.kind });
    const wait = new AbortController();
    this.#waits.add(wait);
    const unwatch = this.#cancels?.watch(runId, () => wait.abort());
    if (this.#closing !== undefined) wait.abort();
    let reservation: Reservation;
    try {
      reservation = await this.#scheduler.acquire(demand, wait.signal);
    } catch (error) {
      if (error instanceof NeverFits) return this.#neverFits(job, token, payload, demand, error.message);
      if (!(error instanceof WaitAborted)) throw error;
      // A cancel of a queued run ends it in the database; a shutdown hands the job back untouched.
      if (this.#closing === undefined) return;
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    } finally {
      unwatch?.();
      this.#waits.delete(wait);
    }
    this.#deps.logger.info('device slots granted', {
      runId,
      device: reservation.device,
      waitedMs: Date.now() - received,
    });
    let outcome: RunJobOutcome;
    try {
      outcome = await this.#runJob(job, payload, reservation);
    } finally {
      this.#scheduler.release(reservation);
    }
    return this.#settle(job, token, outcome);
  }

  /**
   * One delivery of an evaluation: one slot of the kind its run used (a GPU run is evaluated on a GPU), then an
   * EvaluationJob. A shutdown while it waits hands the job back untouched.
   */
  async #processEvaluation(job: Job<EvaluateJob>, token: string | undefined): Promise<void> {
    const payload = checkEvaluatePayload(job.data);
    const { requestId, runId } = payload;
    const run = await this.#deps.db.runs.getRun(runId);
    const parsed = run === null ? undefined : parseExperimentSpec(run.spec);
    const runtime = parsed?.ok ? parsed.spec.runtime : undefined;
    const demand: DeviceDemand =
      runtime === undefined ? { ranks: 1, kind: 'any' } : deviceDemand({ ...runtime, gpus: 1, processes: 1 });
    this.#deps.logger.info('evaluation received', { requestId, runId, kind: demand.kind });
    const wait = new AbortController();
    this.#waits.add(wait);
    if (this.#closing !== undefined) wait.abort();
    let reservation: Reservation;
    try {
      reservation = await this.#scheduler.acquire(demand, wait.signal);
    } catch (error) {
      if (!(error instanceof WaitAborted)) throw error;
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    } finally {
      this.#waits.delete(wait);
    }
    const evaluation = new EvaluationJob(
      {
        db: this.#deps.db,
        logger: this.#deps.logger,
        pythonBin: this.#deps.pythonBin,
        config: this.#deps.config,
      },
      {
        requestId,
        runId,
        devices: reservation,
        finalDelivery: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      },
    );
    this.#active.set(requestId, { job: evaluation, reservation });
    if (this.#closing !== undefined) evaluation.stop();
    let outcome: EvaluationJobOutcome;
    try {
      outcome = await evaluation.done;
      this.#deps.logger.info('evaluation outcome', {
        runId,
        requestId,
        attempt: evaluation.attempt,
        jobId: job.id,
        outcome,
      });
    } finally {
      this.#active.delete(requestId);
      this.#scheduler.release(reservation);
    }
    return this.#settle(job, token, outcome);
  }

  /** What becomes of the BullMQ job after a delivery ended with `outcome`. */
  async #settle(
    job: Job<PretrainJob> | Job<EvaluateJob>,
    token: string | undefined,
    outcome: RunJobOutcome | EvaluationJobOutcome,
  ): Promise<void> {
    this.#deps.metrics?.jobEnded(job.queueName === EVALUATE_QUEUE_NAME ? 'evaluate' : 'pretrain', outcome);
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

  /** One delivery of the run on `devices`, watched for cancels, listed in activeRuns while it lasts. */
  async #runJob(
    job: Job<PretrainJob>,
    { runId, specHash }: PretrainJob,
    devices: Reservation | Pick<Reservation, 'device' | 'env'>,
    unschedulable?: string,
  ): Promise<RunJobOutcome> {
    const { logger } = this.#deps;
    const finalDelivery = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const runJob = new RunJob(
      {
        db: this.#deps.db,
        logger,
        pythonBin: this.#deps.pythonBin,
        config: this.#deps.config,
        ...(this.#deps.metrics === undefined ? {} : { metrics: this.#deps.metrics }),
      },
      {
        runId,
        specHash,
        devices,
        finalDelivery,
        onProgress: liveProgress(job, logger),
        ...(unschedulable === undefined ? {} : { unschedulable }),
      },
    );
    const reservation = 'slots' in devices ? devices : { ...devices, slots: [] };
    this.#active.set(runId, { job: runJob, reservation });
    const unwatch = this.#cancels?.watch(runId, () => runJob.stop('cancel'));
    if (this.#closing !== undefined) runJob.stop('shutdown');
    try {
      const outcome = await runJob.done;
      logger.info('job outcome', { runId, attempt: runJob.attempt, jobId: job.id, outcome });
      return outcome;
    } finally {
      unwatch?.();
      this.#active.delete(runId);
    }
  }
}
