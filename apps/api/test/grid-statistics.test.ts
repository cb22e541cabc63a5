// The statistics of /results and /pivot on PostgreSQL, against reference numbers computed independently (the same
// seeded values as group-comparison.test.ts: SciPy's Welch test and Holm's adjustment by hand, once, offline), and
// POST /v1/grids/{id}/seeds: new cells and queued runs for new seeds only, idempotent, validated with 422s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, tinySpec } from './fixtures.js';
import { expectProblem, type Harness, startHarness } from './harness.js';

/** The six cells' k-NN values over seeds 1..4; null: that seed's run failed. */
const CELLS: { prototypes: number; iterations: number; name: string; values: (number | null)[] }[] = [
  { prototypes: 10, iterations: 1, name: 'A', values: [0.62, 0.65, 0.61, 0.66] },
  { prototypes: 10, iterations: 3, name: 'B', values: [0.6, 0.63, 0.59, 0.64] },
  { prototypes: 20, iterations: 1, name: 'C', values: [0.5, 0.52, 0.49, 0.53] },
  { prototypes: 20, iterations: 3, name: 'D', values: [0.58, 0.66, 0.55, 0.63] },
  { prototypes: 30, iterations: 1, name: 'E', values: [0.57, 0.58, 0.575, null] },
  { prototypes: 30, iterations: 3, name: 'F', values: [0.55, null, null, null] },
];

/** Reference (SciPy 1.10, Holm by hand): each group against A, the best. */
const TESTS: Record<string, { t: number; df: number; p: number; holm: number; tied: boolean }> = {
  B: { t: -1.18817705157201, df: 6, p: 0.279658290904658, holm: 0.559316581809316, tied: true },
  C: {
    t: -8.33333333333333,
    df: 5.62210796915167,
    p: 0.000227082325220564,
    holm: 0.000908329300882257,
    tied: false,
  },
  D: {
    t: -1.09544511501033,
    df: 4.32538269846921,
    p: 0.330533929678895,
    holm: 0.559316581809316,
    tied: true,
  },
  E: {
    t: -4.89897948556636,
    df: 3.34595524956971,
    p: 0.0125537464590777,
    holm: 0.0376612393772332,
    tied: false,
  },
};

/** Reference 95 % confidence intervals (mean ± t.ppf(0.975, n − 1) · s / √n). */
const INTERVALS: Record<string, [number, number]> = {
  A: [0.597121312471886, 0.672878687528114],
  B: [0.577121312471886, 0.652878687528114],
  C: [0.480948372842447, 0.539051627157553],
  D: [0.526506825802108, 0.683493174197892],
  E: [0.562579311440781, 0.587420688559219],
};

interface Group {
  key: Record<string, number>;
  n: number;
  mean: number;
  ci95: { low: number; high: number } | null;
  best: boolean;
  tied_with_best: boolean | null;
  test: { t: number | null; df: number | null; p_value: number; p_adjusted: number } | null;
}

function expectReference(name: string, group: Group | null | undefined): void {
  expect(group, name).toBeTruthy();
  const g = group as Group;
  const interval = INTERVALS[name];
  if (interval === undefined) expect(g.ci95).toBeNull();
  else {
    expect(g.ci95?.low).toBeCloseTo(interval[0], 12);
    expect(g.ci95?.high).toBeCloseTo(interval[1], 12);
  }
  expect(g.best).toBe(name === 'A');
  const test = TESTS[name];
  if (test === undefined) {
    expect(g.test).toBeNull();
    expect(g.tied_with_best).toBeNull();
    return;
  }
  expect(g.test?.t).toBeCloseTo(test.t, 10);
  expect(g.test?.df).toBeCloseTo(test.df, 10);
  expect(g.test?.p_value).toBeCloseTo(test.p, 12);
  expect(g.test?.p_adjusted).toBeCloseTo(test.holm, 12);
  expect(g.tied_with_best).toBe(test.tied);
}

let h: Harness;
const get = (url: string) => h.app.inject({ method: 'GET', url });
const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });

