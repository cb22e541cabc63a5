// Two "hosts" on one machine: worker processes with their own SWAVLAB_HOME and scratch folders and no disk in
// common, sharing only PostgreSQL, Redis and S3-compatible storage (s3rver, from npm, on a local port). Worker A
// is killed mid-run; worker B downloads A's last uploaded checkpoint and finishes the run from there.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openArtifactStore } from '@swavlab/artifacts';
import { afterAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from '../shared/s3-server.js';
import {
  buildWorker,
  freshDatabase,
  loggedMetricSteps,
  metricSteps,
  openQueue,
  Resources,
  spawnWorker,
  submitRun,
  tempDir,
  testPrefix,
  tinySpec,
  waitFor,
  waitForStatus,
} from './helpers.js';

describe('two worker hosts sharing only S3-compatible storage', () => {
  const resources = new Resources();
  let s3: S3TestServer | undefined;
  afterAll(async () => {
    await resources.cleanup();
    await s3?.close();
  });

  it('resumes on host B from the checkpoint host A uploaded, without recomputing finished epochs', async () => {
    await buildWorker();
    s3 = await startS3Server();
    const { db, url } = await freshDatabase('postgres', resources);
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const run = await submitRun(
      db,
      queue,
      tinySpec({ epochs: 3, numImages: 512, checkpoint: { keep_last: 100 } }),
      3,
    );
    const [homeA, homeB] = [await tempDir(resources), await tempDir(resources)];
    const hostEnv = (home: string, name: string) => ({
      ...s3!.env,
      DATABASE_URL: url,
      SWAVLAB_HOME: home,
      SWAVLAB_QUEUE_PREFIX: prefix,
      SWAVLAB_WORKER_NAME: name,
      SWAVLAB_LOCK_DURATION_MS: '4000',
      SWAVLAB_STALLED_INTERVAL_MS: '1000',
      SWAVLAB_LOG_LEVEL: 'debug',
    });

    const hostA = spawnWorker(resources, hostEnv(homeA, 'host-a'));
    const uploaded = await waitFor(
      'the epoch-2 checkpoint to be uploaded and recorded',
      async () => (await db.checkpoints.listCheckpoints(run.id)).find((c) => c.epoch === 2),
      120_000,
      20,
    );
    expect(uploaded.path).toBe(`${run.id}/attempt-1/ckpt-e0002-s00000050.pt`);
    await hostA.waitForLog(
      (entry) =>
        entry.msg === 'trainer event' && ((entry.event as { step?: number }).step ?? 0) > uploaded.step,
    );
    hostA.child.kill('SIGKILL');
    await hostA.exited;

    const hostB = spawnWorker(resources, hostEnv(homeB, 'host-b'));
    const done = await waitForStatus(db, run.id, ['succeeded', 'failed'], 180_000);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, workerHost: 'host-b' });

    const started = await hostB.waitForLog((entry) => entry.msg === 'attempt starts');
    const latest = (await db.checkpoints.listCheckpoints(run.id)).filter((c) => c.attempt === 1).at(-1);
    expect(latest?.step).toBe(uploaded.step); // A was killed in epoch 3, before its next checkpoint
    expect(started).toMatchObject({
      resumeStep: uploaded.step,
      resumeFrom: join(homeB, 'scratch', run.id, 'attempt-1', 'ckpt-e0002-s00000050.pt'),
    });
    const trainedByB = loggedMetricSteps(hostB.entries());
    expect(Math.min(...trainedByB)).toBeGreaterThan(uploaded.step);
    const steps = await metricSteps(db, run.id);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(75);

    // Everything recorded is in the bucket; host B's local copies are gone once the run ended.
    const store = openArtifactStore(s3.env.SWAVLAB_ARTIFACTS ?? '', s3.env);
    const checkpoints = await db.checkpoints.listCheckpoints(run.id);
    expect(checkpoints.map((c) => [c.epoch, c.attempt])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    for (const checkpoint of checkpoints)
      expect(await store.stat(checkpoint.path)).toEqual({ bytes: checkpoint.bytes });
    const backbone = await db.artifacts.getArtifact(run.id, 'backbone');
    expect(await store.stat(backbone?.path ?? 'missing')).toEqual({ bytes: backbone?.bytes });
    expect(existsSync(join(homeB, 'scratch', run.id))).toBe(false);
  }, 300_000);
});
