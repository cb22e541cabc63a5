// A Redis of the test's own (AOF on, as docs/queue.md asks of production) restarted while a run trains: the worker
// rides out the outage and the run still ends succeeded, once, with a complete metric series.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BackendKind,
  freshDatabase,
  metricSteps,
  openQueue,
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** `redis-server` on `port` with its AOF in `dir`; resolves once it answers PING. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec'],
    { cwd: dir, stdio: 'ignore' },
  );
  child.on('error', () => undefined);
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    await waitFor(`redis-server on port ${port}`, async () => {
      try {
        if (probe.status !== 'ready') await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      }
    });
  } finally {
    probe.disconnect();
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const backends: BackendKind[] = ['pglite', 'postgres'];

describe.each(backends)('a Redis restart during a run, on %s', (kind) => {
  const resources = new Resources();
  afterEach(() => resources.cleanup());

  it('ends the run succeeded once, with every step stored once', async () => {
    const port = await freePort();
    const redisDir = await tempDir(resources, 'swavlab-redis-');
    const redisUrl = `redis://127.0.0.1:${port}`;
    let redis = await startRedis(port, redisDir);
    resources.add(() => stopRedis(redis));

    const { db } = await freshDatabase(kind, resources);
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix, redisUrl);
    const config = testConfig({ artifactsDir: await tempDir(resources), queuePrefix: prefix, redisUrl });
    const { entries } = await startTestWorker(resources, db, config);
    // 10 epochs of 12 steps: the outage falls in the middle of training, however fast the machine is.
    const run = await submitRun(
      db,
      queue,
      tinySpec({ epochs: 10, numImages: 256, checkpoint: { keep_last: 100 } }),
      3,
    );
    await waitFor('training to start', async () => ((await db.runs.getRun(run.id))?.progress.step ?? 0) > 0);

    await stopRedis(redis);
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    redis = await startRedis(port, redisDir);

    const done = await waitForStatus(db, run.id, ['succeeded', 'failed', 'canceled'], 120_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ step: 120, totalSteps: 120 });
    expect(done.finishedAt!.getTime()).toBeGreaterThan(stoppedAt);
    const job = await queue.getJob(run.id);
    await waitFor('the job to complete', async () => (await job?.getState()) === 'completed', 60_000);
    // A lock lost in the outage may re-deliver the job: the run is then claimed no more (it is finished).
    const attempts = entries.filter((entry) => entry.msg === 'attempt starts').length;
    expect(done.attempt).toBe(attempts);
    const steps = await metricSteps(db, run.id);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(120);
    const checkpoints = await db.checkpoints.listCheckpoints(run.id);
    expect(checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
