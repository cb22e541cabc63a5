// Shutdown with a trainer that ignores the cooperative stop: the worker kills it when the bound is nearly
// spent, still hands the run back to the queue, and returns within the bound.
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '@swavlab/bridge';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freshDatabase,
  openQueue,
  Resources,
  startTestWorker,
  submitRun,
  tempDir,
  testConfig,
  testPrefix,
  tinySpec,
  waitFor,
} from './helpers.js';

describe('the shutdown bound', () => {
  const resources = new Resources();
  afterAll(() => resources.cleanup());

  it('kills a trainer that does not stop, requeues its run and returns within the bound', async () => {
    const { db } = await freshDatabase('postgres', resources);
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const config = testConfig({
      artifactsDir: await tempDir(resources),
      queuePrefix: prefix,
      trainerModule: 'hung_trainer',
      trainerPythonPath: [fileURLToPath(new URL('./fixtures/', import.meta.url))],
      shutdownTimeoutMs: 10_000,
      killGraceMs: 1_000,
    });
    const { worker, entries } = await startTestWorker(resources, db, config);
    const run = await submitRun(db, queue, tinySpec(), 3);
    await waitFor(
      'the hung trainer to report progress',
      async () => (await db.runs.getRun(run.id))?.progress.step === 1,
    );
    const pythonPid = worker.activeRuns()[0]?.pythonPid;
    expect(pythonPid).toBeDefined();

    const started = Date.now();
    await worker.close();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(10_000);
    // The cooperative phase lasted until the bound minus the kill grace and margin (10 − 1 − 3 s).
    expect(elapsed).toBeGreaterThanOrEqual(6_000);
    expect(entries).toContainEqual(expect.objectContaining({ msg: 'job did not stop in time; killing it' }));
    expect(isProcessAlive(pythonPid!)).toBe(false);

    expect(await db.runs.getRun(run.id)).toMatchObject({ status: 'queued', attempt: 1, error: null });
    const job = await queue.getJob(run.id);
    expect(['waiting', 'prioritized', 'delayed']).toContain(await job?.getState());
    expect(job?.attemptsMade).toBe(0);
  });
});
