// Submit-time refusal of runs that no live worker can hold, from what the workers announce in Redis.
import { randomBytes } from 'node:crypto';
import { announceWorker, WORKER_STALE_AFTER_MS, workersKey } from '@swavlab/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, type Harness, startHarness } from './harness.js';

describe('runs no live worker can hold', () => {
  let h: Harness;
  const queuePrefix = `test-capacity-${randomBytes(4).toString('hex')}`;
  const key = workersKey(queuePrefix);
  const spec = (runtime: Record<string, unknown>) => ({
    seed: Math.floor(Math.random() * 1e9),
    model: { arch: 'tiny' },
    runtime,
  });

  beforeAll(async () => {
    h = await startHarness({ backend: 'pglite', config: { queuePrefix } });
  });
  afterAll(async () => {
    await h?.redis.del(key);
    await h?.close();
  });

  it('accepts anything while no worker has announced itself', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: spec({ gpus: 8 }) });
    expect(response.statusCode, response.body).toBe(201);
  });

  it('refuses more ranks than the largest live worker has, naming the field and the workers', async () => {
    await announceWorker(h.redis, key, { name: 'cpu-box', slots: 2, gpus: 0 });
    await announceWorker(
      h.redis,
      key,
      { name: 'gone', slots: 64, gpus: 8 },
      { now: Date.now() - WORKER_STALE_AFTER_MS - 1 },
    );
    const tooMany = expectProblem(
      await h.app.inject({ method: 'POST', url: '/v1/runs', payload: spec({ processes: 4 }) }),
      422,
      'unschedulable',
    );
    expect(tooMany.errors).toEqual([
      {
        path: 'runtime.processes',
        message:
          'asks for 4 ranks but the most device slots a live worker has is 2 (cpu-box: 2 slots, no GPU)',
      },
    ]);
    const gpus = expectProblem(
      await h.app.inject({ method: 'POST', url: '/v1/runs', payload: spec({ gpus: 2 }) }),
      422,
    );
    expect(gpus.errors[0]?.path).toBe('runtime.gpus');
    const fits = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: spec({ processes: 2 }) });
    expect(fits.statusCode, fits.body).toBe(201);

    const grid = expectProblem(
      await h.app.inject({
        method: 'POST',
        url: '/v1/grids',
        payload: { base: spec({}), axes: { 'runtime.processes': [1, 4] } },
      }),
      422,
      'unschedulable',
    );
    expect(grid.errors.map((e) => e.path)).toEqual(['cells[1].runtime.processes']);
  });
});
