// Worker processes (apps/worker/dist/bin.js) on PostgreSQL — the embedded PGlite serves one process only — killed
// with SIGKILL or stopped with SIGTERM in the middle of a run; a second worker must finish the run from the
// latest checkpoint without recomputing what was checkpointed.
import { join } from 'node:path';
import type { Database } from '@swavlab/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWorker,
  freshDatabase,
  type LogEntry,
  loggedMetricSteps,
  metricSteps,
  openQueue,
  Resources,
  spawnWorker,
  startTestWorker,
  submitRun,
  tempDir,
  testConfig,
  testPrefix,
  tinySpec,
  type WorkerProcess,
  waitFor,
  waitForStatus,
} from './helpers.js';

/** True while some process of the group led by `pgid` exists. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A worker's debug log line for a checkpoint event of the trainer after `epoch` epochs. */
function isCheckpointEvent(entry: LogEntry, epoch: number): boolean {
  const event = entry.event as { type?: string; epoch?: number } | undefined;
  return entry.msg === 'trainer event' && event?.type === 'checkpoint' && event.epoch === epoch;
}

describe('worker processes on postgres', () => {
  const resources = new Resources();
  let db: Database;
  let url: string;
  let artifactsDir: string;
  let home: string;

  beforeAll(async () => {
    await buildWorker();
    ({ db, url } = await freshDatabase('postgres', resources));
    artifactsDir = await tempDir(resources);
    home = await tempDir(resources);
  }, 180_000);
  afterAll(() => resources.cleanup());

  /**
   * A queue of its own (no other test's worker may take its job) holding a run of 3 epochs of 25 steps (512
   * images, 410 for training), long enough to be caught mid-epoch; and the environment of its worker processes.
   */
  async function threeEpochRun() {
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const run = await submitRun(
      db,
      queue,
      tinySpec({ epochs: 3, numImages: 512, checkpoint: { keep_last: 100 } }),
      3,
    );
    const env = {
      DATABASE_URL: url,
      SWAVLAB_HOME: home,
      SWAVLAB_ARTIFACTS: artifactsDir,
      SWAVLAB_QUEUE_PREFIX: prefix,
      SWAVLAB_LOCK_DURATION_MS: '4000',
      SWAVLAB_STALLED_INTERVAL_MS: '1000',
    };
    return { run, queue, prefix, env };
  }

  /**
   * Waits for the worker process to receive the trainer's checkpoint after `epoch` epochs and for its row to be
   * stored; the trainer has then just started the next epoch (the log reacts in milliseconds, so this holds
   * however fast the machine trains).
   */
  async function nextEpochStarted(worker: WorkerProcess, runId: string, epoch: number) {
    await worker.waitForLog((entry) => isCheckpointEvent(entry, epoch));
    return waitFor(
      `the epoch-${epoch} checkpoint row`,
      async () => (await db.checkpoints.listCheckpoints(runId)).find((c) => c.epoch === epoch),
      30_000,
      10,
    );
  }

  it('resumes a run from its latest checkpoint after its worker is SIGKILLed in epoch 3', async () => {
    const { run, prefix, env } = await threeEpochRun();
    const first = spawnWorker(resources, { ...env, SWAVLAB_LOG_LEVEL: 'debug' });
    const checkpoint = await nextEpochStarted(first, run.id, 2);
    // Some steps of epoch 3 done (events are coalesced to ~10/s, so the first one arrives within ~0.1 s).
    await first.waitForLog(
      (entry) =>
        entry.msg === 'trainer event' && ((entry.event as { step?: number }).step ?? 0) > checkpoint.step,
    );
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    // Killed in epoch 3: its checkpoint never came.
    await expect(first.waitForLog((entry) => isCheckpointEvent(entry, 3), 0)).rejects.toThrow();
    const stepsBeforeKill = await metricSteps(db, run.id);
    const trainedTo = Math.max(
      ...first
        .entries()
        .filter((entry) => entry.msg === 'trainer event')
        .map((entry) => (entry.event as { step?: number }).step ?? 0),
    );
    const runnerPid = (await first.waitForLog((entry) => entry.msg === 'trainer started'))
      .runnerPid as number;
    expect(runnerPid).toBeGreaterThan(0);
    // The orphaned runner stops Python when its parent's IPC channel closes.
    await waitFor('the killed worker’s trainer processes to exit', () => !groupExists(runnerPid), 15_000);

    // The job stays active until its lock expires; the second worker's stall check then takes it over.
    const { entries } = await startTestWorker(
      resources,
      db,
      testConfig({ artifactsDir, queuePrefix: prefix }),
    );
    const done = await waitForStatus(db, run.id, ['succeeded', 'failed', 'canceled'], 120_000);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, progress: { step: 75, totalSteps: 75 } });

    const started = entries.find((entry) => entry.msg === 'attempt starts' && entry.attempt === 2);
    expect(started).toMatchObject({
      resumeStep: checkpoint.step,
      resumeFrom: join(artifactsDir, checkpoint.path),
    });
    expect(checkpoint.path).toContain(join(run.id, 'attempt-1'));
    // Steps the second attempt trained: none at or before the checkpoint.
    const resumedSteps = loggedMetricSteps(entries);
    expect(resumedSteps.length).toBeGreaterThan(0);
    expect(Math.min(...resumedSteps)).toBeGreaterThan(checkpoint.step);

    const checkpoints = await db.checkpoints.listCheckpoints(run.id);
    expect(checkpoints.map((c) => [c.epoch, c.step, c.attempt])).toEqual([
      [1, 25, 1],
      [2, 50, 1],
      [3, 75, 2],
    ]);
    const points = await db.metrics.metricSeries(run.id, 'loss');
    const steps = points.map((point) => point.step);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(75);
    // Up to the checkpoint, the series is the first attempt's (written before the kill); after it, the second's.
    for (const point of points) {
      if (point.step <= checkpoint.step) expect(point.time.getTime()).toBeLessThan(killedAt);
      else expect(point.time.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    }
    console.info(
      `SIGKILL scenario: checkpoint at step ${checkpoint.step}; attempt 1 killed at step ${trainedTo}, had stored loss steps ` +
        `[${stepsBeforeKill.join(',')}] when killed; attempt 2 emitted [${[...new Set(resumedSteps)].join(',')}]; ` +
        `stored series [${steps.join(',')}]`,
    );
  });

  it('hands a run back to the queue on SIGTERM within the bound; another worker finishes it', async () => {
    const { run, queue, prefix, env } = await threeEpochRun();
    const first = spawnWorker(resources, {
      ...env,
      SWAVLAB_SHUTDOWN_TIMEOUT_MS: '30000',
      SWAVLAB_LOG_LEVEL: 'debug',
    });
    const epochOne = await nextEpochStarted(first, run.id, 1);
    first.child.kill('SIGTERM');
    const signalledAt = Date.now();
    const exit = await first.exited;
    const shutdownMs = Date.now() - signalledAt;
    expect(exit, first.output()).toEqual({ code: 0, signal: null });
    expect(shutdownMs).toBeLessThan(30_000);

    const queued = await db.runs.getRun(run.id);
    expect(queued, first.output()).toMatchObject({ status: 'queued', attempt: 1, error: null });
    // The cooperative stop wrote a checkpoint where training stopped, in epoch 2.
    const stopCheckpoint = (await db.checkpoints.listCheckpoints(run.id)).at(-1)!;
    expect(stopCheckpoint.step).toBe(queued!.progress.step);
    expect(stopCheckpoint.step).toBeGreaterThan(epochOne.step);
    expect(stopCheckpoint.step).toBeLessThan(50);
    const job = await queue.getJob(run.id);
    expect(['waiting', 'prioritized', 'delayed']).toContain(await job?.getState());
    expect(job?.attemptsMade).toBe(0);

    const { entries } = await startTestWorker(
      resources,
      db,
      testConfig({ artifactsDir, queuePrefix: prefix }),
    );
    const done = await waitForStatus(db, run.id, ['succeeded', 'failed', 'canceled'], 120_000);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, error: null, progress: { step: 75 } });
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: 'attempt starts', attempt: 2, resumeStep: stopCheckpoint.step }),
    );
    const steps = await metricSteps(db, run.id);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(await (await queue.getJob(run.id))?.getState()).toBe('completed');
  });
});
