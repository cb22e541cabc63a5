// The small lookups the API and the worker used to write as SQL of their own: readiness, run counts by status,
// runs by spec hash, whether tokens exist, and the metric points after a stream's cursor.
import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Database, RUN_STATUSES } from '../src/index.js';
import { testBackends } from './backends.js';

function input(seed: number) {
  const spec = { marker: randomUUID(), seed };
  return { spec, specHash: createHash('sha256').update(JSON.stringify(spec)).digest('hex'), seed };
}

describe.each(testBackends())('lookups on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  it('answers a ping, and refuses it once closed', async () => {
    await expect(db.ping()).resolves.toBeUndefined();
    const { db: other } = await backend.fresh();
    await other.close();
    await expect(other.ping()).rejects.toThrow();
  });

  it('counts runs by status, every status present', async () => {
    const before = await db.runs.countByStatus();
    expect(Object.keys(before).sort()).toEqual([...RUN_STATUSES].sort());
    const { run } = await db.runs.createRun(input(1));
    await db.runs.createRun(input(2));
    await db.runs.claimRun(run.id, { workerHost: 'h', device: 'cpu' });
    const after = await db.runs.countByStatus();
    expect(after.queued - before.queued).toBe(1);
    expect(after.running - before.running).toBe(1);
    expect(after.succeeded).toBe(before.succeeded);
  });

  it('finds runs by spec hash, more than one lookup batch', async () => {
    const created = await Promise.all([3, 4].map(async (seed) => (await db.runs.createRun(input(seed))).run));
    const missing = Array.from({ length: 1500 }, (_, i) =>
      createHash('sha256').update(`none ${i}`).digest('hex'),
    );
    const found = await db.runs.idsBySpecHash([...missing, ...created.map((run) => run.specHash)]);
    expect(found).toEqual(new Map(created.map((run) => [run.specHash, run.id])));
    expect(await db.runs.idsBySpecHash([])).toEqual(new Map());
  });

  it('tells whether tokens were ever created and whether one is active', async () => {
    const { db: empty } = await backend.fresh();
    expect(await empty.tokens.anyTokens({ active: false })).toBe(false);
    const { apiToken } = await empty.tokens.createApiToken('ci', ['read']);
    expect(await empty.tokens.anyTokens({ active: true })).toBe(true);
    await empty.tokens.revokeApiToken(apiToken.id);
    expect(await empty.tokens.anyTokens({ active: true })).toBe(false);
    expect(await empty.tokens.anyTokens({ active: false })).toBe(true);
  });

  it('lists the points after a cursor in (step, name) order, at most the limit', async () => {
    const { run } = await db.runs.createRun(input(5));
    const claim = await db.runs.claimRun(run.id, { workerHost: 'h', device: 'cpu' });
    if (claim === null) throw new Error('not claimed');
    await db.metrics.appendMetrics(run.id, claim.token, [
      { name: 'loss', step: 1, value: 3 },
      { name: 'lr', step: 1, value: 0.1 },
      { name: 'loss', step: 2, value: 2 },
      { name: 'lr', step: 2, value: 0.2 },
      { name: 'loss', step: 3, value: Number.NaN },
    ]);
    const after = async (cursor: Record<string, number>, limit = 100) =>
      (await db.metrics.pointsAfter(run.id, cursor, limit)).map((p) => `${p.name}@${p.step}`);
    expect(await after({})).toEqual(['loss@1', 'lr@1', 'loss@2', 'lr@2', 'loss@3']);
    expect(await after({ loss: 2, lr: -1 })).toEqual(['lr@1', 'lr@2', 'loss@3']);
    expect(await after({}, 2)).toEqual(['loss@1', 'lr@1']);
    const [point] = await db.metrics.pointsAfter(run.id, { lr: 9 }, 100).then((points) => points.slice(-1));
    expect(point).toMatchObject({ runId: run.id, name: 'loss', step: 3, epoch: null });
    expect(point?.value).toBeNaN();
    expect(point?.time).toBeInstanceOf(Date);
  });
});
