// A job that stalled more often than allowed is failed by the queue itself, on the next worker that fetches it,
// without the processor ever running: the worker must still end the run, or it would stay `running` forever.
// The test leaves a job in the state BullMQ's stalled check leaves it in (a deferred failure on the job hash,
// back in the wait list) after a simulated lost attempt, then starts a worker.
import type { Database } from '@swavlab/db';
import { type PretrainQueue, redisConnectionOptions } from '@swavlab/queue';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

// BullMQ's own wording, written by its stalled-jobs script.
const STALLED_LIMIT = 'job stalled more than allowable limit';

describe('a run whose job the queue gave up on', () => {
  const resources = new Resources();
  let db: Database;
  let queue: PretrainQueue;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    ({ db } = await freshDatabase('pglite', resources));
    prefix = testPrefix();
    queue = await openQueue(resources, prefix);
    redis = new Redis(redisConnectionOptions(REDIS_URL, 'worker'));
    resources.add(() => redis.quit());
  });
  afterAll(() => resources.cleanup());

  /** A run claimed by an attempt that was then lost, whose job carries the stalled-limit failure. */
  async function abandonedRun(cancelRequested: boolean) {
    const run = await submitRun(db, queue, tinySpec());
    const claimed = await db.runs.claimRun(run.id, { workerHost: 'lost-host', device: 'cpu' });
    expect(claimed?.run.status).toBe('running');
    if (cancelRequested) expect((await db.runs.requestCancel(run.id))?.status).toBe('stopping');
    await redis.hset(`${prefix}:pretrain:${run.id}`, 'defa', STALLED_LIMIT);
    return run;
  }

  it('ends it failed (infrastructure) with a message that says why and what to do, or canceled if asked', async () => {
    const lost = await abandonedRun(false);
    const stopping = await abandonedRun(true);
    const config = testConfig({ artifactsDir: await tempDir(resources), queuePrefix: prefix });
    const { entries } = await startTestWorker(resources, db, config);

    const failed = await waitForStatus(db, lost.id, ['failed', 'succeeded', 'canceled'], 30_000);
    expect(failed.status).toBe('failed');
    expect(failed.error?.kind).toBe('infrastructure');
    expect(failed.error?.message).toContain(STALLED_LIMIT);
    expect(failed.error?.message).toContain('retry it');
    expect(failed.finishedAt).not.toBeNull();

    const canceled = await waitForStatus(db, stopping.id, ['failed', 'succeeded', 'canceled'], 30_000);
    expect(canceled.status).toBe('canceled');

    // The processor never ran: no Python started, no attempt beyond the lost one.
    expect(failed.attempt).toBe(1);
    expect(await (await queue.getJob(lost.id))?.getState()).toBe('failed');
    await waitFor('the abandonment to be logged', () =>
      entries.some((entry) => entry.msg === 'run abandoned by the queue' && entry.runId === lost.id),
    );
  });

  it('leaves a run that already ended as it is', async () => {
    const spec = tinySpec();
    const { run } = await db.runs.createRun({ spec: spec.spec, specHash: spec.specHash, seed: spec.seed });
    const claimed = await db.runs.claimRun(run.id, { workerHost: 'host', device: 'cpu' });
    if (claimed === null) throw new Error('claim failed');
    await db.runs.finishRun(run.id, claimed.token, { status: 'succeeded' });
    expect(await db.runs.abandonRun(run.id, STALLED_LIMIT)).toBeNull();
    expect((await db.runs.getRun(run.id))?.status).toBe('succeeded');
  });
});