async function submitGrid(payload: Record<string, unknown>): Promise<{ id: string; run_ids: string[] }> {
  const response = await post('/v1/grids', payload);
  expect(response.statusCode, response.body).toBe(201);
  return { id: response.json().id, run_ids: response.json().runs.run_ids };
}

/** Finishes a run as a worker would: the k-NN value and a loss of 1 − value, or a failure when value is null. */
async function finish(runId: string, value: number | null): Promise<void> {
  const token = await claim(h.db, runId);
  if (value === null) {
    await h.db.runs.finishRun(runId, token, { status: 'failed', error: { kind: 'crashed', message: 'x' } });
    return;
  }
  await h.db.evaluations.addEvaluation(runId, token, {
    name: 'knn_top1@20',
    value,
    split: 'test',
    epoch: 2,
    step: 8,
  });
  await h.db.metrics.appendMetrics(runId, token, [{ name: 'loss', step: 8, value: 1 - value }]);
  await h.db.runs.finishRun(runId, token, { status: 'succeeded' });
}

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('results and pivot statistics', () => {
  let gridId: string;

  beforeAll(async () => {
    const grid = await submitGrid({
      name: 'statistics',
      base: tinySpec(),
      axes: { 'swav.prototypes': [10, 20, 30], 'swav.sinkhorn_iterations': [1, 3] },
      seeds: [1, 2, 3, 4],
      metric: { name: 'knn_top1@20', goal: 'max' },
    });
    gridId = grid.id;
    for (const id of grid.run_ids) {
      const run = await h.db.runs.getRun(id);
      const axes = run?.axisValues as Record<string, number>;
      const cell = CELLS.find(
        (c) => c.prototypes === axes['swav.prototypes'] && c.iterations === axes['swav.sinkhorn_iterations'],
      );
      await finish(id, cell?.values[(run?.seed ?? 0) - 1] ?? null);
    }
  });

  it('gives every group its CI, the best group, the tied ones and the p-values of the reference', async () => {
    const response = await get(`/v1/grids/${gridId}/results?difference=0.02`);
    expect(response.statusCode, response.body).toBe(200);
    const results = response.json();
    expect(results.groups.map((g: Group) => g.n)).toEqual([4, 4, 4, 4, 3, 1]);
    results.groups.forEach((group: Group, i: number) => {
      expectReference(CELLS[i]?.name as string, group);
    });
    expect(results.best).toMatchObject({
      key: { 'swav.prototypes': 10, 'swav.sinkhorn_iterations': 1 },
      n: 4,
    });
    expect(results.best.ci95.low).toBeCloseTo(0.597121312471886, 12);
    expect(results.comparison).toEqual({
      method: expect.stringMatching(/Welch's two-sided t-test .* Holm/),
      test: 'welch_t_two_sided',
      correction: 'holm',
      alpha: 0.05,
      possible: true,
      comparisons: 4,
      tied: 2,
      message: '1 group has one value (n = 1) and was not tested',
    });
    // Reference: pooled std over the groups with n ≥ 2, harmonic mean of the n's, the resolvable difference
    // (t(0.975, ν) + t(0.8, ν)) · s · √(2/n) with ν = 2(n − 1), and the fewest seeds that resolve 0.02.
    expect(results.resolution.pooled_std).toBeCloseTo(0.0289704282723904, 14);
    expect(results.resolution.pooled_df).toBe(14);
    expect(results.resolution.seeds_per_group).toBeCloseTo(2.57142857142857, 12);
    expect(results.resolution.min_resolvable_difference).toBeCloseTo(0.104079455367648, 10);
    expect(results.resolution).toMatchObject({ alpha: 0.05, power: 0.8, difference: 0.02, seeds_needed: 34 });
    expect(results.runs_not_finished).toBe(4);

    const plain = (await get(`/v1/grids/${gridId}/results`)).json();
    expect(plain.resolution).toMatchObject({ difference: null, seeds_needed: null, message: null });
    const far = (await get(`/v1/grids/${gridId}/results?difference=0.0001`)).json();
    expect(far.resolution.seeds_needed).toBeNull();
    expect(far.resolution.message).toBe('more than 1000 seeds per group would be needed to resolve 0.0001');
  });

  it('lists the grid with its counts and best group, and the metrics its runs reported', async () => {
    const listed = await get('/v1/grids');
    expect(listed.statusCode, listed.body).toBe(200);
    const entry = listed.json().grids.find((g: { id: string }) => g.id === gridId);
    expect(entry).toMatchObject({
      name: 'statistics',
      axes: ['swav.prototypes', 'swav.sinkhorn_iterations'],
      status_counts: { succeeded: 20, failed: 4, total: 24 },
      best: { key: { 'swav.prototypes': 10, 'swav.sinkhorn_iterations': 1 }, n: 4 },
    });
    expect(entry.best.mean).toBeCloseTo(0.635, 12);

    const metrics = await get(`/v1/grids/${gridId}/metrics`);
    expect(metrics.json()).toEqual({
      grid_id: gridId,
      metrics: [
        { name: 'knn_top1@20', source: 'evaluation', runs: 20 },
        { name: 'loss', source: 'training', runs: 20 },
      ],
    });
    expectProblem(await get('/v1/grids/nope/metrics'), 404);
  });

  it('sorts the runs of the grid on the server, by a final metric or a spec path', async () => {
    const lowest = await get(`/v1/runs?grid=${gridId}&sort=metrics.knn_top1@20&page_size=2`);
    expect(lowest.statusCode, lowest.body).toBe(200);
    const page = lowest.json();
    const values = await Promise.all(
      page.runs.map(
        async (run: { id: string }) => (await get(`/v1/runs/${run.id}`)).json().evaluations[0].value,
      ),
    );
    expect(values).toEqual([0.49, 0.5]);
    const next = await get(
      `/v1/runs?grid=${gridId}&sort=metrics.knn_top1@20&page_size=2&page_token=${page.next_page_token}`,
    );
    expect(next.json().runs.map((run: { id: string }) => run.id)).not.toContain(page.runs[0].id);
    const byPath = (await get(`/v1/runs?grid=${gridId}&sort=-swav.prototypes&page_size=8`)).json();
    expect(
      byPath.runs.map((run: { spec: { swav: { prototypes: number } } }) => run.spec.swav.prototypes),
    ).toEqual(Array(8).fill(30));
    const bad = expectProblem(await get('/v1/runs?sort=swav.nope'), 400);
    expect(bad.errors[0]).toMatchObject({ path: 'sort' });
  });

  it('exports the CI, best, tie and adjusted p columns as CSV', async () => {
    const response = await get(`/v1/grids/${gridId}/results?format=csv`);
    const [header, first, second, , , , last] = response.body.trim().split('\r\n');
    expect(header).toBe(
      'swav.prototypes,swav.sinkhorn_iterations,metric,n,mean,std,median,min,max,ci95_low,ci95_high,best,tied_with_best,p_adjusted',
    );
    expect(first?.split(',').slice(0, 3)).toEqual(['10', '1', 'knn_top1@20']);
    expect(first?.split(',').slice(11)).toEqual(['true', '', '']);
    expect(second?.split(',').slice(11, 13)).toEqual(['false', 'true']);
    expect(Number(second?.split(',')[13])).toBeCloseTo(0.559316581809316, 12);
    expect(last?.split(',').slice(9)).toEqual(['', '', 'false', '', '']);
  });

  it('puts the same statistics in the pivot cells', async () => {
    const response = await get(
      `/v1/grids/${gridId}/pivot?rows=swav.prototypes&columns=swav.sinkhorn_iterations&difference=0.05`,
    );
    expect(response.statusCode, response.body).toBe(200);
    const table = response.json();
    expect(table.goal).toBe('max');
    CELLS.forEach((cell, k) => {
      expectReference(cell.name, table.cells[Math.floor(k / 2)][k % 2]);
    });
    expect(table.comparison).toMatchObject({ possible: true, comparisons: 4, tied: 2 });
    expect(table.resolution).toMatchObject({ difference: 0.05, seeds_needed: 7 });
  });

  it('takes the lowest loss as the best in a grid that maximises accuracy, unless told otherwise', async () => {
    const loss = (await get(`/v1/grids/${gridId}/results?metric=loss`)).json();
    expect(loss.goal).toBe('min');
    expect(loss.best.key).toEqual({ 'swav.prototypes': 10, 'swav.sinkhorn_iterations': 1 });
    expect(loss.best.mean).toBeCloseTo(1 - 0.635, 12);
    // The loss is 1 − accuracy: the same differences, so the same tests.
    const b = loss.groups[1];
    expect(b.test.p_adjusted).toBeCloseTo(0.559316581809316, 10);
    expect(b.test.t).toBeCloseTo(1.18817705157201, 10);
    const highest = (await get(`/v1/grids/${gridId}/results?metric=loss&goal=max`)).json();
    expect(highest.best.key).toEqual({ 'swav.prototypes': 20, 'swav.sinkhorn_iterations': 1 });
    expect(highest.groups[0].tied_with_best).toBe(false);
    const pivotLoss = (
      await get(`/v1/grids/${gridId}/pivot?metric=loss&rows=swav.prototypes&columns=swav.sinkhorn_iterations`)
    ).json();
    expect(pivotLoss.goal).toBe('min');
    expect(pivotLoss.cells[0][0].best).toBe(true);
  });

  it('says that no test is possible with one seed per cell, and reports no p-values', async () => {
    const grid = await submitGrid({
      name: 'one seed',
      base: tinySpec(),
      axes: { 'swav.prototypes': [11, 12, 13] },
      seeds: [1],
    });
    for (const [i, id] of grid.run_ids.entries()) await finish(id, 0.5 + i / 10);
    const results = (await get(`/v1/grids/${grid.id}/results?difference=0.02`)).json();
    expect(results.groups.map((g: Group) => [g.n, g.best, g.tied_with_best, g.test, g.ci95])).toEqual([
      [1, false, null, null, null],
      [1, false, null, null, null],
      [1, true, null, null, null],
    ]);
    expect(results.comparison).toMatchObject({
      possible: false,
      comparisons: 0,
      tied: 0,
      message: 'every group has one value (n = 1): no test is possible; add seeds',
    });
    expect(results.resolution).toMatchObject({
      pooled_std: null,
      min_resolvable_difference: null,
      seeds_needed: null,
      message: 'no group has two values: the variance between seeds cannot be estimated; add seeds',
    });
  });

  it('rejects a bad difference or goal naming the parameter', async () => {
    const field = async (url: string) =>
      expectProblem(await get(url), 400, 'validation_failed').errors[0]?.path;
    expect(await field(`/v1/grids/${gridId}/results?difference=0`)).toBe('difference');
    expect(await field(`/v1/grids/${gridId}/results?difference=two`)).toBe('difference');
    expect(await field(`/v1/grids/${gridId}/pivot?rows=seed&columns=seed&goal=best`)).toBe('goal');
  });
});

describe('POST /v1/grids/{id}/seeds', () => {
  const base = {
    name: 'seeds',
    base: tinySpec(),
    axes: { 'swav.prototypes': [14, 15] },
    metric: { name: 'knn_top1@20', goal: 'max' },
  };
  let gridId: string;

  beforeAll(async () => {
    gridId = (await submitGrid({ ...base, seeds: [1] })).id;
  });

  const cells = async () =>
    ((await get(`/v1/grids/${gridId}/cells`)).json().cells as { cell_index: number; seed: number }[]).map(
      (c) => [c.cell_index, c.seed],
    );

  it('adds cells and queued runs for the new seeds only, and is idempotent for seeds it has', async () => {
    const added = await post(`/v1/grids/${gridId}/seeds`, { seeds: [1, 2] });
    expect(added.statusCode, added.body).toBe(201);
    const body = added.json();
    expect(body).toMatchObject({
      id: gridId,
      cell_count: 4,
      added_seeds: [2],
      existing_seeds: [1],
      runs: { created: 2, deduplicated: 0 },
      status_counts: { queued: 4, total: 4 },
    });
    expect(body.spec.seeds).toEqual([1, 2]);
    for (const id of body.runs.run_ids) {
      expect(await h.queue.getJob(id)).toBeTruthy();
      expect(await h.db.runs.getRun(id)).toMatchObject({ gridId, status: 'queued', seed: 2 });
    }
    expect(await cells()).toEqual([
      [0, 1],
      [1, 1],
      [2, 2],
      [3, 2],
    ]);

    const again = await post(`/v1/grids/${gridId}/seeds`, { seeds: [2, 1] });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({
      cell_count: 4,
      added_seeds: [],
      existing_seeds: [2, 1],
      runs: { created: 0, deduplicated: 0, run_ids: [] },
    });

    const more = await post(`/v1/grids/${gridId}/seeds`, { add: 2 });
    expect(more.statusCode, more.body).toBe(201);
    expect(more.json()).toMatchObject({ cell_count: 8, added_seeds: [3, 4], runs: { created: 4 } });
    // Within one addition the new seeds vary fastest, as in a grid's expansion.
    expect((await cells()).map(([, seed]) => seed)).toEqual([1, 1, 2, 2, 3, 4, 3, 4]);
    expect((await get(`/v1/grids/${gridId}`)).json().spec.seeds).toEqual([1, 2, 3, 4]);
  });

  it('replays an add with the same Idempotency-Key instead of adding again', async () => {
    const headers = { 'idempotency-key': `seeds-${gridId}` };
    const first = await post(`/v1/grids/${gridId}/seeds`, { add: 1 }, headers);
    expect(first.statusCode, first.body).toBe(201);
    const replay = await post(`/v1/grids/${gridId}/seeds`, { add: 1 }, headers);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().added_seeds).toEqual(first.json().added_seeds);
    expect((await get(`/v1/grids/${gridId}`)).json().cell_count).toBe(10);
  });

  it('creates the same runs a grid submitted with every seed has', async () => {
    const whole = await post('/v1/grids', { ...base, name: 'whole', seeds: [1, 2, 3, 4, 5] });
    expect(whole.statusCode, whole.body).toBe(201);
    expect(whole.json().runs).toMatchObject({ created: 0, deduplicated: 10 });
    const grown = (await get(`/v1/grids/${gridId}/cells`))
      .json()
      .cells.map((c: { run_id: string }) => c.run_id);
    expect([...whole.json().runs.run_ids].sort()).toEqual([...grown].sort());
  });

  it('answers 422 naming the field for an invalid request, 400 for a body that is no object, 404 for no grid', async () => {
    const field = async (payload: unknown) =>
      expectProblem(await post(`/v1/grids/${gridId}/seeds`, payload), 422, 'invalid_seeds').errors.map(
        (e) => e.path,
      );
    expect(await field({})).toEqual(['seeds']);
    expect(await field({ seeds: [] })).toEqual(['seeds']);
    expect(await field({ seeds: [-1] })).toEqual(['seeds[0]']);
    expect(await field({ seeds: [7, 7] })).toEqual(['seeds[1]']);
    expect(await field({ add: 0 })).toEqual(['add']);
    expect(await field({ add: 1.5 })).toEqual(['add']);
    expect(await field({ add: 1, seeds: [9] })).toEqual(['add']);
    expect(await field({ add: 1000 })).toEqual(['add']);
    const tooMany = expectProblem(
      await post(`/v1/grids/${gridId}/seeds`, { seeds: Array.from({ length: 996 }, (_, i) => 100 + i) }),
      422,
      'invalid_seeds',
    );
    expect(tooMany.errors[0]).toEqual({
      path: 'seeds',
      message: 'the grid would have 1001 seeds; a grid may have at most 1000',
    });
    expectProblem(await post(`/v1/grids/${gridId}/seeds`, [1]), 400, 'validation_failed');
    expectProblem(await post('/v1/grids/01NOSUCHGRID/seeds', { add: 1 }), 404, 'not_found');
    expect((await get(`/v1/grids/${gridId}`)).json().cell_count).toBe(10);
  });
});
