import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/index.js';
import { testBackends } from './backends.js';

describe.each(testBackends())('regression runs and baselines on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  it('numbers baseline versions per name, also when created concurrently', async () => {
    const input = {
      name: 'tiny-synthetic',
      suiteName: 'smoke',
      runIds: ['r1'],
      metrics: { 'knn_top1@20': 0.4 },
    };
    const versions = await Promise.all(Array.from({ length: 4 }, () => db.baselines.createBaseline(input)));
    expect(versions.map((b) => b.version).sort()).toEqual([1, 2, 3, 4]);
    expect((await db.baselines.createBaseline({ ...input, name: 'other' })).version).toBe(1);
    expect((await db.baselines.getBaseline('tiny-synthetic'))?.version).toBe(4);
    expect(await db.baselines.getBaseline('tiny-synthetic', 2)).toMatchObject({
      version: 2,
      metrics: input.metrics,
    });
    expect(await db.baselines.getBaseline('missing')).toBeNull();
  });

  it('creates a regression run and records its verdict', async () => {
    const created = await db.regressions.createRegressionRun({
      suiteName: 'smoke',
      suite: { runs: 2 },
      baselineName: 'tiny-synthetic',
      commit: 'abc123',
      branch: 'main',
      ciUrl: 'https://ci.example/1',
    });
    expect(created).toMatchObject({ verdict: null, report: null, candidateRunIds: [], finishedAt: null });
    const withRuns = await db.regressions.updateRegressionRun(created.id, { candidateRunIds: ['a', 'b'] });
    expect(withRuns?.candidateRunIds).toEqual(['a', 'b']);
    const done = await db.regressions.updateRegressionRun(created.id, {
      verdict: 'regression',
      report: { 'knn_top1@20': { baseline: 0.4, candidate: 0.31 } },
      finished: true,
    });
    expect(done).toMatchObject({ verdict: 'regression', candidateRunIds: ['a', 'b'] });
    expect(done?.finishedAt).toBeInstanceOf(Date);
    expect(await db.regressions.getRegressionRun(created.id)).toEqual(done);
    expect(await db.regressions.updateRegressionRun('missing', { finished: true })).toBeNull();
    await expect(
      db.regressions.updateRegressionRun(created.id, { verdict: 'maybe' as 'pass' }),
    ).rejects.toThrow(/^verdict: expected one of pass, regression, inconclusive, error/);
  });
});
