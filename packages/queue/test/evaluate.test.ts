// The evaluate queue: one job per evaluation request, its retry policy, and a finished job replaced on re-enqueue.
import {
  createEvaluateQueue,
  defaultWorkerOptions,
  EVALUATE_QUEUE_NAME,
  type EvaluateJob,
  enqueueEvaluation,
  redisConnectionOptions,
} from '@swavlab/queue';
import { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix();
const queue = createEvaluateQueue(redisConnectionOptions(REDIS_URL, 'producer'), { prefix });

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

describe('enqueueEvaluation', () => {
  it('queues a request once (job id = request id) with the retry policy of evaluations', async () => {
    expect(queue.name).toBe(EVALUATE_QUEUE_NAME);
    await enqueueEvaluation(queue, { requestId: 'eval-1', runId: 'run-1' });
    await enqueueEvaluation(queue, { requestId: 'eval-1', runId: 'run-1' });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    const job = await queue.getJob('eval-1');
    expect(job?.data).toEqual({ requestId: 'eval-1', runId: 'run-1' });
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 10_000 } });
  });

  it('replaces a finished job of the request, so that it runs again', async () => {
    const processed: string[] = [];
    const worker = new Worker<EvaluateJob>(
      EVALUATE_QUEUE_NAME,
      async (job) => {
        processed.push(job.data.requestId);
      },
      { ...defaultWorkerOptions, connection: redisConnectionOptions(REDIS_URL, 'worker'), prefix },
    );
    try {
      await enqueueEvaluation(queue, { requestId: 'eval-2', runId: 'run-1' });
      await expect.poll(async () => (await queue.getJob('eval-2'))?.getState()).toBe('completed');
      await enqueueEvaluation(queue, { requestId: 'eval-2', runId: 'run-1' });
      await expect.poll(() => processed.filter((id) => id === 'eval-2').length).toBe(2);
    } finally {
      await worker.close();
    }
  });

  it('refuses ids BullMQ cannot hold, naming the field', async () => {
    await expect(enqueueEvaluation(queue, { requestId: '123', runId: 'run-1' })).rejects.toThrow(
      /^requestId:/,
    );
    await expect(enqueueEvaluation(queue, { requestId: 'eval-3', runId: 'a:b' })).rejects.toThrow(/^runId:/);
  });
});
