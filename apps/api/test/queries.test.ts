// The query endpoints on both backends: a seeded 3 × 2 grid with 3 seeds per cell (results, best group, pivot,
// cells, CSV), compare, and the SQL downsampling of metric series against the JS reference.

import { downsampledSeries } from '@swavlab/db';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downsampleMinMax } from '../src/downsample.js';
import { claim, createRun, tinySpec } from './fixtures.js';
import { type Backend, expectProblem, type Harness, startHarness } from './harness.js';

const BACKENDS: Backend[] = ['pglite', 'postgres'];
const PROTOTYPES = [300, 30, 100];
const ITERATIONS = [1, 3];
const SEEDS = [1, 2, 3];

/** A k-NN accuracy per cell with a spread over seeds that differs between cells. */
function knn(prototypes: number, iterations: number, seed: number): number {
  return prototypes / 1000 + iterations / 100 + ((seed * prototypes) % 7) / 50;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function sampleStd(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Parses the CSV the API writes (no quoted fields occur in these tests). */
function parseCsv(text: string): string[][] {
  expect(text.endsWith('\r\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\r\n')
    .map((line) => line.split(','));
}

interface SeededRun {
  id: string;
  prototypes: number;
  iterations: number;
  seed: number;
  knn: number;
  epochSeconds: number[];
  peakMemory: number;
}

describe.each(BACKENDS)('query API on %s', (backend) => {
  let h: Harness;
  let gridId: string;
  const seeded: SeededRun[] = [];
  const get = (url: string) => h.app.inject({ method: 'GET', url });

  beforeAll(async () => {
    h = await startHarness({ backend });
    const response = await h.app.inject({
      method: 'POST',
      url: '/v1/grids',
      payload: {
        name: 'queries',
        base: tinySpec(),
        axes: { 'swav.prototypes': PROTOTYPES, 'swav.sinkhorn_iterations': ITERATIONS },
        seeds: SEEDS,
        metric: { name: 'knn_top1@20', goal: 'max' },
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    gridId = response.json().id;
    for (const id of response.json().runs.run_ids as string[]) {
      const run = await h.db.runs.getRun(id);
      if (run === null) throw new Error('missing run');
      const axes = run.axisValues as Record<string, number>;
      const prototypes = axes['swav.prototypes'] as number;
      const iterations = axes['swav.sinkhorn_iterations'] as number;
      const value = knn(prototypes, iterations, run.seed);
      const epochSeconds = [prototypes / 10 + run.seed, prototypes / 10 + run.seed + 1];
      const peakMemory = prototypes * 1000 + run.seed;
      const token = await claim(h.db, id);
      // An earlier evaluation that the final one replaces.
      await h.db.evaluations.addEvaluation(id, token, {
        name: 'knn_top1@20',
        value: 0,
        split: 'test',
        epoch: 1,
        step: 4,
      });
      await h.db.evaluations.addEvaluation(id, token, {
        name: 'knn_top1@20',
        value,
        split: 'test',
        epoch: 2,
        step: 8,
      });
      await h.db.metrics.appendMetrics(id, token, [
        { name: 'epoch_seconds', step: 4, value: epochSeconds[0] as number },
        { name: 'epoch_seconds', step: 8, value: epochSeconds[1] as number },
        { name: 'peak_memory_bytes', step: 8, value: peakMemory },
        { name: 'loss', step: 8, value: 10 - value },
      ]);
      await h.db.runs.finishRun(id, token, { status: 'succeeded' });
      seeded.push({ id, prototypes, iterations, seed: run.seed, knn: value, epochSeconds, peakMemory });
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  const cell = (prototypes: number, iterations: number) =>
    seeded.filter((run) => run.prototypes === prototypes && run.iterations === iterations);

  it('returns the 6 groups with the statistics and costs computed here, and the best group', async () => {
    const response = await get(`/v1/grids/${gridId}/results`);
    expect(response.statusCode, response.body).toBe(200);
    const results = response.json();
    expect(results).toMatchObject({
      grid_id: gridId,
      metric: 'knn_top1@20',
      goal: 'max',
      group_by: ['swav.prototypes', 'swav.sinkhorn_iterations'],
      runs_without_value: 0,
      runs_not_finished: 0,
    });
    expect(results.groups).toHaveLength(6);
    // Ordered by key, numbers numerically.
    expect(results.groups.map((g: { key: Record<string, number> }) => Object.values(g.key))).toEqual([
      [30, 1],
      [30, 3],
      [100, 1],
      [100, 3],
      [300, 1],
      [300, 3],
    ]);
    for (const group of results.groups) {
      const runs = cell(group.key['swav.prototypes'], group.key['swav.sinkhorn_iterations']);
      const values = runs.map((run) => run.knn);
      expect(group.n).toBe(3);
      expect(group.mean).toBeCloseTo(mean(values), 12);
      expect(group.std).toBeCloseTo(sampleStd(values), 12);
      expect(group.median).toBeCloseTo(median(values), 12);
      expect(group.min).toBe(Math.min(...values));
      expect(group.max).toBe(Math.max(...values));
      expect([...group.run_ids].sort()).toEqual(runs.map((run) => run.id).sort());
      expect(group.costs.epoch_seconds_mean).toBeCloseTo(mean(runs.map((run) => mean(run.epochSeconds))), 12);
      expect(group.costs.peak_memory_bytes_max).toBe(Math.max(...runs.map((run) => run.peakMemory)));
      expect(group.costs.wall_seconds_mean).toBeGreaterThanOrEqual(0);
    }

    const means = results.groups.map((g: { mean: number }) => g.mean);
    const best = results.groups[means.indexOf(Math.max(...means))];
    expect(results.best).toEqual({
      key: best.key,
      mean: best.mean,
      std: best.std,
      n: 3,
      ci95: best.ci95,
      run_ids: best.run_ids,
    });
    expect(best.best).toBe(true);

    const lowest = (await get(`/v1/grids/${gridId}/results?goal=min`)).json();
    expect(lowest.goal).toBe('min');
    expect(lowest.best.mean).toBe(Math.min(...means));
    // A training metric, one path: the loss is lowest where the accuracy is highest.
    const byLoss = (
      await get(`/v1/grids/${gridId}/results?metric=loss&group_by=swav.prototypes&goal=min`)
    ).json();
    expect(byLoss.groups.map((g: { n: number }) => g.n)).toEqual([6, 6, 6]);
    expect(byLoss.best.key).toEqual({ 'swav.prototypes': 300 });
  });

  it('exports the groups as CSV that parses back to the same numbers', async () => {
    const json = (await get(`/v1/grids/${gridId}/results`)).json();
    const response = await get(`/v1/grids/${gridId}/results?format=csv`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(response.body);
    expect(header).toEqual([
      'swav.prototypes',
      'swav.sinkhorn_iterations',
      'metric',
      'n',
      'mean',
      'std',
      'median',
      'min',
      'max',
      'ci95_low',
      'ci95_high',
      'best',
      'tied_with_best',
      'p_adjusted',
    ]);
    // The metric column names what every row measures; the numbers follow it.
    expect(new Set(rows.map((row) => row[2]))).toEqual(new Set(['knn_top1@20']));
    expect(rows.map((row) => [...row.slice(0, 2), ...row.slice(3, 9)].map(Number))).toEqual(
      json.groups.map((g: Record<string, number> & { key: Record<string, number> }) => [
        g.key['swav.prototypes'],
        g.key['swav.sinkhorn_iterations'],
        g.n,
        g.mean,
        g.std,
        g.median,
        g.min,
        g.max,
      ]),
    );
  });

  it('pivots two axes into a 3 × 2 table with numerically sorted values', async () => {
    const response = await get(
      `/v1/grids/${gridId}/pivot?rows=swav.prototypes&columns=swav.sinkhorn_iterations`,
    );
    expect(response.statusCode, response.body).toBe(200);
    const table = response.json();
    expect(table.rows).toEqual({ path: 'swav.prototypes', values: [30, 100, 300] });
    expect(table.columns).toEqual({ path: 'swav.sinkhorn_iterations', values: [1, 3] });
    expect(table.cells).toHaveLength(3);
    table.rows.values.forEach((prototypes: number, i: number) => {
      expect(table.cells[i]).toHaveLength(2);
      table.columns.values.forEach((iterations: number, j: number) => {
        const values = cell(prototypes, iterations).map((run) => run.knn);
        expect(table.cells[i][j]).toMatchObject({ n: 3, min: Math.min(...values), max: Math.max(...values) });
        expect(table.cells[i][j].mean).toBeCloseTo(mean(values), 12);
        expect(table.cells[i][j].std).toBeCloseTo(sampleStd(values), 12);
      });
    });

    const csv = parseCsv(
      (
        await get(
          `/v1/grids/${gridId}/pivot?rows=swav.prototypes&columns=swav.sinkhorn_iterations&format=csv`,
        )
      ).body,
    );
    expect(csv[0]).toEqual(['swav.prototypes', 'swav.sinkhorn_iterations=1', 'swav.sinkhorn_iterations=3']);
    expect(csv.slice(1).map((row) => row.map(Number))).toEqual(
      table.rows.values.map((value: number, i: number) => [
        value,
        table.cells[i][0].mean,
        table.cells[i][1].mean,
      ]),
    );
  });

  it('lists every cell with its value and costs', async () => {
    const response = await get(`/v1/grids/${gridId}/cells`);
    expect(response.statusCode, response.body).toBe(200);
    const { cells } = response.json();
    expect(cells).toHaveLength(18);
    expect(cells.map((c: { cell_index: number }) => c.cell_index)).toEqual([...Array(18).keys()]);
    for (const c of cells) {
      const run = seeded.find((r) => r.id === c.run_id) as SeededRun;
      expect(c).toMatchObject({
        axis_values: { 'swav.prototypes': run.prototypes, 'swav.sinkhorn_iterations': run.iterations },
        seed: run.seed,
        status: 'succeeded',
        value: run.knn,
        peak_memory_bytes: run.peakMemory,
      });
      expect(c.epoch_seconds).toBeCloseTo(mean(run.epochSeconds), 12);
    }
    const loss = (await get(`/v1/grids/${gridId}/cells?metric=loss`)).json();
    expect(loss.cells[0].value).toBeCloseTo(
      10 - (seeded.find((r) => r.id === loss.cells[0].run_id) as SeededRun).knn,
      12,
    );
  });

  it('counts the cells a later, overlapping grid shares with this one in that grid too', async () => {
    // Extending the prototypes axis re-submits the cells of 30 and 100: they are the runs that already exist.
    const response = await h.app.inject({
      method: 'POST',
      url: '/v1/grids',
      payload: {
        name: 'extended',
        base: tinySpec(),
        axes: { 'swav.prototypes': [30, 100, 1000], 'swav.sinkhorn_iterations': [1] },
        seeds: SEEDS,
        metric: { name: 'knn_top1@20', goal: 'max' },
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const extended = response.json();
    expect(extended.runs).toMatchObject({ created: 3, deduplicated: 6 });
    expect(extended.status_counts).toMatchObject({ succeeded: 6, queued: 3, total: 9 });

    const results = (await get(`/v1/grids/${extended.id}/results`)).json();
    expect(results.runs_not_finished).toBe(3);
    const shared = results.groups.map((g: { key: Record<string, number>; n: number; mean: number }) => [
      g.key['swav.prototypes'],
      g.n,
      g.mean,
    ]);
    expect(shared).toHaveLength(2);
    for (const [prototypes, n, groupMean] of shared) {
      expect(n).toBe(3);
      expect(groupMean).toBeCloseTo(mean(cell(prototypes, 1).map((run) => run.knn)), 12);
    }
    const cells = (await get(`/v1/grids/${extended.id}/cells`)).json().cells;
    expect(cells.map((c: { cell_index: number }) => c.cell_index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);

    const listed = (await get(`/v1/runs?grid=${extended.id}&page_size=100`)).json().runs;
    expect(listed).toHaveLength(9);
    const searched = (
      await get(`/v1/runs?page_size=100&q=${encodeURIComponent(`grid = '${extended.id}'`)}`)
    ).json();
    expect(searched.runs).toHaveLength(9);
    const inBoth = `grid = '${gridId}' and grid = '${extended.id}'`;
    expect((await get(`/v1/runs?page_size=100&q=${encodeURIComponent(inBoth)}`)).json().runs).toHaveLength(6);
    const notInFirst = `grid != '${gridId}' and grid = '${extended.id}'`;
    expect(
      (await get(`/v1/runs?page_size=100&q=${encodeURIComponent(notInFirst)}`)).json().runs,
    ).toHaveLength(3);
  });

  it('rejects a bad metric, path or format with a 400 naming the field, and an unknown grid with 404', async () => {
    const field = async (url: string) =>
      expectProblem(await get(url), 400, 'validation_failed').errors[0]?.path;
    expect(await field(`/v1/grids/${gridId}/results?metric=accuracy`)).toBe('metric');
    expect(await field(`/v1/grids/${gridId}/results?group_by=swav.prototypes,swav.nope`)).toBe('group_by[1]');
    expect(await field(`/v1/grids/${gridId}/results?format=xml`)).toBe('format');
    expect(await field(`/v1/grids/${gridId}/results?goal=best`)).toBe('goal');
    expect(await field(`/v1/grids/${gridId}/pivot?rows=swav.nope&columns=seed`)).toBe('rows');
    expect(await field(`/v1/grids/${gridId}/pivot?rows=seed`)).toBe('columns');
    expect(await field(`/v1/grids/${gridId}/cells?metric=knn_top1@0`)).toBe('metric');
    expectProblem(await get('/v1/grids/01NOSUCHGRID/pivot?rows=seed&columns=seed'), 404, 'not_found');
    expectProblem(await get('/v1/grids/01NOSUCHGRID/cells'), 404, 'not_found');
  });

  it('compares runs: exactly the differing spec paths, final metrics and evaluations per run', async () => {
    const [a, b, c] = [cell(30, 1)[0], cell(30, 1)[1], cell(100, 3)[0]] as [SeededRun, SeededRun, SeededRun];
    const response = await get(`/v1/compare?ids=${a.id},${b.id},${c.id}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.runs.map((r: { id: string }) => r.id)).toEqual([a.id, b.id, c.id]);
    expect(body.runs[0]).toMatchObject({ status: 'succeeded', seed: a.seed, grid_id: gridId });
    expect(body.spec_differences).toEqual([
      { path: 'seed', values: [a.seed, b.seed, c.seed] },
      { path: 'swav.prototypes', values: [30, 30, 100] },
      { path: 'swav.sinkhorn_iterations', values: [1, 1, 3] },
    ]);
    expect(body.evaluations).toEqual({ 'knn_top1@20': [a.knn, b.knn, c.knn] });
    expect(Object.keys(body.final_metrics).sort()).toEqual(['epoch_seconds', 'loss', 'peak_memory_bytes']);
    expect(body.final_metrics.peak_memory_bytes).toEqual([a.peakMemory, b.peakMemory, c.peakMemory]);
    expect(body.final_metrics.epoch_seconds).toEqual([a, b, c].map((run) => run.epochSeconds[1]));

    const queued = await createRun(h.db, { seed: 77 });
    const partial = (await get(`/v1/compare?ids=${a.id}&ids=${queued.id}`)).json();
    expect(partial.final_metrics.loss).toEqual([10 - a.knn, null]);
    expect(partial.evaluations['knn_top1@20']).toEqual([a.knn, null]);
  });

  it('rejects fewer than 2, more than 10 or repeated ids with a 400 naming ids, and a missing run with 404', async () => {
    const [a, b] = seeded as [SeededRun, SeededRun];
    const ids = async (query: string) =>
      expectProblem(await get(`/v1/compare?${query}`), 400).errors[0]?.path;
    expect(await ids(`ids=${a.id}`)).toBe('ids');
    expect(
      await ids(
        `ids=${seeded
          .slice(0, 11)
          .map((run) => run.id)
          .join(',')}`,
      ),
    ).toBe('ids');
    expect(await ids(`ids=${a.id},${a.id}`)).toBe('ids');
    expect(await ids('')).toMatch(/^ids/);
    const missing = expectProblem(await get(`/v1/compare?ids=${a.id},01NOSUCHRUN,${b.id}`), 404, 'not_found');
    expect(missing.detail).toContain('01NOSUCHRUN');
    expect(missing.errors[0]?.path).toBe('ids[1]');
  });

  describe('metric series', () => {
    let runId: string;
    let token: string;
    let series = 0;

    beforeAll(async () => {
      const run = await createRun(h.db, { seed: 4242 });
      runId = run.id;
      token = await claim(h.db, runId);
    });

    /** Distinct increasing steps with gaps; values with ties, NaN and runs of NaN. */
    const points = fc
      .array(
        fc.record({
          gap: fc.integer({ min: 1, max: 8 }),
          value: fc.oneof(
            fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }),
            fc.constantFrom(0, 1, Number.NaN),
          ),
        }),
        { minLength: 1, maxLength: 600, size: 'max' },
      )
      .map((items) => {
        let step = 0;
        return items.map(({ gap, value }) => {
          step += gap;
          return { step, value };
        });
      });

    /** metric_rollups (both block sizes) as the triggers keep it, and as recomputed from the points. */
    async function rollups(name: string) {
      const kept = await h.db
        .query`SELECT level, block, points, lowest_value, lowest_step, highest_value, highest_step FROM metric_rollups
          WHERE run_id = ${runId}::text AND name = ${name}::text ORDER BY level, block`;
      const recomputed = await h.db
        .query`SELECT level, block, points, lowest[1] AS lowest_value, lowest[2]::int AS lowest_step,
            highest[1] AS highest_value, (-highest[2])::int AS highest_step
          FROM (SELECT l.level, step >> l.level AS block, count(*)::int AS points,
              min(ARRAY[value, step::float8]) AS lowest, max(ARRAY[value, -step::float8]) AS highest
            FROM metric_points CROSS JOIN (VALUES (3), (6)) AS l(level)
            WHERE run_id = ${runId}::text AND name = ${name}::text GROUP BY 1, 2) AS b
          ORDER BY level, block`;
      expect(kept.length).toBeGreaterThan(0);
      return { kept, recomputed };
    }

    it('downsamples in SQL exactly as the JS reference does, also after points are discarded and rewritten', async () => {
      await fc.assert(
        fc.asyncProperty(
          points,
          fc.integer({ min: 2, max: 60 }),
          fc.option(fc.record({ keep: fc.double({ min: 0, max: 1, noNaN: true }), rewrite: points })),
          async (input, maxPoints, resume) => {
            const name = `prop_${series++}`;
            const batch = input.map((p) => ({ name, ...p }));
            await h.db.metrics.appendMetrics(runId, token, batch);
            // A re-delivered batch adds nothing, to the points or to their blocks.
            await h.db.metrics.appendMetrics(runId, token, batch.slice(0, Math.ceil(batch.length / 2)));
            if (resume !== null) {
              // A resumed attempt: the points after its checkpoint are discarded, then recorded anew.
              const checkpoint = Math.floor((input.at(-1)?.step ?? 0) * resume.keep);
              await h.db
                .query`DELETE FROM metric_points WHERE run_id = ${runId}::text AND name = ${name}::text
                  AND step > ${String(checkpoint)}::int RETURNING step`;
              await h.db.metrics.appendMetrics(
                runId,
                token,
                resume.rewrite.map((p) => ({ name, step: checkpoint + p.step, value: p.value })),
              );
            }
            const { kept, recomputed } = await rollups(name);
            expect(kept).toEqual(recomputed);
            const stored = await h.db.metrics.metricSeries(runId, name);
            const out = await downsampledSeries(h.db, runId, name, maxPoints);
            const expected = downsampleMinMax(stored, maxPoints);
            expect(out.totalPoints).toBe(stored.length);
            expect(out.points.map((p) => p.step)).toEqual(expected.map((p) => p.step));
            expect(out.points).toEqual(expected);
          },
        ),
        { numRuns: 40 },
      );
    });

    it('serves downsampled series, every series by default, and CSV', async () => {
      const values = Array.from({ length: 1000 }, (_, i) => (i === 500 ? Number.NaN : Math.sin(i / 50)));
      await h.db.metrics.appendMetrics(
        runId,
        token,
        values.map((value, step) => ({ name: 'loss', step, value })),
      );
      const body = (await get(`/v1/runs/${runId}/metrics?name=loss&max_points=100`)).json();
      expect(body.series).toHaveLength(1);
      expect(body.series[0].total_points).toBe(1000);
      expect(body.series[0].points.length).toBeLessThanOrEqual(100);
      expect(body.series[0].points[0].step).toBe(0);
      expect(body.series[0].points.at(-1).step).toBe(999);
      expect(
        body.series[0].points.some((p: { step: number; value: null }) => p.step === 500 && p.value === null),
      ).toBe(true);

      const all = (await get(`/v1/runs/${runId}/metrics?max_points=10`)).json();
      expect(all.series.map((s: { name: string }) => s.name)).toEqual(
        ['loss', ...Array.from({ length: series }, (_, i) => `prop_${i}`)].sort(),
      );

      const csv = parseCsv((await get(`/v1/runs/${runId}/metrics?name=loss&max_points=10&format=csv`)).body);
      expect(csv[0]).toEqual(['name', 'step', 'epoch', 'value', 'time']);
      expect(csv.slice(1).map((row) => Number(row[1]))).toEqual(
        (await get(`/v1/runs/${runId}/metrics?name=loss&max_points=10`))
          .json()
          .series[0].points.map((p: { step: number }) => p.step),
      );
    });
  });
});
