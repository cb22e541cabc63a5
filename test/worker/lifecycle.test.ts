// One worker in the test process, on each database backend: a run through the whole lifecycle (claim, train,
// persist, finish), cancels through pub/sub and through the database flag, a Python crash followed by a good
// run on the same worker, a divergence, and the same run delivered twice.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '@swavlab/bridge';
import type { Database } from '@swavlab/db';
import { type PretrainQueue, publishCancel, redisConnectionOptions } from '@swavlab/queue';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerConfig } from '../../apps/worker/src/config.js';
import { COLLAPSE_WARNING_METRIC } from '../../apps/worker/src/event-sink.js';
import type { WorkerHandle } from '../../apps/worker/src/main.js';
import { RunJob } from '../../apps/worker/src/run-job.js';
import {
  type BackendKind,
  capturingLogger,
  freshDatabase,
  type LogEntry,
  metricSteps,
  openQueue,
  PYTHON,
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

const backends: BackendKind[] = ['pglite', 'postgres'];

describe.each(backends)('worker on %s', (kind) => {
  const resources = new Resources();
  let db: Database;
  let queue: PretrainQueue;
  let artifactsDir: string;
  let config: WorkerConfig;
  let worker: WorkerHandle;
  let entries: LogEntry[];
  let publisher: Redis;

  beforeAll(async () => {
    ({ db } = await freshDatabase(kind, resources));
    const prefix = testPrefix();
    queue = await openQueue(resources, prefix);
    artifactsDir = await tempDir(resources);
    config = testConfig({ artifactsDir, queuePrefix: prefix });
    ({ worker, entries } = await startTestWorker(resources, db, config));
    publisher = new Redis(redisConnectionOptions(REDIS_URL, 'worker'));
    resources.add(() => publisher.quit());
  });
  afterAll(() => resources.cleanup());

  /** Waits until the run's first steps are recorded, i.e. Python is training. */
  function waitForTraining(runId: string) {
    return waitFor(`run ${runId} to be training`, async () => {
      const run = await db.runs.getRun(runId);
      return (run?.progress.step ?? 0) > 0 ? run : undefined;
    });
  }

  it('runs a queued run to succeeded and stores its metrics, checkpoints and evaluations', async () => {
    const spec = tinySpec();
    const run = await submitRun(db, queue, spec);

    const done = await waitForStatus(db, run.id, ['succeeded', 'failed', 'canceled']);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(1);
    expect(done.device).toBe('cpu');
    // 128 images, 20% held out → 102 training images → 6 batches of 16 per epoch, 3 epochs.
    expect(done.progress).toMatchObject({ epoch: 3, step: 18, totalSteps: 18 });
    expect(done.finalMetrics).toMatchObject({ loss: expect.any(Number), 'knn_top1@5': expect.any(Number) });

    // keep_last 2: the epoch-1 checkpoint's row and file are gone, the two newest stay.
    const checkpoints = await db.checkpoints.listCheckpoints(run.id);
    expect(checkpoints.map((c) => [c.epoch, c.step, c.attempt])).toEqual([
      [2, 12, 1],
      [3, 18, 1],
    ]);
    const last = checkpoints.at(-1)!;
    expect(last.path).toBe(`${run.id}/attempt-1/ckpt-e0003-s00000018.pt`);
    expect(existsSync(join(artifactsDir, last.path))).toBe(true);
    expect(existsSync(join(artifactsDir, run.id, 'attempt-1', 'ckpt-e0001-s00000006.pt'))).toBe(false);
    // The exported backbone is recorded once stored, with the final step.
    const backbone = await db.artifacts.getArtifact(run.id, 'backbone');
    expect(backbone).toMatchObject({ path: `${run.id}/attempt-1/backbone.pt`, step: 18 });
    expect(existsSync(join(artifactsDir, backbone!.path))).toBe(true);

    // 6 steps an epoch log every step: every logged point is stored, however fast the run went.
    const steps = await metricSteps(db, run.id);
    expect(steps).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    const epochSeconds = await db.metrics.metricSeries(run.id, 'epoch_seconds');
    expect(epochSeconds.map((p) => p.step)).toEqual([6, 12, 18]);

    // The run's k-NN, and beside it the same backbone's at random init (the learning check's baseline).
    const evaluations = await db.evaluations.listEvaluations(run.id);
    expect(evaluations.map((e) => e.name).sort()).toEqual(['knn_top1@5', 'random_init_knn_top1@5']);
    for (const evaluation of evaluations) {
      expect(evaluation).toMatchObject({ split: 'test', step: 18, checkpointId: last.id });
    }

    expect(await (await queue.getJob(run.id))?.getState()).toBe('completed');
  });

  it('cancels a running run through Redis pub/sub: it checkpoints and ends canceled', async () => {
    const run = await submitRun(db, queue, tinySpec({ epochs: 100 }));
    await waitForTraining(run.id);
    const pythonPid = worker.activeRuns().find((active) => active.runId === run.id)?.pythonPid;
    expect(pythonPid).toBeDefined();

    // Only the broadcast: the database flag stays unset, so nothing but pub/sub can stop the run.
    expect(await publishCancel(publisher, run.id)).toBeGreaterThan(0);
    const done = await waitForStatus(db, run.id, ['canceled', 'failed', 'succeeded']);
    expect(done.status).toBe('canceled');
    expect(done.cancelRequested).toBe(false);
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: 'cancel requested', runId: run.id, via: 'pub/sub' }),
    );

    // The cooperative stop wrote a checkpoint where training stopped, well before the end.
    const last = (await db.checkpoints.listCheckpoints(run.id)).at(-1);
    expect(last?.step).toBe(done.progress.step);
    expect(last!.step).toBeLessThan(done.progress.totalSteps!);
    expect(isProcessAlive(pythonPid!)).toBe(false);
    expect(await (await queue.getJob(run.id))?.getState()).toBe('completed');
  });

  it('cancels a running run through the database flag alone', async () => {
    const run = await submitRun(db, queue, tinySpec({ epochs: 100 }));
    await waitForTraining(run.id);
    expect((await db.runs.requestCancel(run.id))?.status).toBe('stopping');

    const done = await waitForStatus(db, run.id, ['canceled', 'failed', 'succeeded']);
    expect(done.status).toBe('canceled');
    expect(done.error).toBeNull();
    const last = (await db.checkpoints.listCheckpoints(run.id)).at(-1);
    expect(last?.step).toBe(done.progress.step);
    expect(last!.step).toBeLessThan(done.progress.totalSteps!);
  });

  it('fails a run whose Python dies as crashed within 5 s, without retry, and keeps serving', async () => {
    const run = await submitRun(db, queue, tinySpec({ epochs: 100 }), 3);
    await waitForTraining(run.id);
    const pythonPid = worker.activeRuns().find((active) => active.runId === run.id)?.pythonPid;
    expect(pythonPid).toBeDefined();

    process.kill(pythonPid!, 'SIGSEGV');
    const killedAt = Date.now();
    const done = await waitForStatus(db, run.id, ['failed', 'canceled', 'succeeded'], 10_000);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(done.status).toBe('failed');
    expect(done.error?.kind).toBe('crashed');
    expect(done.error?.message).toContain('SIGSEGV');
    expect(done.attempt).toBe(1);
    // UnrecoverableError: failed at once although the job had attempts left.
    const job = await queue.getJob(run.id);
    await waitFor('the job to be failed', async () => (await job?.getState()) === 'failed', 10_000);
    expect(job?.opts.attempts).toBe(3);

    const next = await submitRun(db, queue, tinySpec({ epochs: 1 }));
    const nextDone = await waitForStatus(db, next.id, ['succeeded', 'failed', 'canceled']);
    expect(nextDone.status).toBe('succeeded');
  });

  it('fails a run whose loss becomes NaN as diverged, without retry', async () => {
    // No valid spec diverges within seconds (Sinkhorn stays finite for any ε), so a worker of its own runs the
    // real trainer with a loss that turns NaN at its third step.
    const prefix = testPrefix();
    const nanQueue = await openQueue(resources, prefix);
    await startTestWorker(resources, db, {
      ...config,
      queuePrefix: prefix,
      trainerModule: 'nan_loss_trainer',
      trainerPythonPath: [
        fileURLToPath(new URL('./fixtures/', import.meta.url)),
        ...config.trainerPythonPath,
      ],
    });
    const run = await submitRun(db, nanQueue, tinySpec(), 3);
    const done = await waitForStatus(db, run.id, ['failed', 'canceled', 'succeeded']);
    expect(done.status).toBe('failed');
    expect(done.error?.kind).toBe('diverged');
    expect(done.error?.message).toMatch(/non-finite/);
    expect(done.attempt).toBe(1);
    expect(await db.checkpoints.listCheckpoints(run.id)).toEqual([]);
    const job = await nanQueue.getJob(run.id);
    await waitFor('the job to be failed', async () => (await job?.getState()) === 'failed', 10_000);
  });

  it('keeps a collapse warning visible: as a metric point during the run and in the final metrics', async () => {
    // Plain SGD at lr 100 collapses the tiny model onto one or two prototypes within a few steps (with this seed
    // in the first epoch; CPU training with one thread is deterministic).
    const spec = tinySpec({ seed: 11, epochs: 1, optim: { optimizer: 'sgd', base_lr: 100 } });
    const run = await submitRun(db, queue, spec);
    const done = await waitForStatus(db, run.id, ['succeeded', 'failed', 'canceled']);
    expect(done.status).toBe('succeeded');
    const points = await db.metrics.metricSeries(run.id, COLLAPSE_WARNING_METRIC);
    expect(points).toHaveLength(1);
    expect(points[0]?.value).toBe(1);
    expect(done.finalMetrics?.warnings).toEqual([
      {
        type: 'collapse',
        epoch: 1,
        step: points[0]?.step,
        message: expect.stringContaining('collapsed'),
        advice: expect.arrayContaining([expect.stringContaining('swav.freeze_prototypes_iters')]),
      },
    ]);
  });

  it('keeps only the newest attempt when the same run is delivered twice', async () => {
    const spec = tinySpec({ epochs: 8 });
    const { run } = await db.runs.createRun({ spec: spec.spec, specHash: spec.specHash, seed: spec.seed });
    const { logger, entries: log } = capturingLogger();
    const deps = { db, logger, pythonBin: PYTHON, config };
    const devices = { device: 'cpu', env: { CUDA_VISIBLE_DEVICES: '' } };
    const request = { runId: run.id, specHash: spec.specHash, devices, finalDelivery: false };

    const first = new RunJob(deps, request);
    await waitFor('the first attempt to checkpoint', async () => {
      return (await db.checkpoints.listCheckpoints(run.id)).length > 0;
    });
    const firstPython = first.pythonPid;
    // A second delivery (e.g. after a lost lock) while the first attempt is still training.
    const second = new RunJob(deps, request);
    const [firstOutcome, secondOutcome] = await Promise.all([first.done, second.done]);

    expect(firstOutcome.kind).toBe('superseded');
    expect(secondOutcome).toEqual({ kind: 'finished', status: 'succeeded' });
    expect(isProcessAlive(firstPython!)).toBe(false);

    const done = await db.runs.getRun(run.id);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, error: null });
    const started = log.find((entry) => entry.msg === 'attempt starts' && entry.attempt === 2);
    const resumeStep = started?.resumeStep as number;
    expect(resumeStep).toBeGreaterThan(0);

    // After the second claim, only the second attempt's writes exist.
    const checkpoints = await db.checkpoints.listCheckpoints(run.id);
    for (const checkpoint of checkpoints) {
      expect([checkpoint.step, checkpoint.attempt]).toEqual([
        checkpoint.step,
        checkpoint.step > resumeStep ? 2 : 1,
      ]);
    }
    expect(checkpoints.at(-1)?.step).toBe(48);
    const points = await db.metrics.metricSeries(run.id, 'loss');
    const steps = points.map((point) => point.step);
    expect(new Set(steps).size).toBe(steps.length);
    for (const point of points.filter((p) => p.step > resumeStep)) {
      expect(point.time.getTime()).toBeGreaterThanOrEqual(done!.startedAt!.getTime());
    }
    expect(steps.at(-1)).toBe(48);
  });
});
