import { type Database, InvalidInputError, openDatabase, searchRuns } from '@swavlab/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, createRun } from './fixtures.js';

let db: Database;
const ids: Record<string, string> = {};

beforeAll(async () => {
  db = await openDatabase({ url: 'memory://' });
  ids.k300 = (
    await createRun(db, { swav: { prototypes: 300 } }, { name: 'k300', tags: ['ablation', 'k'] })
  ).id;
  ids.k3000 = (await createRun(db, { swav: { prototypes: 3000 } }, { name: 'k3000', tags: ['ablation'] })).id;
  ids.hard = (await createRun(db, { swav: { assignment: 'hard' } }, { name: "it's hard" })).id;
  const token = await claim(db, ids.k3000);
  await db.evaluations.addEvaluation(ids.k3000, token, {
    name: 'knn_top1@20',
    value: 0.62,
    split: 'test',
    epoch: 2,
    step: 8,
  });
  await db.metrics.appendMetrics(ids.k3000, token, [
    { name: 'loss', step: 1, value: 5 },
    { name: 'loss', step: 8, value: 3.5 },
  ]);
  await db.runs.finishRun(ids.k3000, token, { status: 'succeeded' });
  const failing = await claim(db, ids.hard);
  await db.metrics.appendMetrics(ids.hard, failing, [{ name: 'loss', step: 3, value: Number.NaN }]);
  await db.runs.finishRun(ids.hard, failing, {
    status: 'failed',
    error: { kind: 'diverged', message: 'NaN loss' },
  });
});

afterAll(async () => {
  await db.close();
});

async function names(q: string): Promise<string[]> {
  const page = await searchRuns(db, { q, pageSize: 50 });
  return page.runs.map((run) => run.name ?? '').sort();
}

describe('searchRuns on PGlite', () => {
  it.each([
    ['swav.prototypes = 3000', ['k3000']],
    ['swav.prototypes >= 300 and swav.prototypes < 3000', ['k300']],
    ["swav.assignment = 'hard'", ["it's hard"]],
    ["swav.assignment IN ('soft')", ['k300', 'k3000']],
    ['metrics.knn_top1@20 > 0.5', ['k3000']],
    ['NOT metrics.knn_top1@20 > 0.5', ["it's hard", 'k300']],
    ['metrics.loss < 4', ['k3000']],
    ['metrics.loss > 0', ['k3000']],
    ["status IN ('failed', 'canceled') OR tag = 'k'", ["it's hard", 'k300']],
    ["tag != 'ablation'", ["it's hard"]],
    ["tag LIKE 'abl%'", ['k300', 'k3000']],
    ["name = 'it''s hard'", ["it's hard"]],
    ["name LIKE 'k3%' AND status = 'succeeded'", ['k3000']],
    ['model.small_stem = false and seed = 31', ["it's hard", 'k300', 'k3000']],
    ['swav.crops_for_assign = 1', []],
    ["model.arch > 'a'", ["it's hard", 'k300', 'k3000']],
    // None of these runs is a cell of a grid (membership across grids: apps/api/test/queries.test.ts).
    ['grid = NULL', ["it's hard", 'k300', 'k3000']],
    ['grid != NULL', []],
    ["grid IN ('g1') OR grid LIKE '%'", []],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });

  it('treats injection attempts inside strings as plain data', async () => {
    expect(await names("name = 'x''; DROP TABLE runs; --'")).toEqual([]);
    expect(await names("tag LIKE '%'' OR ''1''=''1'")).toEqual([]);
    const all = await searchRuns(db, { pageSize: 50 });
    expect(all.runs).toHaveLength(3);
  });

  it('reports bad page tokens as an error on page_token', async () => {
    for (const token of [
      'nope',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('["2020-01-01T00:00:00.000Z",""]').toString('base64url'),
      Buffer.from('["2026-02-30T00:00:00.000Z","01ABC"]').toString('base64url'),
      Buffer.from('["0000-01-01T00:00:00.000Z","01ABC"]').toString('base64url'),
      Buffer.from('["2026-01-01T00:00:00.000Z","01\u0000ABC"]').toString('base64url'),
    ]) {
      const error = await searchRuns(db, { pageSize: 5, pageToken: token }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).path).toBe('page_token');
    }
  });

  it('sorts by a column, a final metric or a spec path, runs without a value last, and pages by offset', async () => {
    const sorted = async (sort: string, pageSize = 50) =>
      (await searchRuns(db, { sort, pageSize })).runs.map((run) => run.name);
    expect(await sorted('name')).toEqual(["it's hard", 'k300', 'k3000']);
    expect(await sorted('-name')).toEqual(['k3000', 'k300', "it's hard"]);
    // The tiny spec's 30 prototypes (it's hard) come first, numbers in numeric order.
    expect(await sorted('swav.prototypes')).toEqual(["it's hard", 'k300', 'k3000']);
    expect(await sorted('-swav.prototypes')).toEqual(['k3000', 'k300', "it's hard"]);
    // Only k3000 has a k-NN value: first either way; the others follow newest first.
    expect(await sorted('metrics.knn_top1@20')).toEqual(['k3000', "it's hard", 'k300']);
    expect(await sorted('-metrics.knn_top1@20')).toEqual(['k3000', "it's hard", 'k300']);
    expect(await sorted('-created_at')).toEqual(["it's hard", 'k3000', 'k300']);

    const first = await searchRuns(db, { sort: 'name', pageSize: 2 });
    expect(first.runs.map((run) => run.name)).toEqual(["it's hard", 'k300']);
    const second = await searchRuns(db, {
      sort: 'name',
      pageSize: 2,
      pageToken: first.nextPageToken ?? '',
    });
    expect(second.runs.map((run) => run.name)).toEqual(['k3000']);
    expect(second.nextPageToken).toBeNull();
    const filtered = await searchRuns(db, { sort: '-seed', q: "tag = 'ablation'", pageSize: 50 });
    expect(filtered.runs.map((run) => run.name).sort()).toEqual(['k300', 'k3000']);

    for (const [sort, token, message] of [
      ['swav.nope', undefined, 'cannot sort by swav.nope'],
      ['metrics.no such', undefined, 'is not a metric name'],
      ['name', first.nextPageToken, undefined],
      ['-name', first.nextPageToken, 'belongs to sort name'],
      ['name', 'nope', 'is not a page token'],
    ] as const) {
      const error = await searchRuns(db, { sort, pageSize: 2, pageToken: token ?? undefined }).catch(
        (e: unknown) => e,
      );
      if (message === undefined) {
        expect(error).not.toBeInstanceOf(Error);
        continue;
      }
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).path).toBe(token === undefined ? 'sort' : 'page_token');
      expect((error as InvalidInputError).reason).toContain(message);
    }
  });
});
