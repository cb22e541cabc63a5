// Regressions, baselines and suite history through the REST API on both database backends. No worker runs:
// candidate runs are finished through packages/db as a worker would (claim, evaluation, metric point, finish).
import { createHash } from 'node:crypto';
import {
  BaselineView,
  type RegressionRequestInput,
  type RegressionSuiteInput,
  RegressionView,
  SuiteHistory,
  specHash,
} from '@swavlab/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, tinySpec } from './fixtures.js';
import { type Backend, expectProblem, type Harness, startHarness } from './harness.js';

const BACKENDS: Backend[] = ['pglite', 'postgres'];

function suite(name: string, seeds = [1, 2, 3], statistical = true): RegressionSuiteInput {
  return {
    name,
    spec: tinySpec({ eval: { knn: { k: [20] }, linear: null } }),
    axes: { 'swav.prototypes': [30, 60] },
    seeds,
    metrics: [
      { name: 'knn_top1@20', direction: 'max', tolerance: { kind: 'absolute', value: 0.02 } },
      { name: 'loss', direction: 'min', tolerance: { kind: 'relative', value: 0.05 } },
      ...(statistical
        ? [
            {
              name: 'knn_top1@20',
              direction: 'max' as const,
              tolerance: { kind: 'statistical' as const, alpha: 0.05, min_effect: 0 },
            },
          ]
        : []),
    ],
  };
}

/** What a candidate run reports: a function of its seed and prototypes, shifted to plant a regression. */
interface Outcome {
  knnShift?: number;
  fail?: boolean;
}

