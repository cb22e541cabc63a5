// Metric points, checkpoints and evaluations: what an attempt records while it trains.
import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Database, StaleAttemptError } from '../src/index.js';
import { testBackends } from './backends.js';

const worker = { workerHost: 'host-a', device: 'cpu' };

describe.each(testBackends())('run records on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  async function runningRun() {
    const spec = { id: randomUUID() };
    const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
    const { run } = await db.runs.createRun({ spec, specHash: hash, seed: 1 });
    const claim = await db.runs.claimRun(run.id, worker);
    if (claim === null) throw new Error('a queued run must be claimable');
    return { id: run.id, token: claim.token };
  }

  it('appends metric batches idempotently and reads series back by step', async () => {
    const { id, token } = await runningRun();
    const batch = [3, 1, 2].map((step) => ({ name: 'loss', step, epoch: 0, value: 8 - step }));
    expect(await db.metrics.appendMetrics(id, token, batch)).toBe(3);
    expect(await db.metrics.appendMetrics(id, token, batch)).toBe(0);
    const overlapping = [
      { name: 'loss', step: 3, epoch: 0, value: 99 },
      { name: 'loss', step: 4, epoch: 1, value: 4 },
      { name: 'lr', step: 4, value: 0.5 },
    ];
    expect(await db.metrics.appendMetrics(id, token, overlapping)).toBe(2);
    expect(await db.metrics.appendMetrics(id, token, [])).toBe(0);

    const series = await db.metrics.metricSeries(id, 'loss');
    expect(series.map((p) => [p.step, p.epoch, p.value])).toEqual([
      [1, 0, 7],
      [2, 0, 6],
      [3, 0, 5],
      [4, 1, 4],
    ]);
    expect(series[0]?.time).toBeInstanceOf(Date);
    expect((await db.metrics.latestMetrics(id)).map((p) => [p.name, p.step, p.value])).toEqual([
      ['loss', 4, 4],
      ['lr', 4, 0.5],
    ]);
    // Values and times survive the trip exactly (full float64 precision, milliseconds in UTC).
    const time = new Date('2026-03-04T05:06:07.089Z');
    const precise = [0.1 + 0.2, 1e-300, -123456.789012345, Number.MAX_VALUE];
    await db.metrics.appendMetrics(
      id,
      token,
      precise.map((value, i) => ({ name: 'precise', step: i, value, time })),
    );
    const stored = await db.metrics.metricSeries(id, 'precise');
    expect(stored.map((p) => p.value)).toEqual(precise);
    expect(stored.map((p) => p.time.toISOString())).toEqual(precise.map(() => time.toISOString()));
    expect(stored.map((p) => p.epoch)).toEqual([null, null, null, null]);
  });

  it('stores non-finite values as NaN and rejects malformed points by index', async () => {
    const { id, token } = await runningRun();
    await db.metrics.appendMetrics(id, token, [
      { name: 'loss', step: 1, value: Number.NaN },
      { name: 'loss', step: 2, value: Number.POSITIVE_INFINITY },
    ]);
    expect((await db.metrics.metricSeries(id, 'loss')).map((p) => p.value)).toEqual([Number.NaN, Number.NaN]);
    await expect(
      db.metrics.appendMetrics(id, token, [
        { name: 'loss', step: 3, value: 1 },
        { name: 'loss', step: -4, value: 1 },
      ]),
    ).rejects.toThrow(/^points\[1\]\.step: must be between 0/);
    await expect(db.metrics.appendMetrics(id, token, [{ name: '', step: 3, value: 1 }])).rejects.toThrow(
      /^points\[0\]\.name: expected a non-empty string/,
    );
  });

  it('records checkpoints, overwriting a step saved again, with sizes beyond 32 bits', async () => {
    const { id, token } = await runningRun();
    const big = 5 * 2 ** 31;
    await db.checkpoints.addCheckpoint(id, token, {
      epoch: 0,
      step: 10,
      path: 'e0.pt',
      sha256: 'a'.repeat(64),
      bytes: big,
    });
    await db.checkpoints.addCheckpoint(id, token, {
      epoch: 1,
      step: 20,
      path: 'e1.pt',
      sha256: 'b'.repeat(64),
      bytes: 7,
    });
    const resaved = await db.checkpoints.addCheckpoint(id, token, {
      epoch: 1,
      step: 20,
      path: 'e1.pt',
      sha256: 'c'.repeat(64),
      bytes: 8,
    });
    expect(resaved).toMatchObject({ runId: id, step: 20, sha256: 'c'.repeat(64), bytes: 8, attempt: 1 });
    const list = await db.checkpoints.listCheckpoints(id);
    expect(list.map((c) => [c.step, c.bytes, c.sha256[0]])).toEqual([
      [10, big, 'a'],
      [20, 8, 'c'],
    ]);
    expect(await db.checkpoints.latestCheckpoint(id)).toEqual(list[1]);
    expect(await db.checkpoints.latestCheckpoint('no-such-run')).toBeNull();
    await expect(
      db.checkpoints.addCheckpoint(id, token, { epoch: 1, step: 30, path: 'x', sha256: 'XYZ', bytes: 1 }),
    ).rejects.toThrow(/^sha256: expected 64 lowercase hex characters/);
    await expect(
      db.checkpoints.addCheckpoint(id, token, {
        epoch: 1,
        step: 30,
        path: 'x',
        sha256: 'd'.repeat(64),
        bytes: -1,
      }),
    ).rejects.toThrow(/^bytes: expected a non-negative integer/);
  });

  it('prunes all but the newest checkpoints of a run and returns what it removed', async () => {
    const { id, token } = await runningRun();
    for (const step of [10, 20, 30, 40]) {
      await db.checkpoints.addCheckpoint(id, token, {
        epoch: step / 10,
        step,
        path: `run/attempt-1/s${step}.pt`,
        sha256: 'f'.repeat(64),
        bytes: step,
      });
    }
    const removed = await db.checkpoints.pruneCheckpoints(id, token, 2);
    expect(removed.map((c) => [c.step, c.path])).toEqual([
      [20, 'run/attempt-1/s20.pt'],
      [10, 'run/attempt-1/s10.pt'],
    ]);
    expect((await db.checkpoints.listCheckpoints(id)).map((c) => c.step)).toEqual([30, 40]);
    expect(await db.checkpoints.pruneCheckpoints(id, token, 2)).toEqual([]);
    expect((await db.checkpoints.getCheckpoint(id, 40))?.bytes).toBe(40);
    expect(await db.checkpoints.getCheckpoint(id, 10)).toBeNull();
    await expect(db.checkpoints.pruneCheckpoints(id, randomUUID(), 1)).rejects.toThrow(StaleAttemptError);
  });

  it('records one artifact per run and name, replacing it when exported again', async () => {
    const { id, token } = await runningRun();
    const backbone = { name: 'backbone', path: 'run/attempt-1/backbone.pt', sha256: '1'.repeat(64), step: 6 };
    await db.artifacts.recordArtifact(id, token, { ...backbone, bytes: 3 * 2 ** 31 });
    const again = await db.artifacts.recordArtifact(id, token, { ...backbone, bytes: 5, step: 12 });
    expect(again).toMatchObject({ runId: id, name: 'backbone', bytes: 5, step: 12 });
    expect(await db.artifacts.getArtifact(id, 'backbone')).toEqual(again);
    expect(await db.artifacts.getArtifact(id, 'other')).toBeNull();
    await expect(
      db.artifacts.recordArtifact(id, token, { ...backbone, sha256: 'nope', bytes: 1 }),
    ).rejects.toThrow(/^sha256: expected 64 lowercase hex characters/);
    await expect(db.artifacts.recordArtifact(id, randomUUID(), { ...backbone, bytes: 1 })).rejects.toThrow(
      StaleAttemptError,
    );
  });

  it('records an evaluation once per (name, split, step) and links it to its checkpoint', async () => {
    const { id, token } = await runningRun();
    const checkpoint = await db.checkpoints.addCheckpoint(id, token, {
      epoch: 4,
      step: 50,
      path: 'e4.pt',
      sha256: 'e'.repeat(64),
      bytes: 1,
    });
    const result = { name: 'knn_top1@20', split: 'val', epoch: 4, step: 50, checkpointId: checkpoint.id };
    const first = await db.evaluations.addEvaluation(id, token, { ...result, value: 0.61 });
    expect(first).toMatchObject({ created: true, evaluation: { value: 0.61, checkpointId: checkpoint.id } });
    const redelivered = await db.evaluations.addEvaluation(id, token, { ...result, value: 0.6 });
    expect(redelivered).toEqual({ created: false, evaluation: first.evaluation });
    await db.evaluations.addEvaluation(id, token, { ...result, name: 'linear_top1', value: 0.7 });
    expect((await db.evaluations.listEvaluations(id)).map((e) => [e.name, e.value])).toEqual([
      ['knn_top1@20', 0.61],
      ['linear_top1', 0.7],
    ]);

    // Deleting a checkpoint keeps its evaluations; deleting the run removes everything it recorded.
    await db.query`DELETE FROM checkpoints WHERE id = ${checkpoint.id}`;
    expect((await db.evaluations.listEvaluations(id))[0]?.checkpointId).toBeNull();
    await db.metrics.appendMetrics(id, token, [{ name: 'loss', step: 1, value: 1 }]);
    await db.query`DELETE FROM runs WHERE id = ${id}`;
    expect(await db.evaluations.listEvaluations(id)).toEqual([]);
    expect(await db.metrics.metricSeries(id, 'loss')).toEqual([]);
  });

  it('never keeps points written by an attempt racing the claim that supersedes it', async () => {
    for (let round = 0; round < 8; round++) {
      const { id, token } = await runningRun();
      const points = Array.from({ length: 50 }, (_, step) => ({ name: 'loss', step, value: step }));
      const [append, claim] = await Promise.allSettled([
        db.metrics.appendMetrics(id, token, points),
        db.runs.claimRun(id, worker),
      ]);
      expect(claim.status).toBe('fulfilled');
      if (append.status === 'rejected') expect(append.reason).toBeInstanceOf(StaleAttemptError);
      // Whether the batch landed before the claim (then the claim discarded it, there being no checkpoint) or
      // was refused after it, nothing of the superseded attempt survives.
      expect(await db.metrics.metricSeries(id, 'loss')).toEqual([]);
    }
  });
});
