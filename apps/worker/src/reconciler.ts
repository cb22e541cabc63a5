// Repairs differences between the database (the source of truth) and the queue, one worker at a time across
// hosts (Redis leadership): a `queued` run without a job is enqueued (Redis was down at submit, or lost its data);
// a `running` run whose job is gone and that has been silent for a while is queued again so that a new attempt
// resumes it (canceled if a cancel was requested, failed `infrastructure` once its attempts are used up, as the
// queue's stall handling does); a waiting job whose run is gone or finished is removed. Evaluation requests get
// the same care on the `evaluate` queue: a queued one without a job, or a running one silent without a job, gets a
// job again (its next delivery claims it anew). Every action is logged and counted in Redis for the API's /metrics.
import type { Database, EvaluationRequest, Run, RunStatus } from '@swavlab/db';
import {
  claimLeadership,
  countReconcilerActions,
  DEFAULT_PRIORITY,
  type EvaluateQueue,
  enqueueEvaluation,
  enqueueRun,
  MIN_PRIORITY,
  type PretrainQueue,
  type ReconcilerAction,
  reconcilerActionsKey,
  reconcilerLeaderKey,
  releaseLeadership,
} from '@swavlab/queue';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export interface ReconcilerOptions {
  db: Database;
  /** A connection for commands (not in subscriber mode). */
  redis: Redis;
  queue: PretrainQueue;
  /** The `evaluate` queue under the same prefix. */
  evaluations: EvaluateQueue;
  /** BullMQ key prefix (undefined: BullMQ's "bull"). */
  queuePrefix: string | undefined;
  /** This worker's name, held in the leadership key. */
  owner: string;
  /** Time between passes; the leadership lasts three of them. */
  intervalMs: number;
  /** A running run without a job counts as abandoned once it has written nothing for this long. */
  silentRunMs: number;
  /** Deliveries a run gets (the job's attempts): a lost run that used them all is failed, not queued again. */
  maxAttempts: number;
  logger: Logger;
}

/** What one pass did, per action (RECONCILER_ACTIONS of @swavlab/queue). */
export type ReconcileReport = Record<ReconcilerAction, number>;

const PAGE = 500;
// States in which a job is still on its way to (or in) a worker: its run needs nothing from the reconciler.
const LIVE_JOB_STATES = new Set(['active', 'waiting', 'prioritized', 'delayed', 'waiting-children']);
const FINISHED: readonly RunStatus[] = ['succeeded', 'failed', 'canceled'];

