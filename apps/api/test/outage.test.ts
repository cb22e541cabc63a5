// Dependencies going away: Redis down → 503 problems (and a resubmission heals a run whose enqueue failed);
// database down → readiness 503 and 500 problems that leak nothing but a request id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinySpec } from './fixtures.js';
import { expectProblem, type Harness, startHarness } from './harness.js';

describe('Redis outage', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 503 while Redis is away and heals the run once it is back', async () => {
    const spec = { ...tinySpec(), seed: 4242 };
    h.redis.disconnect();
    const refused = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: spec });
    const problem = expectProblem(refused, 503, 'queue_unavailable');
    expect(problem.detail).toMatch(
      /^run \S+ is recorded, but the queue \(Redis\) is not reachable: it is queued as soon/,
    );
    expect(refused.headers['retry-after']).toBe('5');
    const ready = expectProblem(await h.app.inject({ method: 'GET', url: '/readyz' }), 503, 'not_ready');
    expect(ready.errors.map((e) => e.path)).toEqual(['redis']);
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    await h.redis.connect();
    const healed = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: spec });
    expect(healed.statusCode).toBe(200);
    expect(healed.json()).toMatchObject({ status: 'queued', deduplicated: true });
    expect(await h.queue.getJob(healed.json().id)).toBeDefined();
  });
});

describe('database outage', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('reports not ready and answers 500 problems without internals', async () => {
    await h.db.close();
    const ready = expectProblem(await h.app.inject({ method: 'GET', url: '/readyz' }), 503, 'not_ready');
    expect(ready.errors.map((e) => e.path)).toEqual(['database']);
    const failed = await h.app.inject({ method: 'GET', url: '/v1/runs' });
    const problem = expectProblem(failed, 500, 'internal_error');
    expect(problem.detail).toMatch(/^an internal error occurred; it has been logged with request id \S+$/);
    expect(failed.body).not.toMatch(/pool|prisma|postgres|at \S+:\d+/i);
  });
});
