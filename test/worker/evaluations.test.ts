// A later evaluation end to end: a tiny run through REST and a worker, its dataset counts on the run's record,
// then POST /v1/runs/{id}/evaluations with the paper's linear protocol, which the worker runs through the trainer's
// `evaluate` on the run's stored checkpoint; the result lands in the run's evaluations at the checkpoint's step.
// Then a worker process is SIGKILLed mid-evaluation: the job is re-delivered to another worker and evaluated again.
import type { Database } from '@swavlab/db';
import { createEvaluateQueue, redisConnectionOptions } from '@swavlab/queue';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../apps/api/src/app.js';
import { loadConfig } from '../../apps/api/src/config.js';
import type { WorkerHandle } from '../../apps/worker/src/main.js';
import {
  buildWorker,
  freshDatabase,
  openQueue,
  REDIS_URL,
  Resources,
  spawnWorker,
  startTestWorker,
  tempDir,
  testConfig,
  testPrefix,
  tinySpec,
  waitForEvaluation,
  waitForStatus,
} from './helpers.js';

describe('a later evaluation of a checkpoint, through REST, the worker and the trainer', () => {
  const resources = new Resources();
  let db: Database;
  let url: string;
  let prefix: string;
  let artifactsDir: string;
  let app: FastifyInstance;
  let worker: WorkerHandle;
  /** The run the first test trains; the second evaluates it again. */
  let runId: string;

  beforeAll(async () => {
    ({ db, url } = await freshDatabase('postgres', resources));
    prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const evaluations = createEvaluateQueue(redisConnectionOptions(REDIS_URL, 'worker'), { prefix });
    resources.add(async () => {
      await evaluations.obliterate({ force: true }).catch(() => undefined);
      await evaluations.close();
    });
    const redis = new Redis(REDIS_URL);
    resources.add(() => redis.disconnect());
    app = await buildApp({
      db,
      queue,
      redis,
      config: { ...loadConfig({}), logLevel: 'silent', redisPrefix: prefix, rateLimitPerMinute: 0 },
    });
    resources.add(() => app.close());
    artifactsDir = await tempDir(resources);
    ({ worker } = await startTestWorker(resources, db, testConfig({ artifactsDir, queuePrefix: prefix })));
  });
  afterAll(() => resources.cleanup());

  it("stores the dataset counts, then evaluates the run's checkpoint with the paper's linear protocol", async () => {
    const submitted = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: tinySpec({ epochs: 1 }).spec,
    });
    expect(submitted.statusCode, submitted.body).toBe(201);
    runId = (submitted.json() as { id: string }).id;
    const run = await waitForStatus(db, runId, ['succeeded', 'failed', 'canceled']);
    expect(run.error).toBeNull();

    // 128 synthetic images of 10 classes, 20% held out.
    const view = (await app.inject({ method: 'GET', url: `/v1/runs/${runId}` })).json();
    expect(view.dataset).toMatchObject({
      source: 'synthetic',
      classes: 10,
      pretrain_images: 102,
      eval_train_images: 102,
      eval_test_images: 26,
      skipped: 0,
    });

    const [checkpoint] = await db.checkpoints.listCheckpoints(runId);
    expect(checkpoint).toMatchObject({ epoch: 1, step: 6 });
    const requested = await app.inject({
      method: 'POST',
      url: `/v1/runs/${runId}/evaluations`,
      payload: { eval: { linear: { protocol: 'paper', epochs: 1 }, knn: null } },
    });
    expect(requested.statusCode, requested.body).toBe(202);
    const request = requested.json() as { id: string; checkpoint_step: number };
    expect(request.checkpoint_step).toBe(6);

    const done = await waitForEvaluation(db, request.id, 60_000);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', attempt: 1, device: 'cpu' });
    expect(done.results).toMatchObject({ linear_top1: expect.any(Number), linear_top5: expect.any(Number) });

    const stored = (await db.evaluations.listEvaluations(runId)).find((e) => e.name === 'linear_top1');
    expect(stored).toMatchObject({
      step: 6,
      epoch: 1,
      split: 'test',
      checkpointId: checkpoint?.id,
      value: done.results?.linear_top1,
    });
    const listed = (await app.inject({ method: 'GET', url: `/v1/runs/${runId}/evaluations` })).json();
    expect(listed.requests).toMatchObject([{ id: request.id, status: 'succeeded', checkpoint_step: 6 }]);
  });

  it('evaluates again on another worker when the worker holding the evaluation is SIGKILLed', async () => {
    await buildWorker();
    await worker.close();
    const home = await tempDir(resources);
    const doomed = spawnWorker(resources, {
      DATABASE_URL: url,
      SWAVLAB_HOME: home,
      SWAVLAB_ARTIFACTS: artifactsDir,
      SWAVLAB_QUEUE_PREFIX: prefix,
      SWAVLAB_LOCK_DURATION_MS: '4000',
      SWAVLAB_STALLED_INTERVAL_MS: '1000',
    });
    const requested = await app.inject({
      method: 'POST',
      url: `/v1/runs/${runId}/evaluations`,
      payload: { eval: { linear: { protocol: 'paper', epochs: 1 }, knn: null } },
    });
    expect(requested.statusCode, requested.body).toBe(202);
    const { id } = requested.json() as { id: string };
    await doomed.waitForLog((entry) => entry.msg === 'evaluation starts' && entry.requestId === id);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    expect(await db.evaluationRequests.getRequest(id)).toMatchObject({ status: 'running', attempt: 1 });

    // The job stays active until its lock expires; the new worker's stall check then takes it over.
    const { entries } = await startTestWorker(
      resources,
      db,
      testConfig({ artifactsDir, queuePrefix: prefix }),
    );
    const done = await waitForEvaluation(db, id, 60_000);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(entries.some((entry) => entry.msg === 'evaluation starts' && entry.attempt === 2)).toBe(true);
    const stored = (await db.evaluations.listEvaluations(runId)).find((e) => e.name === 'linear_top1');
    expect(stored).toMatchObject({ step: 6, value: done.results?.linear_top1 });
  }, 120_000);
});
