import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BaselineExistsError,
  type CreateRegressionRunInput,
  type Database,
  InvalidInputError,
} from '../src/index.js';
import { testBackends } from './backends.js';

const candidateHash = (hash: string, id: string) =>
  createHash('sha256')
    .update(hash + id)
    .digest('hex');

function regressionInput(suiteName: string, seeds: number[]): CreateRegressionRunInput {
  return {
    suiteName,
    suite: { name: suiteName },
    baselineName: 'main',
    baselineVersion: null,
    commit: 'abc123',
    branch: 'main',
    ciUrl: 'https://ci.example/1',
    candidates: seeds.map((seed) => ({
      spec: { seed },
      specHash: `cell-${seed}`,
      seed,
      axisValues: { 'swav.prototypes': 30 },
    })),
    candidateHash,
  };
}

describe.each(testBackends())('regression runs and baselines on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  it('numbers baseline versions per suite and name, also when created concurrently', async () => {
    const input = { name: 'main', suiteName: 'smoke', runIds: ['r1'], metrics: { loss: [] } };
    const versions = await Promise.all(Array.from({ length: 4 }, () => db.baselines.createBaseline(input)));
    expect(versions.map((b) => b.version).sort()).toEqual([1, 2, 3, 4]);
    expect((await db.baselines.createBaseline({ ...input, suiteName: 'other' })).version).toBe(1);
    expect((await db.baselines.createBaseline({ ...input, name: 'v1.2' })).version).toBe(1);
    expect((await db.baselines.getBaseline('smoke', 'main'))?.version).toBe(4);
    expect(await db.baselines.getBaseline('smoke', 'main', 2)).toMatchObject({
      version: 2,
      suiteName: 'smoke',
      metrics: input.metrics,
    });
    expect(await db.baselines.getBaseline('smoke', 'main', 9)).toBeNull();
    expect(await db.baselines.getBaseline('missing', 'main')).toBeNull();
  });

  it('creates a regression with fresh candidate runs, even for specs that already ran', async () => {
    const first = await db.regressions.createRegressionRun(regressionInput('fresh', [1, 2]));
    const second = await db.regressions.createRegressionRun(regressionInput('fresh', [1, 2]));
    for (const { regression, runs } of [first, second]) {
      expect(runs.every((r) => r.created && r.run.status === 'queued')).toBe(true);
      expect(regression.candidateRunIds).toEqual(runs.map((r) => r.run.id));
      expect(runs.map((r) => r.run.specHash)).toEqual([
        candidateHash('cell-1', regression.id),
        candidateHash('cell-2', regression.id),
      ]);
      expect((await db.runs.getRun(runs[0]?.run.id ?? ''))?.axisValues).toEqual({ 'swav.prototypes': 30 });
    }
    expect(first.regression).toMatchObject({
      verdict: null,
      report: null,
      finishedAt: null,
      commit: 'abc123',
    });
    expect(new Set([...first.regression.candidateRunIds, ...second.regression.candidateRunIds]).size).toBe(4);
    expect(await db.regressions.getRegressionRun(first.regression.id)).toEqual(first.regression);
  });

  it('writes nothing when a candidate is invalid', async () => {
    const runCount = async () => (await db.query<{ n: bigint }>`SELECT count(*) AS n FROM runs`)[0]?.n;
    const before = await runCount();
    const input = regressionInput('atomic', [1, 2]);
    const bad = { ...input, candidates: [...input.candidates, { spec: {}, specHash: 'x', seed: 1.5 }] };
    await expect(db.regressions.createRegressionRun(bad)).rejects.toThrow(InvalidInputError);
    await expect(db.regressions.createRegressionRun(bad)).rejects.toThrow(/^candidates\[2\]\.seed/);
    expect((await db.regressions.listRegressionRuns({ suiteName: 'atomic' })).regressions).toEqual([]);
    expect(await runCount()).toBe(before);
  });

  it('stores one verdict when two callers race, and returns the stored one to the loser', async () => {
    const { regression } = await db.regressions.createRegressionRun(regressionInput('race', [1]));
    const [a, b] = await Promise.all([
      db.regressions.storeVerdict(regression.id, { verdict: 'pass', report: { by: 'a' } }),
      db.regressions.storeVerdict(regression.id, { verdict: 'regression', report: { by: 'b' } }),
    ]);
    expect(a).toEqual(b);
    expect(a?.finishedAt).toBeInstanceOf(Date);
    const stored = await db.regressions.getRegressionRun(regression.id);
    expect(stored).toEqual(a);
    expect(await db.regressions.storeVerdict(regression.id, { verdict: 'error', report: {} })).toEqual(
      stored,
    );
    expect(await db.regressions.storeVerdict('missing', { verdict: 'pass', report: {} })).toBeNull();
    await expect(
      db.regressions.storeVerdict(regression.id, { verdict: 'maybe' as 'pass', report: {} }),
    ).rejects.toThrow(/^verdict: expected one of pass, regression, inconclusive, error/);
  });

  it('promotes version 1 with the verdict, and writes nothing if the baseline appeared meanwhile', async () => {
    const { regression } = await db.regressions.createRegressionRun({
      ...regressionInput('promote', [1]),
      promoteIfMissing: true,
    });
    expect(regression.promoteIfMissing).toBe(true);
    const stored = await db.regressions.storeVerdict(regression.id, {
      verdict: 'pass',
      report: {},
      baselineVersion: 1,
      promote: { runIds: regression.candidateRunIds, metrics: { loss: [] } },
    });
    expect(stored?.baselineVersion).toBe(1);
    expect(await db.baselines.getBaseline('promote', 'main')).toMatchObject({
      version: 1,
      runIds: regression.candidateRunIds,
    });

    const { regression: late } = await db.regressions.createRegressionRun(regressionInput('promote', [2]));
    await expect(
      db.regressions.storeVerdict(late.id, {
        verdict: 'pass',
        report: {},
        promote: { runIds: late.candidateRunIds, metrics: {} },
      }),
    ).rejects.toThrow(BaselineExistsError);
    expect((await db.regressions.getRegressionRun(late.id))?.verdict).toBeNull();
    expect((await db.baselines.getBaseline('promote', 'main'))?.version).toBe(1);
  });

  it('lists newest first with pages and a suite filter; history is oldest first and finished only', async () => {
    const ids: string[] = [];
    for (const seed of [1, 2, 3]) {
      ids.push((await db.regressions.createRegressionRun(regressionInput('listed', [seed]))).regression.id);
    }
    const first = await db.regressions.listRegressionRuns({ suiteName: 'listed', pageSize: 2 });
    expect(first.regressions.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await db.regressions.listRegressionRuns({
      suiteName: 'listed',
      pageSize: 2,
      pageToken: first.nextPageToken ?? '',
    });
    expect(second).toEqual({ regressions: [expect.objectContaining({ id: ids[0] })], nextPageToken: null });
    await expect(db.regressions.listRegressionRuns({ pageToken: 'nope' })).rejects.toThrow(/^pageToken/);

    for (const id of [ids[2], ids[0]]) {
      await db.regressions.storeVerdict(id ?? '', { verdict: 'pass', report: {} });
    }
    const history = await db.regressions.finishedRegressionRuns('listed');
    expect(history.map((r) => r.id)).toEqual([ids[0], ids[2]]);
  });
});
