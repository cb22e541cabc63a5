// Every dataset source through the service: the trainer's test writer puts a small dataset in each real on-disk
// format (an ImageNet-style JPEG tree, CIFAR-10 pickles, STL-10 binaries; the tree's train/ also serves as a
// single folder), a tiny run pretrains on it through REST and a worker and evaluates k-NN and the fast linear
// probe, and a later evaluation of its checkpoint runs the paper's linear protocol (and, for CIFAR-10, the
// semi-supervised fine-tuning). The run's record must say how many images each phase used.
import { execFileSync } from 'node:child_process';
import type { Database } from '@swavlab/db';
import { createEvaluateQueue, redisConnectionOptions } from '@swavlab/queue';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../apps/api/src/app.js';
import { loadConfig } from '../../apps/api/src/config.js';
import {
  freshDatabase,
  openQueue,
  PYTHON,
  REDIS_URL,
  Resources,
  startTestWorker,
  tempDir,
  testConfig,
  testPrefix,
  tinySpec,
  waitForEvaluation,
  waitForStatus,
} from './helpers.js';

const WRITER = new URL('../../packages/trainer/tests/dataset_files.py', import.meta.url).pathname;

interface SourceCase {
  data: Record<string, unknown>;
  /** What the run's record must say: images pretrained on, evaluated from (train) and on (test). */
  dataset: {
    source: string;
    classes: number;
    pretrain_images: number;
    eval_train_images: number;
    eval_test_images: number;
  };
  /** Extra sections of the later evaluation beside the paper's linear protocol. */
  later?: Record<string, unknown>;
  laterMetrics: string[];
}

// The sizes dataset_files.py writes: inet 3 classes × (12 train + 4 val); CIFAR-10 5 × 8 train + 12 test;
// STL-10 10 train, 10 test, 32 unlabeled.
const CASES: Record<string, SourceCase> = {
  imagefolder: {
    data: { source: 'imagefolder', path: 'inet' },
    dataset: {
      source: 'imagefolder',
      classes: 3,
      pretrain_images: 36,
      eval_train_images: 36,
      eval_test_images: 12,
    },
    laterMetrics: ['linear_top1', 'linear_top5'],
  },
  folder: {
    // A single folder keeps its split for evaluation, but pretrains on every image.
    data: { source: 'folder', path: 'inet/train', test_fraction: 0.25 },
    dataset: {
      source: 'folder',
      classes: 3,
      pretrain_images: 36,
      eval_train_images: 27,
      eval_test_images: 9,
    },
    laterMetrics: ['linear_top1', 'linear_top5'],
  },
  cifar10: {
    data: { source: 'cifar10', path: 'cifar' },
    dataset: {
      source: 'cifar10',
      classes: 10,
      pretrain_images: 40,
      eval_train_images: 40,
      eval_test_images: 12,
    },
    later: { semisup: { fraction: 0.1, epochs: 1, batch_size: 8 } },
    laterMetrics: ['linear_top1', 'linear_top5', 'semisup_top1', 'semisup_top5'],
  },
  stl10: {
    data: { source: 'stl10', path: 'stl' },
    dataset: {
      source: 'stl10',
      classes: 10,
      pretrain_images: 32,
      eval_train_images: 10,
      eval_test_images: 10,
    },
    laterMetrics: ['linear_top1', 'linear_top5'],
  },
};

describe('each dataset source, pretrained and evaluated through the service', () => {
  const resources = new Resources();
  let db: Database;
  let app: FastifyInstance;
  const previousRoots = process.env.SWAVLAB_DATA_ROOTS;

  beforeAll(async () => {
    const root = await tempDir(resources);
    execFileSync(PYTHON, [WRITER, root], { stdio: ['ignore', 'ignore', 'inherit'] });
    // The worker's trainer inherits this process's environment; the API is given the roots explicitly.
    process.env.SWAVLAB_DATA_ROOTS = root;
    resources.add(() => {
      if (previousRoots === undefined) delete process.env.SWAVLAB_DATA_ROOTS;
      else process.env.SWAVLAB_DATA_ROOTS = previousRoots;
    });
    ({ db } = await freshDatabase('postgres', resources));
    const prefix = testPrefix();
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
      config: {
        ...loadConfig({ SWAVLAB_DATA_ROOTS: root }),
        logLevel: 'silent',
        redisPrefix: prefix,
        rateLimitPerMinute: 0,
      },
    });
    resources.add(() => app.close());
    const artifactsDir = await tempDir(resources);
    await startTestWorker(resources, db, testConfig({ artifactsDir, queuePrefix: prefix }));
  });
  afterAll(() => resources.cleanup());

  it.each(Object.entries(CASES))(
    '%s',
    async (_name, source) => {
      const { spec } = tinySpec({
        epochs: 1,
        data: source.data,
        optim: { batch_size: 8 },
        eval: { knn: { k: [3] }, linear: { protocol: 'fast', epochs: 5 } },
      });
      const submitted = await app.inject({ method: 'POST', url: '/v1/runs', payload: spec });
      expect(submitted.statusCode, submitted.body).toBe(201);
      const runId = (submitted.json() as { id: string }).id;
      const run = await waitForStatus(db, runId, ['succeeded', 'failed', 'canceled']);
      expect(run.error).toBeNull();
      expect(run.status).toBe('succeeded');

      const view = (await app.inject({ method: 'GET', url: `/v1/runs/${runId}` })).json();
      expect(view.dataset).toMatchObject({ ...source.dataset, skipped: 0 });
      const steps = Math.floor(source.dataset.pretrain_images / 8);
      expect(view.final_metrics).toMatchObject({
        'knn_top1@3': expect.any(Number),
        linear_fast_top1: expect.any(Number),
        linear_fast_top5: expect.any(Number),
      });
      const atEnd = (await db.evaluations.listEvaluations(runId)).filter((e) => e.step === steps);
      expect(new Set(atEnd.map((e) => e.split))).toEqual(new Set(['test']));

      const requested = await app.inject({
        method: 'POST',
        url: `/v1/runs/${runId}/evaluations`,
        payload: {
          eval: { knn: null, linear: { protocol: 'paper', epochs: 2, batch_size: 8 }, ...source.later },
        },
      });
      expect(requested.statusCode, requested.body).toBe(202);
      const request = requested.json() as { id: string; checkpoint_step: number };
      expect(request.checkpoint_step).toBe(steps);
      const done = await waitForEvaluation(db, request.id, 90_000);
      expect(done.error).toBeNull();
      for (const metric of source.laterMetrics) {
        const value = done.results?.[metric];
        expect(value, metric).toBeGreaterThanOrEqual(0);
        expect(value, metric).toBeLessThanOrEqual(1);
      }
      const stored = await db.evaluations.listEvaluations(runId);
      expect(stored.filter((e) => e.step === steps).map((e) => e.name)).toEqual(
        expect.arrayContaining([...source.laterMetrics, 'knn_top1@3', 'linear_fast_top1']),
      );
    },
    180_000,
  );
});