export class Reconciler {
  readonly #options: ReconcilerOptions;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
  }

  get #leaderKey(): string {
    return reconcilerLeaderKey(this.#options.queuePrefix);
  }

  /** Runs a pass every interval (the first after one interval). */
  start(): void {
    const schedule = (): void => {
      this.#timer = setTimeout(() => {
        this.#pass = this.runOnce()
          .catch((error: unknown) => this.#options.logger.warn('reconciler pass failed', { error }))
          .finally(() => {
            if (!this.#stopped) schedule();
          });
      }, this.#options.intervalMs);
      this.#timer.unref();
    };
    schedule();
  }

  /** Stops the passes, waits for one in progress and gives up the leadership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass;
    await releaseLeadership(this.#options.redis, this.#leaderKey, this.#options.owner).catch(() => undefined);
  }

  /** One pass if this worker holds (or takes) the leadership; null when another one does. */
  async runOnce(): Promise<ReconcileReport | null> {
    const { redis, owner, intervalMs, queuePrefix, logger } = this.#options;
    if (!(await claimLeadership(redis, this.#leaderKey, owner, Math.max(3 * intervalMs, 10_000))))
      return null;
    const report: ReconcileReport = { enqueued: 0, requeued: 0, canceled: 0, abandoned: 0, removed: 0 };
    await this.#enqueueQueued(report);
    await this.#recoverSilent(report);
    await this.#removeOrphanJobs(report);
    await this.#enqueueLostEvaluations(report);
    await countReconcilerActions(redis, reconcilerActionsKey(queuePrefix), { ...report });
    logger.debug('reconciler pass', { ...report });
    return report;
  }

  async *#scan(statuses: RunStatus[], updatedBefore?: Date): AsyncGenerator<Run> {
    let afterId: string | undefined;
    for (;;) {
      const page = await this.#options.db.runs.scanRuns({
        statuses,
        limit: PAGE,
        ...(afterId === undefined ? {} : { afterId }),
        ...(updatedBefore === undefined ? {} : { updatedBefore }),
      });
      yield* page;
      if (page.length < PAGE) return;
      afterId = page.at(-1)?.id;
    }
  }

  async #hasLiveJob(runId: string): Promise<boolean> {
    return LIVE_JOB_STATES.has(await this.#options.queue.getJobState(runId));
  }

  async #enqueue(run: Run): Promise<void> {
    // Rows written without a priority hold 0, which BullMQ would run before every other job.
    const priority = run.priority >= MIN_PRIORITY ? run.priority : DEFAULT_PRIORITY;
    await enqueueRun(this.#options.queue, { runId: run.id, specHash: run.specHash, priority });
  }

  async #enqueueQueued(report: ReconcileReport): Promise<void> {
    for await (const run of this.#scan(['queued'])) {
      if (await this.#hasLiveJob(run.id)) continue;
      await this.#enqueue(run);
      report.enqueued += 1;
      this.#options.logger.info('reconciler: a queued run had no job; enqueued it', { runId: run.id });
    }
  }

  async #recoverSilent(report: ReconcileReport): Promise<void> {
    const { db, silentRunMs, maxAttempts, logger } = this.#options;
    const silentSince = new Date(Date.now() - silentRunMs);
    for await (const run of this.#scan(['running', 'stopping'], silentSince)) {
      if (await this.#hasLiveJob(run.id)) continue;
      if (run.attempt >= maxAttempts && !run.cancelRequested) {
        const ended = await db.runs.abandonRun(
          run.id,
          `the queue lost this run's job (Redis lost its data, or the job was removed) during attempt ${run.attempt} ` +
            `of ${maxAttempts}; retry it`,
        );
        if (ended !== null) {
          report.abandoned += 1;
          logger.warn('reconciler: a running run lost its job after its last attempt; failed it', {
            runId: run.id,
          });
        }
        continue;
      }
      const moved = await db.runs.requeueSilentRun(run.id, run.attempt, silentSince);
      if (moved?.status === 'queued') {
        await this.#enqueue(moved);
        report.requeued += 1;
        logger.warn('reconciler: a running run lost its job and went silent; queued it again to resume', {
          runId: run.id,
          attempt: run.attempt,
        });
      } else if (moved?.status === 'canceled') {
        report.canceled += 1;
        logger.info('reconciler: a stopping run lost its job; canceled it', { runId: run.id });
      }
    }
  }

  async *#scanEvaluations(
    statuses: EvaluationRequest['status'][],
    updatedBefore?: Date,
  ): AsyncGenerator<EvaluationRequest> {
    let afterId: string | undefined;
    for (;;) {
      const page = await this.#options.db.evaluationRequests.scanRequests({
        statuses,
        limit: PAGE,
        ...(afterId === undefined ? {} : { afterId }),
        ...(updatedBefore === undefined ? {} : { updatedBefore }),
      });
      yield* page;
      if (page.length < PAGE) return;
      afterId = page.at(-1)?.id;
    }
  }

  /**
   * Evaluation requests whose job Redis lost: queued ones at once, running ones once silent (a worker that lost
   * its lock may still be evaluating; its writes are refused once the new delivery claims the request).
   */
  async #enqueueLostEvaluations(report: ReconcileReport): Promise<void> {
    const { evaluations, silentRunMs, logger } = this.#options;
    const lost = async (request: EvaluationRequest) =>
      !LIVE_JOB_STATES.has(await evaluations.getJobState(request.id));
    const enqueue = (request: EvaluationRequest) =>
      enqueueEvaluation(evaluations, { requestId: request.id, runId: request.runId });
    for await (const request of this.#scanEvaluations(['queued'])) {
      if (!(await lost(request))) continue;
      await enqueue(request);
      report.enqueued += 1;
      logger.info('reconciler: a queued evaluation had no job; enqueued it', { requestId: request.id });
    }
    const silentSince = new Date(Date.now() - silentRunMs);
    for await (const request of this.#scanEvaluations(['running'], silentSince)) {
      if (!(await lost(request))) continue;
      await enqueue(request);
      report.requeued += 1;
      logger.warn('reconciler: a running evaluation lost its job and went silent; queued it again', {
        requestId: request.id,
        attempt: request.attempt,
      });
    }
  }

  async #removeOrphanJobs(report: ReconcileReport): Promise<void> {
    const { db, queue, logger } = this.#options;
    for (const state of ['waiting', 'prioritized', 'delayed'] as const) {
      for (let start = 0; ; start += PAGE) {
        const jobs = (await queue.getJobs([state], start, start + PAGE - 1)).filter(
          (job) => job?.id !== undefined,
        );
        if (jobs.length === 0) break;
        const runs = new Map(
          (await db.runs.getRuns(jobs.map((job) => job.id as string))).map((run) => [run.id, run]),
        );
        let removedHere = 0;
        for (const job of jobs) {
          const run = runs.get(job.id as string);
          if (run !== undefined && !FINISHED.includes(run.status)) continue;
          await job.remove();
          removedHere += 1;
          logger.info('reconciler: removed a job whose run is gone or finished', {
            jobId: job.id,
            runStatus: run?.status ?? null,
          });
        }
        report.removed += removedHere;
        // Removed jobs shift the state's list: read the same window again.
        if (removedHere > 0) start -= removedHere;
        if (jobs.length < PAGE) break;
      }
    }
  }
}