describe.each(BACKENDS)('regressions API on %s', (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ backend });
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (url: string, payload: unknown) =>
    h.app.inject({ method: 'POST', url, payload: payload as object });
  const get = (url: string) => h.app.inject({ method: 'GET', url });

  async function regress(request: RegressionRequestInput): Promise<RegressionView> {
    const response = await post('/v1/regressions', request);
    expect(response.statusCode, response.body).toBe(202);
    return RegressionView.parse(response.json());
  }

  async function view(id: string): Promise<RegressionView> {
    const response = await get(`/v1/regressions/${id}`);
    expect(response.statusCode, response.body).toBe(200);
    return RegressionView.parse(response.json());
  }

  /** Finishes every candidate run as a worker would; returns the regression as the next GET shows it. */
  async function finish(created: RegressionView, outcome: Outcome = {}): Promise<RegressionView> {
    for (const [i, id] of created.candidate_run_ids.entries()) {
      const run = await h.db.runs.getRun(id);
      if (run === null) throw new Error(`no run ${id}`);
      const token = await claim(h.db, id);
      const prototypes = (run.axisValues?.['swav.prototypes'] as number) ?? 0;
      if (outcome.fail && i === 1) {
        await h.db.runs.finishRun(id, token, {
          status: 'failed',
          error: { kind: 'diverged', message: 'loss is NaN' },
        });
        continue;
      }
      const knn = 0.5 + prototypes / 1000 + run.seed / 100 + (outcome.knnShift ?? 0);
      await h.db.evaluations.addEvaluation(id, token, {
        name: 'knn_top1@20',
        value: knn,
        split: 'test',
        epoch: 1,
        step: 8,
      });
      await h.db.metrics.appendMetrics(id, token, [
        { name: 'loss', step: 8, epoch: 1, value: 4 + run.seed / 10 },
      ]);
      await h.db.runs.finishRun(id, token, { status: 'succeeded' });
    }
    return view(created.id);
  }

  it('without a baseline, fails at once with a message and runs nothing', async () => {
    const created = await regress({ suite: suite('none'), baseline: 'main', commit: 'c0' });
    expect(created).toMatchObject({
      suite_name: 'none',
      baseline: null,
      commit: 'c0',
      status: 'finished',
      verdict: 'error',
      candidate_run_ids: [],
      progress: { total: 0, succeeded: 0, failed: 0, running: 0, queued: 0 },
      report: { message: 'no baseline main for suite none; create one with --promote', metrics: [] },
    });
  });

  it('promotes the first run of a suite, then passes unchanged code and catches a planted regression', async () => {
    const first = await regress({
      suite: suite('tiny'),
      baseline: 'main',
      commit: 'c1',
      promote_if_missing: true,
    });
    expect(first).toMatchObject({ status: 'running', verdict: null, report: null, baseline: null });
    expect(first.progress).toEqual({ total: 6, succeeded: 0, failed: 0, running: 0, queued: 6 });
    // Fresh runs: the stored hash is sha256(cell hash + regression id), and every run is queued.
    const run = await h.db.runs.getRun(first.candidate_run_ids[0] ?? '');
    const cellHash = specHash({
      ...tinySpec({ eval: { knn: { k: [20] }, linear: null } }),
      seed: 1,
      swav: { ...(tinySpec().swav as object), prototypes: 30 },
    });
    expect(run?.specHash).toBe(createHash('sha256').update(`${cellHash}${first.id}`).digest('hex'));
    expect(await h.queue.getJob(run?.id ?? '')).toBeDefined();

    const promoted = await finish(first);
    expect(promoted).toMatchObject({
      status: 'finished',
      verdict: 'pass',
      baseline: { name: 'main', version: 1 },
    });
    expect(promoted.report?.message).toMatch(/the candidate runs became its version 1/);
    const baseline = BaselineView.parse((await get('/v1/baselines/main?suite=tiny')).json());
    expect(baseline).toMatchObject({
      name: 'main',
      version: 1,
      suite_name: 'tiny',
      run_ids: first.candidate_run_ids,
    });
    const knn30 = baseline.metrics.find((m) => m.name === 'knn_top1@20' && m.cell['swav.prototypes'] === 30);
    expect(knn30?.values).toEqual([0.54, 0.55, 0.56].map((v) => expect.closeTo(v, 12)));

    const same = await finish(await regress({ suite: suite('tiny'), baseline: 'main', commit: 'c2' }));
    expect(same.candidate_run_ids.some((id) => first.candidate_run_ids.includes(id))).toBe(false);
    expect(same).toMatchObject({ verdict: 'pass', baseline: { name: 'main', version: 1 } });
    expect(same.report?.metrics).toHaveLength(6);
    for (const row of same.report?.metrics ?? []) {
      expect(row).toMatchObject({ delta: 0, verdict: 'pass' });
      expect(row.p_value).toBeCloseTo(0.5, 12);
    }

    const planted = await finish(await regress({ suite: suite('tiny'), baseline: 'main', commit: 'c3' }), {
      knnShift: -0.05,
    });
    expect(planted.verdict).toBe('regression');
    const bad = planted.report?.metrics.filter((row) => row.verdict === 'regression') ?? [];
    expect(bad.map((row) => [row.name, row.cell, row.tolerance.kind])).toEqual([
      ['knn_top1@20', { 'swav.prototypes': 30 }, 'absolute'],
      ['knn_top1@20', { 'swav.prototypes': 60 }, 'absolute'],
      ['knn_top1@20', { 'swav.prototypes': 30 }, 'statistical'],
      ['knn_top1@20', { 'swav.prototypes': 60 }, 'statistical'],
    ]);
    expect(bad[0]?.delta).toBeCloseTo(-0.05, 12);
    expect(bad[2]?.p_value).toBeCloseTo(0.0018011163, 8); // scipy.stats.ttest_ind(equal_var=False)
    expect(planted.report?.message).toMatch(
      /^regression: 4 of 6 metric comparisons \(knn_top1@20 \[swav.prototypes=30\]: worse by 0.05/,
    );

    const history = SuiteHistory.parse((await get('/v1/suites/tiny/history?metric=knn_top1@20')).json());
    expect(history.points.map((p) => [p.commit, p.cell['swav.prototypes'], p.verdict, p.n])).toEqual([
      ['c1', 30, 'pass', 3],
      ['c1', 60, 'pass', 3],
      ['c2', 30, 'pass', 3],
      ['c2', 60, 'pass', 3],
      ['c3', 30, 'regression', 3],
      ['c3', 60, 'regression', 3],
    ]);
    expect(history.points[4]?.mean).toBeCloseTo(0.5, 12);

    const listed = (await get('/v1/regressions?suite=tiny&page_size=2')).json();
    expect(listed.regressions.map((r: RegressionView) => r.commit)).toEqual(['c3', 'c2']);
    const rest = (
      await get(`/v1/regressions?suite=tiny&page_size=2&page_token=${listed.next_page_token}`)
    ).json();
    expect(rest).toMatchObject({ regressions: [{ commit: 'c1' }], next_page_token: null });
  });

  it('reports a failed candidate run as an error, and too few seeds for a statistical tolerance as inconclusive', async () => {
    await finish(await regress({ suite: suite('few', [1, 2]), baseline: 'main', promote_if_missing: true }));
    const inconclusive = await finish(await regress({ suite: suite('few', [1, 2]), baseline: 'main' }));
    expect(inconclusive.verdict).toBe('inconclusive');
    const statistical =
      inconclusive.report?.metrics.filter((row) => row.tolerance.kind === 'statistical') ?? [];
    expect(statistical.map((row) => [row.verdict, row.reason])).toEqual([
      ['inconclusive', 'needs at least 3 seeds per side (baseline 2, candidate 2)'],
      ['inconclusive', 'needs at least 3 seeds per side (baseline 2, candidate 2)'],
    ]);

    const failed = await finish(await regress({ suite: suite('few', [1, 2]), baseline: 'main' }), {
      fail: true,
    });
    expect(failed.verdict).toBe('error');
    expect(failed.progress).toMatchObject({ total: 4, succeeded: 3, failed: 1 });
    const errorRow = failed.report?.metrics.find((row) => row.verdict === 'error');
    expect(errorRow?.reason).toBe(
      `candidate run ${failed.candidate_run_ids[1]} (seed 2) failed (diverged: loss is NaN)`,
    );
    expect(errorRow?.cell).toEqual({ 'swav.prototypes': 30 });
  });

  it('stores one verdict when two reads settle the regression at once', async () => {
    await finish(
      await regress({ suite: suite('race', [1], false), baseline: 'main', promote_if_missing: true }),
    );
    const created = await regress({ suite: suite('race', [1], false), baseline: 'main' });
    await finish(created);
    // finish() already settled it through a GET; start another regression and settle it with racing reads.
    const racing = await regress({ suite: suite('race', [1], false), baseline: 'main' });
    for (const id of racing.candidate_run_ids) {
      const token = await claim(h.db, id);
      await h.db.runs.finishRun(id, token, { status: 'succeeded' });
    }
    const views = await Promise.all([view(racing.id), view(racing.id), view(racing.id)]);
    expect(new Set(views.map((v) => JSON.stringify(v))).size).toBe(1);
    expect(views[0]?.verdict).toBe('error');
    expect(views[0]?.report?.metrics[0]?.reason).toBe('no candidate run reported knn_top1@20');
    expect((await h.db.regressions.getRegressionRun(racing.id))?.finishedAt?.toISOString()).toBe(
      views[0]?.finished_at,
    );
    expect((await h.db.baselines.getBaseline('race', 'main'))?.version).toBe(1);
  });

  it('promotes a passing regression to a new baseline version, once; refuses others with 409', async () => {
    const first = await finish(
      await regress({ suite: suite('promo', [1], false), baseline: 'main', promote_if_missing: true }),
    );
    // The promote_if_missing run already is version 1: promoting it again returns that version.
    const again = await post('/v1/baselines', { name: 'main', regression_id: first.id });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ version: 1 });

    const passing = await finish(await regress({ suite: suite('promo', [1], false), baseline: 'main' }));
    const created = await post('/v1/baselines', { name: 'main', regression_id: passing.id });
    expect(created.statusCode, created.body).toBe(201);
    expect(BaselineView.parse(created.json())).toMatchObject({
      version: 2,
      run_ids: passing.candidate_run_ids,
    });
    expect((await post('/v1/baselines', { name: 'main', regression_id: passing.id })).json()).toMatchObject({
      version: 2,
    });
    const other = await post('/v1/baselines', { name: 'v1.2', regression_id: passing.id });
    expect(other.json()).toMatchObject({ name: 'v1.2', version: 1 });
    expect((await get('/v1/baselines/main?suite=promo&version=1')).json()).toMatchObject({ version: 1 });

    const failing = await finish(await regress({ suite: suite('promo', [1], false), baseline: 'main' }), {
      knnShift: -0.1,
    });
    expect(failing.verdict).toBe('regression');
    const refused = expectProblem(
      await post('/v1/baselines', { name: 'main', regression_id: failing.id }),
      409,
      'regression_not_passing',
    );
    expect(refused.detail).toMatch(/has verdict regression; only a passing regression can become a baseline/);
    const running = await regress({ suite: suite('promo', [1], false), baseline: 'main' });
    expectProblem(
      await post('/v1/baselines', { name: 'main', regression_id: running.id }),
      409,
      'regression_running',
    );
    expectProblem(await post('/v1/baselines', { name: 'main', regression_id: 'nope' }), 404, 'not_found');
  });

  it('names the field in every 400 and says what is missing in every 404', async () => {
    const badTolerance = structuredClone(suite('bad')) as { metrics: { tolerance: object }[] };
    (badTolerance.metrics[1] as { tolerance: object }).tolerance = { kind: 'relative', value: -1 };
    const tolerance = expectProblem(
      await post('/v1/regressions', { suite: badTolerance, baseline: 'main' }),
      400,
    );
    expect(tolerance.errors).toEqual([
      { path: 'suite.metrics[1].tolerance.value', message: 'must be >= 0; got -1' },
    ]);

    const unevaluated = { ...suite('bad'), spec: tinySpec({ eval: { knn: { k: [200] }, linear: null } }) };
    const metric = expectProblem(
      await post('/v1/regressions', { suite: unevaluated, baseline: 'main' }),
      400,
    );
    expect(metric.errors[0]).toEqual({
      path: 'suite.metrics[0].name',
      message: 'knn_top1@20 is never evaluated: spec.eval.knn.k is [200]',
    });
    const crossField = { ...suite('bad'), spec: tinySpec({ optim: { warmup_epochs: 5 } }) };
    const cells = expectProblem(await post('/v1/regressions', { suite: crossField, baseline: 'main' }), 400);
    expect(cells.errors[0]?.path).toMatch(/^suite\.cells\[0\]\.optim\.warmup_epochs$/);
    expect(expectProblem(await post('/v1/regressions', { suite: suite('bad') }), 400).errors).toEqual([
      { path: 'baseline', message: 'is required' },
    ]);
    expect(
      expectProblem(await post('/v1/baselines', { name: 'has space', regression_id: 'x' }), 400).errors[0]
        ?.path,
    ).toBe('name');

    expectProblem(await get('/v1/regressions/01NOPE'), 404, 'not_found');
    expectProblem(await get('/v1/baselines/main?suite=nothing'), 404, 'not_found');
    expect(expectProblem(await get('/v1/baselines/main'), 400).errors).toEqual([
      { path: 'suite', message: 'is required' },
    ]);
    expectProblem(await get('/v1/suites/nothing/history?metric=loss'), 404, 'not_found');
    expect(expectProblem(await get('/v1/suites/tiny/history?metric=accuracy'), 400).errors[0]?.path).toBe(
      'metric',
    );
    expect(expectProblem(await get('/v1/regressions?page_token=zzz'), 400).errors[0]?.path).toBe(
      'page_token',
    );
  });
});
