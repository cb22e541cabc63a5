// The reconciler against the real queue and database: runs stranded when Redis lost its data, runs left running
// by a worker that vanished together with its job, jobs whose run is gone, evaluation requests whose job was
// lost, and one leader at a time.
import { randomUUID } from 'node:crypto';
import type { Database } from '@swavlab/db';
import {
  createEvaluateQueue,
  type EvaluateQueue,
  enqueueRun,
  type PretrainQueue,
  pretrainJobOptions,
  reconcilerActions,
  reconcilerActionsKey,
  redisConnectionOptions,
} from '@swavlab/queue';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../../apps/worker/src/reconciler.js';
import {
  capturingLogger,
  freshDatabase,
  openQueue,
  REDIS_URL,
  Resources,
  startTestWorker,
  submitRun,
  tempDir,
  testConfig,
  testPrefix,
  tinySpec,
  waitFor,
  waitForStatus,
} from './helpers.js';

/** Deletes every key of the queue: what a Redis restart without persistence does to it. */
async function loseQueueData(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

const tiny = () => tinySpec({ epochs: 1, numImages: 40 });

describe('the reconciler', () => {
  const resources = new Resources();
  let db: Database;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    resources.add(() => redis.disconnect());
  });
  // A database of its own for every test: a reconciler takes every run of its database as one of its queue's.
  beforeEach(async () => {
    ({ db } = await freshDatabase('postgres', resources));
  });
  afterAll(() => resources.cleanup());

  /** The evaluate queue under `prefix`, obliterated after the test. */
  function evaluateQueue(prefix: string): EvaluateQueue {
    const queue = createEvaluateQueue(redisConnectionOptions(REDIS_URL, 'worker'), { prefix });
    resources.add(async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    });
    return queue;
  }

  function reconciler(queue: PretrainQueue, prefix: string, owner = 'test', silentRunMs = 60_000) {
    const { logger, entries } = capturingLogger();
    const instance = new Reconciler({
      db,
      redis,
      queue,
      evaluations: evaluateQueue(prefix),
      queuePrefix: prefix,
      owner,
      intervalMs: 500,
      silentRunMs,
      maxAttempts: pretrainJobOptions.attempts,
      logger,
    });
    resources.add(() => instance.stop());
    return { instance, entries };
  }

  it('runs 50 queued runs to success after the queue lost every job, without resubmission', async () => {
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const runs = [];
    for (let i = 0; i < 50; i += 1) runs.push(await submitRun(db, queue, tiny()));
    await loseQueueData(redis, prefix);
    expect(await queue.count()).toBe(0);

    const slots = [0, 1].map((index) => ({ index, device: 'cpu' }));
    await startTestWorker(
      resources,
      db,
      testConfig({
        artifactsDir: await tempDir(resources),
        queuePrefix: prefix,
        slots,
        reconcileIntervalMs: 500,
      }),
    );
    for (const run of runs) {
      const done = await waitForStatus(db, run.id, ['succeeded', 'failed', 'canceled'], 300_000);
      expect(done).toMatchObject({ status: 'succeeded', attempt: 1 });
    }
    expect((await reconcilerActions(redis, reconcilerActionsKey(prefix))).enqueued).toBe(50);
  }, 400_000);

  it('queues again a silent running run whose job is gone, and a worker resumes it', async () => {
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const run = await submitRun(db, queue, tiny());
    // A worker claimed it, then vanished together with the queue's data.
    await db.runs.claimRun(run.id, { workerHost: 'vanished', device: 'cpu' });
    await loseQueueData(redis, prefix);
    const { instance, entries } = reconciler(queue, prefix, 'test', 300);
    expect(await instance.runOnce()).toMatchObject({ requeued: 0 }); // not silent long enough yet
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await instance.runOnce()).toMatchObject({ requeued: 1, enqueued: 0 });
    expect(entries.some((entry) => entry.msg.startsWith('reconciler: a running run lost its job'))).toBe(
      true,
    );
    expect(await queue.getJobState(run.id)).toMatch(/waiting|prioritized/);

    await startTestWorker(
      resources,
      db,
      testConfig({ artifactsDir: await tempDir(resources), queuePrefix: prefix }),
    );
    expect(await waitForStatus(db, run.id, ['succeeded', 'failed'])).toMatchObject({
      status: 'succeeded',
      attempt: 2,
    });
  });

  it('fails such a run once its attempts are used up, and cancels a stopping one', async () => {
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const exhausted = await submitRun(db, queue, tiny());
    for (let i = 0; i < pretrainJobOptions.attempts; i += 1) {
      await db.runs.claimRun(exhausted.id, { workerHost: 'vanished', device: 'cpu' });
    }
    const stopping = await submitRun(db, queue, tiny());
    await db.runs.claimRun(stopping.id, { workerHost: 'vanished', device: 'cpu' });
    await db.runs.requestCancel(stopping.id);
    await loseQueueData(redis, prefix);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { instance } = reconciler(queue, prefix, 'test', 200);
    expect(await instance.runOnce()).toMatchObject({ abandoned: 1, canceled: 1, requeued: 0 });
    const failed = await db.runs.getRun(exhausted.id);
    expect(failed).toMatchObject({ status: 'failed', error: { kind: 'infrastructure' } });
    expect(failed?.error?.message).toMatch(
      /the queue lost this run's job .* during attempt 3 of 3; retry it/,
    );
    expect((await db.runs.getRun(stopping.id))?.status).toBe('canceled');
  });

  it('removes jobs whose run is gone or finished, and leaves the others', async () => {
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const kept = await submitRun(db, queue, tiny());
    const finished = await submitRun(db, queue, tiny());
    const claim = await db.runs.claimRun(finished.id, { workerHost: 'w', device: 'cpu' });
    await db.runs.finishRun(finished.id, claim!.token, { status: 'succeeded' });
    const ghost = `ghost-${randomUUID()}`;
    await enqueueRun(queue, { runId: ghost, specHash: 'f'.repeat(64) });
    const { instance } = reconciler(queue, prefix);
    expect(await instance.runOnce()).toMatchObject({ removed: 2, enqueued: 0 });
    expect(await queue.getJobState(ghost)).toBe('unknown');
    expect(await queue.getJobState(finished.id)).toBe('unknown');
    expect(await queue.getJobState(kept.id)).toMatch(/waiting|prioritized/);
  });

  it('gives a job again to evaluation requests whose job Redis lost: queued ones, and running ones once silent', async () => {
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const run = await submitRun(db, queue, tiny());
    const section = { every_epochs: 0, knn: { k: [5], temperature: 0.07 }, linear: null, semisup: null };
    const queued = await db.evaluationRequests.createRequest({
      runId: run.id,
      eval: section,
      checkpointStep: 6,
    });
    const running = await db.evaluationRequests.createRequest({
      runId: run.id,
      eval: section,
      checkpointStep: 6,
    });
    await db.evaluationRequests.claimRequest(running.id, { workerHost: 'vanished', device: 'cpu' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { instance, entries } = reconciler(queue, prefix, 'test', 200);
    expect(await instance.runOnce()).toMatchObject({ enqueued: 1, requeued: 1 });
    const evaluations = evaluateQueue(prefix);
    for (const request of [queued, running]) {
      expect((await evaluations.getJob(request.id))?.data).toEqual({ requestId: request.id, runId: run.id });
    }
    expect(
      entries.some((entry) => entry.msg.startsWith('reconciler: a running evaluation lost its job')),
    ).toBe(true);
    // Their jobs are live now: a second pass leaves them alone.
    expect(await instance.runOnce()).toMatchObject({ enqueued: 0, requeued: 0 });
  });

  it('lets one worker reconcile at a time, and another take over when it stops', async () => {
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const first = reconciler(queue, prefix, 'worker-a').instance;
    const second = reconciler(queue, prefix, 'worker-b').instance;
    expect(await first.runOnce()).not.toBeNull();
    expect(await second.runOnce()).toBeNull();
    expect(await first.runOnce()).not.toBeNull(); // the holder renews
    await first.stop();
    await waitFor('worker-b to take over', async () => (await second.runOnce()) !== null, 5_000);
  });
});
