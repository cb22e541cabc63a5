import {
  DEFAULT_PRIORITY,
  defaultWorkerOptions,
  enqueueRun,
  type PretrainJob,
  queueDepth,
  redisConnectionOptions,
} from '@swavlab/queue';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { dropQueue, openQueue, REDIS_URL, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix();
const queue = openQueue(prefix);
const workers: Worker[] = [];

function startWorker(processor: (job: Job<PretrainJob>) => Promise<void>): Worker<PretrainJob> {
  const worker = new Worker<PretrainJob>(queue.name, processor, {
    ...defaultWorkerOptions,
    connection: redisConnectionOptions(REDIS_URL, 'worker'),
    prefix,
    concurrency: 1,
  });
  workers.push(worker);
  return worker;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close()));
  await queue.obliterate({ force: true });
});
afterAll(() => dropQueue(queue));

describe('enqueueRun', () => {
  it('queues a run once: the job id is the run id', async () => {
    expect(await enqueueRun(queue, { runId: 'run-1', specHash: 'abc' })).toEqual({
      jobId: 'run-1',
      deduplicated: false,
    });
    expect(await enqueueRun(queue, { runId: 'run-1', specHash: 'abc' })).toEqual({
      jobId: 'run-1',
      deduplicated: true,
    });
    expect((await queueDepth(queue)).waiting).toBe(1);
    const job = await queue.getJob('run-1');
    expect(job?.data).toEqual({ runId: 'run-1', specHash: 'abc' });
  });

  it('gives every job a priority (default 100) and the retry policy', async () => {
    await enqueueRun(queue, { runId: 'run-2', specHash: 'abc' });
    await enqueueRun(queue, { runId: 'run-3', specHash: 'def', priority: 7, attempts: 1 });
    const [defaulted, explicit] = await Promise.all([queue.getJob('run-2'), queue.getJob('run-3')]);
    expect(defaulted?.opts).toMatchObject({
      priority: DEFAULT_PRIORITY,
      attempts: 3,
      backoff: { type: 'exponential', delay: 30_000 },
      removeOnComplete: { count: 10_000 },
      removeOnFail: { count: 10_000 },
    });
    expect(explicit?.opts).toMatchObject({ priority: 7, attempts: 1 });
    // Prioritized jobs live in their own BullMQ state; the depth counts them as waiting.
    expect(await queue.getJobCounts('prioritized', 'waiting')).toEqual({ prioritized: 2, waiting: 0 });
    expect(await queueDepth(queue)).toEqual({ waiting: 2, active: 0, delayed: 0, failed: 0, completed: 0 });
  });

  it('hands runs to a worker by priority, lower first, and in submission order within one', async () => {
    for (const [runId, priority] of [
      ['late', 300],
      ['first', 10],
      ['middle', 100],
      ['middle-2', 100],
    ] as const) {
      await enqueueRun(queue, { runId, specHash: 'h', priority });
    }
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      startWorker(async (job) => {
        order.push(job.data.runId);
        if (order.length === 4) resolve();
      });
    });
    await done;
    expect(order).toEqual(['first', 'middle', 'middle-2', 'late']);
  });

  it('re-enqueues a run whose job failed (a retry), instead of deduplicating it', async () => {
    await enqueueRun(queue, { runId: 'run-f', specHash: 'h', attempts: 1 });
    const failed = new Promise<void>((resolve) => {
      const worker = startWorker(async () => {
        throw new UnrecoverableError('invalid spec');
      });
      worker.on('failed', () => resolve());
    });
    await failed;
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    expect(await (await queue.getJob('run-f'))?.getState()).toBe('failed');
    expect(await enqueueRun(queue, { runId: 'run-f', specHash: 'h' })).toEqual({
      jobId: 'run-f',
      deduplicated: false,
    });
    expect(await (await queue.getJob('run-f'))?.getState()).toBe('prioritized');
  });

  it('rejects bad requests before touching Redis, naming the field', async () => {
    await expect(enqueueRun(queue, { runId: 'r', specHash: 'h', priority: 0 })).rejects.toThrow(
      'priority: expected an integer from 1 to 2097152, got 0',
    );
    await expect(enqueueRun(queue, { runId: 'r', specHash: 'h', priority: 1.5 })).rejects.toThrow(
      /^priority:/,
    );
    await expect(enqueueRun(queue, { runId: '42', specHash: 'h' })).rejects.toThrow(
      /^runId: expected an id that is not all digits/,
    );
    await expect(enqueueRun(queue, { runId: 'a:b', specHash: 'h' })).rejects.toThrow(/^runId:/);
    await expect(enqueueRun(queue, { runId: 'r', specHash: '' })).rejects.toThrow(
      'specHash: expected a non-empty string',
    );
    await expect(enqueueRun(queue, { runId: 'r', specHash: 'h', attempts: 0 })).rejects.toThrow(/^attempts:/);
    expect((await queueDepth(queue)).waiting).toBe(0);
  });
});

describe('defaultWorkerOptions', () => {
  it('keep locks of minutes, renewed well before they expire, and allow one stall', () => {
    const { lockDuration, lockRenewTime, maxStalledCount, stalledInterval } = defaultWorkerOptions;
    expect(lockDuration).toBeGreaterThanOrEqual(120_000);
    expect(lockDuration).toBeLessThanOrEqual(300_000);
    expect(lockRenewTime).toBeLessThanOrEqual(lockDuration / 2);
    expect(maxStalledCount).toBe(1);
    expect(stalledInterval).toBeLessThanOrEqual(lockDuration);
  });

  it('are accepted by a real worker on a worker connection, which holds its job lock for lockDuration', async () => {
    const complaints = vi.spyOn(console, 'error');
    const warnings = vi.spyOn(console, 'warn');
    await enqueueRun(queue, { runId: 'run-w', specHash: 'h' });
    const inspector = new Redis(redisConnectionOptions(REDIS_URL, 'worker'));
    const lockTtl = new Promise<number>((resolve, reject) => {
      startWorker(async (job) => {
        // Read while the job is still being processed, i.e. while the worker holds its lock.
        await inspector.pttl(`${prefix}:${queue.name}:${job.id}:lock`).then(resolve, reject);
      });
    });
    const ttl = await lockTtl.finally(() => inspector.disconnect());
    expect(ttl).toBeGreaterThan(defaultWorkerOptions.lockDuration - 10_000);
    expect(ttl).toBeLessThanOrEqual(defaultWorkerOptions.lockDuration);
    expect(complaints).not.toHaveBeenCalled();
    expect(warnings).not.toHaveBeenCalled();
    complaints.mockRestore();
    warnings.mockRestore();
  });
});
