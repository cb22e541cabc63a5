// The dashboard in Debian's Chromium against the API in-process on a seeded PostgreSQL database: every page loads without
// console errors, charts hold the expected series and points, filters and search change the runs table, live
// progress and metric points arrive, and each page is saved as a screenshot under test/browser/artifacts/.
import type { Run } from '@swavlab/db';
import Fastify from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../../apps/api/src/routes/dashboard.js';
import {
  CURVES,
  captureErrors,
  chartData,
  chartSeries,
  curvePoints,
  ensureDashboardBuilt,
  launchChromium,
  postJson,
  record,
  type Stack,
  screenshot,
  startStack,
  tinySpec,
} from './helpers.js';

const PROTOTYPES = [30, 60, 90];
const ITERATIONS = [1, 3];
const SEEDS = [1, 2, 3];
/** Seeded runs: the 3 × 2 × 3 grid, the 2 × 2 × 2 grid, the 3 × 3 loss grid, four single runs, two regressions of three seeds. */
const TOTAL_RUNS = 18 + 8 + 9 + 4 + 6;

/**
 * The loss grid: training steps per prototype count and seed; a run's final loss is 8 − ln(steps). The lowest mean
 * loss is at 50 prototypes; 40 is tied with it (Welch p 0.86), 70 is not (p 0.0024, Holm 0.0048).
 */
const LOSS_STEPS: Record<number, number[]> = { 40: [30, 33, 36], 50: [28, 34, 40], 70: [10, 11, 12] };
const LOSS_SEEDS = [4, 5, 6];

/** t(0.975, 2) in closed form, (2p − 1) / √(2p(1 − p)): the CI of three seeds is mean ± t · std / √3. */
const T_975_2 = 0.95 / Math.sqrt(2 * 0.975 * 0.025);

function meanAndCi(values: readonly number[]): { mean: number; low: number; high: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  const half = (T_975_2 * std) / Math.sqrt(values.length);
  return { mean, low: mean - half, high: mean + half };
}

/** The k-NN accuracy a grid cell reports: best at 90 prototypes and 3 iterations. */
function knnOf(prototypes: number, iterations: number, seed: number): number {
  return 0.3 + prototypes / 1000 + iterations / 100 + seed / 1000;
}

interface Seeded {
  /** Regressions of one suite: the first promoted to the baseline (pass), the second a planted regression. */
  regressions: string[];
  grid: string;
  grid3: string;
  lossGrid: string;
  gridRuns: Run[];
  failed: Run;
  live: Run;
  liveToken: string;
  collapsed: Run;
}

let stack: Stack;
let browser: Browser;
let seeded: Seeded;

async function submitRun(seed: number, name: string): Promise<Run> {
  const { id } = await postJson<{ id: string }>(`${stack.url}/v1/runs`, { ...tinySpec(), seed, name });
  return (await stack.db.runs.getRun(id)) as Run;
}

const SUITE = {
  name: 'tiny-synthetic',
  spec: tinySpec(),
  seeds: SEEDS,
  metrics: [
    { name: 'knn_top1@20', direction: 'max', tolerance: { kind: 'absolute', value: 0.02 } },
    { name: 'loss', direction: 'min', tolerance: { kind: 'relative', value: 0.05 } },
  ],
};

/** A regression of SUITE at `commit` whose candidate runs all end with k-NN accuracy around `knn`. */
async function regression(commit: string, knn: number): Promise<string> {
  const created = await postJson<{ id: string; candidate_run_ids: string[] }>(`${stack.url}/v1/regressions`, {
    suite: SUITE,
    baseline: 'main',
    commit,
    branch: 'main',
    promote_if_missing: true,
  });
  for (const [i, id] of created.candidate_run_ids.entries()) {
    const run = (await stack.db.runs.getRun(id)) as Run;
    await record(stack.db, run, { steps: 5, knn: knn + i / 1000, outcome: 'succeeded' });
  }
  const settled = await fetch(`${stack.url}/v1/regressions/${created.id}`);
  expect(settled.status).toBe(200);
  return created.id;
}

async function seed(): Promise<Seeded> {
  const grid = await postJson<{ id: string; runs: { run_ids: string[] } }>(`${stack.url}/v1/grids`, {
    name: 'prototypes-x-iterations',
    base: tinySpec(),
    axes: { 'swav.prototypes': PROTOTYPES, 'swav.sinkhorn_iterations': ITERATIONS },
    seeds: SEEDS,
    metric: { name: 'knn_top1@20', goal: 'max' },
  });
  const gridRuns: Run[] = [];
  for (const id of grid.runs.run_ids) {
    const run = (await stack.db.runs.getRun(id)) as Run;
    const prototypes = run.axisValues?.['swav.prototypes'] as number;
    const iterations = run.axisValues?.['swav.sinkhorn_iterations'] as number;
    await record(stack.db, run, {
      steps: 20,
      knn: knnOf(prototypes, iterations, run.seed),
      epochSeconds: prototypes / 10 + iterations,
      peakMemoryBytes: prototypes * 1_000_000,
      outcome: 'succeeded',
    });
    gridRuns.push(run);
  }
  const grid3 = await postJson<{ id: string; runs: { run_ids: string[] } }>(`${stack.url}/v1/grids`, {
    name: 'three-axes',
    base: tinySpec(),
    axes: { 'swav.prototypes': [30, 60], 'swav.epsilon': [0.03, 0.05], 'swav.temperature': [0.1, 0.2] },
    seeds: [7],
    metric: { name: 'knn_top1@20', goal: 'max' },
  });
  for (const [i, id] of grid3.runs.run_ids.entries()) {
    await record(stack.db, (await stack.db.runs.getRun(id)) as Run, {
      steps: 5,
      knn: 0.4 + i / 100,
      epochSeconds: 2,
      peakMemoryBytes: 1e8,
      outcome: 'succeeded',
    });
  }
  const lossGrid = await postJson<{ id: string; runs: { run_ids: string[] } }>(`${stack.url}/v1/grids`, {
    name: 'loss-by-prototypes',
    base: tinySpec(),
    axes: { 'swav.prototypes': Object.keys(LOSS_STEPS).map(Number) },
    seeds: LOSS_SEEDS,
    metric: { name: 'loss', goal: 'min' },
  });
  for (const id of lossGrid.runs.run_ids) {
    const run = (await stack.db.runs.getRun(id)) as Run;
    const steps = LOSS_STEPS[run.axisValues?.['swav.prototypes'] as number] as number[];
    await record(stack.db, run, {
      steps: steps[LOSS_SEEDS.indexOf(run.seed)] as number,
      epochSeconds: 2,
      peakMemoryBytes: 1e8,
      outcome: 'succeeded',
    });
  }
  const failed = await submitRun(100, 'diverged-run');
  await record(stack.db, failed, { steps: 5, outcome: 'failed' });
  const live = await submitRun(101, 'live-run');
  const liveToken = await record(stack.db, live, { steps: 12, outcome: 'running' });
  const collapsed = await submitRun(102, 'collapsed-run');
  await record(stack.db, collapsed, { steps: 10, collapseAtStep: 6, knn: 0.1, outcome: 'succeeded' });
  await submitRun(103, 'queued-run');
  const regressions = [await regression('a'.repeat(40), 0.5), await regression('b'.repeat(40), 0.4)];
  return {
    regressions,
    grid: grid.id,
    grid3: grid3.id,
    lossGrid: lossGrid.id,
    gridRuns,
    failed,
    live,
    liveToken,
    collapsed,
  };
}

/** A new page that records its console errors; the test asserts there were none. */
async function open(hash: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = captureErrors(page);
  await page.goto(`${stack.url}/${hash}`);
  return { page, errors };
}

async function rowCount(page: Page): Promise<number> {
  return page.locator('table.runs tbody tr').count();
}

beforeAll(async () => {
  // The server routes the files of dist that exist when it starts, so the build comes first.
  await ensureDashboardBuilt();
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
  seeded = await seed();
});

afterAll(async () => {
  // Pages first: an open event stream would hold the server's close.
  await browser?.close();
  await stack?.close();
});

describe('serving', () => {
  it('serves index.html at / and hashed assets under /assets/, and leaves API paths alone', async () => {
    const index = await fetch(`${stack.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${stack.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    for (const outside of ['/%2e%2e/package.json', '/assets/%2e%2e/%2e%2e/package.json', '/src/main.ts']) {
      expect((await fetch(`${stack.url}${outside}`)).status, outside).toBe(404);
    }
    const missing = await fetch(`${stack.url}/v1/no-such-thing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('says to run npm run build when the dashboard has not been built', async () => {
    const app = Fastify();
    await app.register(dashboardRoutes, { root: '/nonexistent/swavlab-dashboard' });
    const response = await app.inject({ method: 'GET', url: '/' });
    await app.close();
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('npm run build');
  });
});

describe('runs table', () => {
  it('lists, filters by status, searches, reports a bad query inline, sorts and shows live progress', async () => {
    const { page, errors } = await open('#/runs');
    await expect.poll(() => rowCount(page)).toBe(TOTAL_RUNS);

    await page.getByRole('checkbox', { name: 'failed' }).check();
    await expect.poll(() => rowCount(page)).toBe(1);
    expect(await page.locator('table.runs tbody tr').getAttribute('data-run-id')).toBe(seeded.failed.id);
    await page.getByRole('checkbox', { name: 'failed' }).uncheck();
    await expect.poll(() => rowCount(page)).toBe(TOTAL_RUNS);

    const search = page.getByRole('searchbox', { name: 'search expression' });
    await search.fill('swav.prototypes = 90');
    await search.press('Enter');
    await expect.poll(() => rowCount(page)).toBe(ITERATIONS.length * SEEDS.length);
    expect(page.url()).toContain('q=swav.prototypes');

    await search.fill('swav.prototypes >');
    await search.press('Enter');
    const problem = page.locator('.search-error .problem');
    await expect.poll(() => problem.count()).toBe(1);
    expect(await problem.locator('li code').first().textContent()).toBe('q');
    expect(await page.locator('.empty').textContent()).toContain('No runs');

    await search.fill('');
    await search.press('Enter');
    await expect.poll(() => rowCount(page)).toBe(TOTAL_RUNS);
    const firstSeed = () =>
      page.locator('table.runs tbody tr').first().locator('td[data-column="seed"]').textContent();
    // Sorted on the server: the whole listing, not the shown page.
    await page.locator('button[data-sort="seed"]').click();
    await expect.poll(() => page.url()).toContain('sort=seed');
    await expect.poll(firstSeed).toBe('1');
    await page.locator('button[data-sort="seed"]').click();
    await expect.poll(firstSeed).toBe('103');
    expect(page.url()).toContain('sort=-seed');

    const liveProgress = page.locator(`tr[data-run-id="${seeded.live.id}"] .progress-text`);
    expect(await liveProgress.textContent()).toContain('step 11/24');
    await stack.db.runs.updateProgress(seeded.live.id, seeded.liveToken, { epoch: 1, step: 17 });
    await expect.poll(() => liveProgress.textContent(), { timeout: 10_000 }).toContain('step 17/24');

    await screenshot(page, 'runs.png');
    await page.goto(`${stack.url}/#/runs?grid=${seeded.grid}`);
    await expect.poll(() => rowCount(page)).toBe(PROTOTYPES.length * ITERATIONS.length * SEEDS.length);
    // Chromium logs every 4xx response; the 400 of the bad query is the one expected.
    expect(
      errors.filter((e) => !e.includes('status of 400') || !e.includes('q=swav.prototypes+%3E')),
    ).toEqual([]);
    await page.close();
  });
});

describe('run page', () => {
  it('draws the five curves, lists checkpoints, the dataset and the spec, and takes new points over SSE', async () => {
    await stack.db.runs.recordDataset(seeded.live.id, seeded.liveToken, {
      source: 'synthetic',
      classes: 10,
      pretrain_images: 52,
      eval_train_images: 52,
      eval_test_images: 12,
      skipped: 0,
    });
    for (const [name, value] of [
      ['knn_top1@5', 0.31],
      ['random_init_knn_top1@5', 0.34],
    ] as const) {
      await stack.db.evaluations.addEvaluation(seeded.live.id, seeded.liveToken, {
        name,
        value,
        split: 'test',
        epoch: 1,
        step: 6,
        checkpointId: null,
      });
    }
    const { page, errors } = await open(`#/runs/${seeded.live.id}`);
    for (const name of CURVES) {
      const [series] = await chartSeries(page, `run-${name}`);
      expect(series, name).toMatchObject({ type: 'line', name, points: 12 });
    }
    expect(await page.locator('table[aria-label="checkpoints"] code.sha').textContent()).toBe(
      'ab'.repeat(32),
    );
    expect(await page.locator('pre.spec').textContent()).toContain('"prototypes": 30');
    expect(await page.locator('table[aria-label="dataset"]').textContent()).toContain('pretraining images52');
    const check = page.locator('.learning-check[data-learned="false"]');
    expect(await check.textContent()).toContain(
      '⚠ Not learning: knn_top1@5 31.0 % against 34.0 % for the same backbone at random init at the first evaluation (step 6)',
    );
    expect(await check.locator('li').count()).toBeGreaterThan(1);
    expect(await check.textContent()).toContain('swav.prototypes');

    await stack.db.metrics.appendMetrics(seeded.live.id, seeded.liveToken, curvePoints(12, 14));
    await expect
      .poll(async () => (await chartSeries(page, 'run-loss'))[0]?.points, { timeout: 10_000 })
      .toBe(14);
    expect((await chartSeries(page, 'run-images_per_sec'))[0]?.points).toBe(14);

    expect(await page.locator('.collapse-warning').count()).toBe(0);
    await stack.db.metrics.appendMetrics(seeded.live.id, seeded.liveToken, [
      { name: 'collapse_warning', step: 13, epoch: 1, value: 1 },
    ]);
    await expect.poll(() => page.locator('.collapse-warning').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('.collapse-warning').textContent()).toContain('step 13');

    await screenshot(page, 'run-live.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a failed run with its error and traceback, and a collapse warning with its message', async () => {
    const failed = await open(`#/runs/${seeded.failed.id}`);
    const error = failed.page.locator('.run-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('diverged: loss became NaN at step 4');
    expect(await error.locator('pre.traceback').textContent()).toContain('FloatingPointError: nan loss');
    expect(await failed.page.locator('.status').first().textContent()).toBe('✗ failed');
    await screenshot(failed.page, 'run-failed.png');
    expect(failed.errors).toEqual([]);
    await failed.page.close();

    const collapsed = await open(`#/runs/${seeded.collapsed.id}`);
    const warning = collapsed.page.locator('.collapse-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toContain('prototype usage fell to 1 of 30');
    expect(await warning.textContent()).toContain('freeze the prototypes longer');
    await chartSeries(collapsed.page, 'run-loss');
    await screenshot(collapsed.page, 'run-collapse.png');
    expect(collapsed.errors).toEqual([]);
    await collapsed.page.close();
  });
});

describe('grid page', () => {
  it('plots a 3 × 2 × 3-seed grid: error-bar lines, heatmap, cost charts and the ablation table', async () => {
    const { page, errors } = await open(`#/grids/${seeded.grid}`);
    const lines = await chartSeries(page, 'grid-lines');
    expect(lines.filter((s) => s.type === 'line').map((s) => [s.name, s.points])).toEqual([
      ['sinkhorn_iterations=1', 3],
      ['sinkhorn_iterations=3', 3],
    ]);
    expect(lines.filter((s) => s.type === 'custom').map((s) => s.points)).toEqual([3, 3]);
    // The error bars of sinkhorn_iterations=3 span the 95 % CI of the three seeds' mean at each prototype count.
    const bars = (await chartData(page, 'grid-lines', 3)) as number[][];
    PROTOTYPES.forEach((prototypes, i) => {
      const { low, high } = meanAndCi(SEEDS.map((s) => knnOf(prototypes, 3, s)));
      expect(bars[i]?.[1]).toBeCloseTo(low, 9);
      expect(bars[i]?.[2]).toBeCloseTo(high, 9);
    });
    // Every cell differs from the best by far more than its spread: a star, and no group tied with it.
    expect(lines.filter((s) => s.type === 'scatter').map((s) => [s.name, s.points])).toEqual([['★ best', 1]]);
    expect(await chartSeries(page, 'grid-heatmap')).toEqual([
      expect.objectContaining({ type: 'heatmap', points: 6 }),
    ]);
    expect((await chartSeries(page, 'grid-cost-time'))[0]?.points).toBe(6);
    expect((await chartSeries(page, 'grid-cost-memory'))[0]?.points).toBe(6);

    const table = page.locator('table.ablation');
    expect(await table.locator('tbody tr').count()).toBe(PROTOTYPES.length);
    expect(await table.locator('thead tr').last().locator('th').allTextContents()).toEqual([
      'swav.prototypes',
      '1',
      '3',
    ]);
    expect(await table.locator('[data-n="3"]').count()).toBe(6);
    const best = table.locator('.best');
    expect(await best.count()).toBe(1);
    const mean = SEEDS.reduce((sum, s) => sum + knnOf(90, 3, s), 0) / SEEDS.length;
    expect(await best.textContent()).toContain(`★ ${Number(mean.toPrecision(4))}`);
    expect(await table.locator('tbody tr').last().locator('td').last().locator('.best').count()).toBe(1);

    const csv = await page.getByRole('link', { name: 'results CSV' }).getAttribute('href');
    const exported = await fetch(`${stack.url}${csv}`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await exported.text()).trim().split('\n')).toHaveLength(7);

    await screenshot(page, 'grid.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('stars the lowest loss, marks the group tied with it and draws 95 % confidence intervals', async () => {
    const { page, errors } = await open(`#/grids/${seeded.lossGrid}`);
    const stats = (prototypes: number) =>
      meanAndCi((LOSS_STEPS[prototypes] as number[]).map((steps) => 8 - Math.log(steps)));
    const series = await chartSeries(page, 'grid-lines');
    expect(series.filter((s) => s.type === 'scatter').map((s) => [s.name, s.points])).toEqual([
      ['★ best', 1],
      ['≈ tied with best', 1],
    ]);
    const [best, tied, bars] = await Promise.all([
      chartData(page, 'grid-lines', 2),
      chartData(page, 'grid-lines', 3),
      chartData(page, 'grid-lines', 1),
    ]);
    // x is the category index: 40, 50, 70 prototypes are 0, 1, 2.
    expect((best as number[][])[0]?.slice(0, 2)).toEqual([1, expect.closeTo(stats(50).mean, 9)]);
    expect((tied as number[][])[0]?.slice(0, 2)).toEqual([0, expect.closeTo(stats(40).mean, 9)]);
    [40, 50, 70].forEach((prototypes, i) => {
      const bar = (bars as number[][])[i];
      expect(bar?.[1]).toBeCloseTo(stats(prototypes).low, 9);
      expect(bar?.[2]).toBeCloseTo(stats(prototypes).high, 9);
    });

    const table = page.locator('table.ablation');
    expect(await table.locator('thead tr').last().locator('th').allTextContents()).toEqual([
      'metric',
      '40',
      '50',
      '70',
    ]);
    const cells = table.locator('tbody td');
    expect(await table.locator('.best').count()).toBe(1);
    expect(await cells.nth(1).locator('.best').count()).toBe(1);
    expect(await cells.nth(1).textContent()).toContain(`★ ${Number(stats(50).mean.toPrecision(4))}`);
    expect(await table.locator('.tied').count()).toBe(1);
    expect(await cells.nth(0).locator('.tied').count()).toBe(1);
    expect(await cells.nth(0).textContent()).toMatch(/^≈ /);
    expect(await cells.nth(2).textContent()).toMatch(/^\d/);
    const ci = stats(70);
    expect(await cells.nth(2).locator('.ci').textContent()).toBe(
      ` [${Number(ci.low.toPrecision(4))}, ${Number(ci.high.toPrecision(4))}]`,
    );
    expect(await table.locator('.ci').count()).toBe(3);
    const caption = await table.locator('caption').textContent();
    expect(caption).toContain('★ best for goal min');
    expect(caption).toContain("Welch's two-sided t-test");
    expect(caption).toContain('Holm');
    expect(caption).toContain('95 % confidence interval');
    await screenshot(page, 'grid-loss.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws parallel coordinates for three axes', async () => {
    const { page, errors } = await open(`#/grids/${seeded.grid3}`);
    expect(await chartSeries(page, 'grid-parallel')).toEqual([
      expect.objectContaining({ type: 'parallel', points: 8 }),
    ]);
    expect(await page.locator('table.ablation tbody tr').count()).toBe(4);
    await screenshot(page, 'grid-parallel.png');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('compare page', () => {
  it('shows the differing spec paths and overlays the loss curves', async () => {
    // Three cells that differ in prototypes, iterations and seed.
    const runs = [0, 4, 17].map((i) => seeded.gridRuns[i] as Run);
    const { page, errors } = await open(`#/compare?ids=${runs.map((r) => r.id).join(',')}`);
    const loss = await chartSeries(page, 'compare-curves');
    expect(loss.map((s) => [s.name, s.points])).toEqual([
      ['run 1', 20],
      ['run 2', 20],
      ['run 3', 20],
    ]);
    const paths = await page
      .locator('table[aria-label="spec differences"] tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-path')));
    const expected = ['seed', 'swav.prototypes', 'swav.sinkhorn_iterations'].filter(
      (path) =>
        new Set(runs.map((r) => JSON.stringify(path === 'seed' ? r.seed : r.axisValues?.[path]))).size > 1,
    );
    expect(paths.sort()).toEqual(expected);
    expect(expected).toHaveLength(3);
    expect(await page.locator('table[aria-label="evaluations"] .best').count()).toBe(1);
    expect(await page.locator('table[aria-label="evaluations"] tbody tr th').allTextContents()).toContain(
      'knn_top1@20',
    );
    await screenshot(page, 'compare.png');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('regression pages', () => {
  it('shows the verdict, the per-metric table and the trend over commits', async () => {
    const [promoted, planted] = seeded.regressions as [string, string];
    const { page, errors } = await open(`#/regressions/${planted}`);
    await expect.poll(() => page.locator('h1 .verdict').textContent()).toBe('✗ regression');
    const rows = page.locator('table[aria-label="per-metric verdicts"] tbody tr');
    expect(await rows.count()).toBe(2);
    const knnRow = rows.filter({ hasText: 'knn_top1@20' });
    expect(await knnRow.locator('.verdict').textContent()).toBe('✗ regression');
    expect(await knnRow.textContent()).toContain('-0.1');
    expect(await rows.filter({ hasText: 'loss' }).locator('.verdict').textContent()).toBe('✓ pass');
    for (const metric of ['knn_top1@20', 'loss']) {
      const trend = await chartSeries(page, `trend-${metric}`);
      expect(trend.map((s) => [s.type, s.points])).toEqual([
        ['line', 2],
        ['custom', 2],
      ]);
    }
    await screenshot(page, 'regression.png');
    expect(errors).toEqual([]);
    await page.close();

    const list = await open('#/regressions?suite=tiny-synthetic');
    const listed = list.page.locator('table[aria-label="regressions"] tbody tr');
    await expect.poll(() => listed.count()).toBe(2);
    expect(await listed.first().locator('.verdict').textContent()).toBe('✗ regression');
    expect(await listed.last().locator('a').first().getAttribute('href')).toBe(`#/regressions/${promoted}`);
    await screenshot(list.page, 'regressions.png');
    expect(list.errors).toEqual([]);
    await list.page.close();
  });
});

/** Browser-side expressions (the tests' TypeScript has no DOM types). */
interface Styles {
  getComputedStyle(element: unknown): { textAlign: string };
}
const TEXT_ALIGN = (element: unknown) =>
  (globalThis as unknown as Styles).getComputedStyle(element).textAlign;
const inPage = <T>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;
const themeOf = (page: Page) => inPage<string>(page, 'document.documentElement.dataset.theme');
const backgroundOf = (page: Page) => inPage<string>(page, 'getComputedStyle(document.body).backgroundColor');

/** Sets a range input's value as a user dragging it would (input event). */
async function slide(page: Page, name: string, value: string): Promise<void> {
  await page.locator(`input[name="${name}"]`).evaluate((input, v) => {
    const element = input as unknown as { value: string; dispatchEvent(event: unknown): boolean };
    element.value = v;
    element.dispatchEvent(
      new (globalThis as unknown as { Event: new (type: string, init: object) => unknown }).Event('input', {
        bubbles: true,
      }),
    );
  }, value);
}

/** The chart's option as ECharts holds it (axes, dataZoom, visualMap), for the parts the series read-out lacks. */
async function chartOption(page: Page, name: string): Promise<Record<string, unknown>> {
  await chartSeries(page, name);
  return page.evaluate((chart) => {
    interface Instance {
      getOption(): Record<string, unknown>;
    }
    const charts = (globalThis as unknown as { __swavlabCharts: Record<string, Instance> }).__swavlabCharts;
    return JSON.parse(JSON.stringify((charts[chart] as Instance).getOption())) as Record<string, unknown>;
  }, name);
}

/** The text of the tooltip ECharts shows for data item `dataIndex` of series `seriesIndex`. */
async function tooltipText(
  page: Page,
  name: string,
  seriesIndex: number,
  dataIndex: number,
  marker = 'n = ',
): Promise<string> {
  await chartSeries(page, name);
  await page.evaluate(
    ([chart, s, d]) => {
      interface Instance {
        dispatchAction(action: object): void;
      }
      const charts = (globalThis as unknown as { __swavlabCharts: Record<string, Instance> }).__swavlabCharts;
      (charts[chart as string] as Instance).dispatchAction({ type: 'showTip', seriesIndex: s, dataIndex: d });
    },
    [name, seriesIndex, dataIndex] as const,
  );
  const tooltip = page.locator(`[data-chart="${name}"] div`).filter({ hasText: marker }).last();
  await tooltip.waitFor();
  return ((await tooltip.textContent()) ?? '').replace(/\s+/g, ' ');
}

describe('grids page', () => {
  it('lists every grid with its counts, progress, axes, metric and best cell; filters and sorts', async () => {
    const { page, errors } = await open('#/runs');
    await page.getByRole('link', { name: 'Grids', exact: true }).click();
    const rows = page.locator('table.grids tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const row = page.locator(`tr[data-grid-id="${seeded.grid}"]`);
    expect(await row.locator('td[data-column="status"]').textContent()).toContain('18 succeeded');
    expect(await row.locator('td[data-column="progress"]').textContent()).toContain('18/18');
    expect(await row.locator('td[data-column="axes"]').textContent()).toBe(
      'swav.prototypes × swav.sinkhorn_iterations',
    );
    expect(await row.locator('td[data-column="metric"]').textContent()).toBe('knn_top1@20 (max)');
    expect(await row.locator('td[data-column="best"]').textContent()).toBe(
      'prototypes=90, sinkhorn_iterations=3',
    );
    const best = SEEDS.reduce((sum, s) => sum + knnOf(90, 3, s), 0) / SEEDS.length;
    expect(await row.locator('td[data-column="value"]').textContent()).toContain(
      `★ ${Number(best.toPrecision(4))}`,
    );
    expect(await row.locator('td[data-column="value"]').evaluate(TEXT_ALIGN)).toBe('right');
    // The loss grid's best is its lowest mean loss: 50 prototypes.
    expect(
      await page.locator(`tr[data-grid-id="${seeded.lossGrid}"] td[data-column="best"]`).textContent(),
    ).toBe('prototypes=50');

    await page.getByRole('searchbox', { name: 'filter grids' }).fill('epsilon');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-grid-id')).toBe(seeded.grid3);
    expect(page.url()).toContain('q=epsilon');
    await page.getByRole('searchbox', { name: 'filter grids' }).fill('');
    await page.locator('button[data-sort="name"]').click();
    expect(await rows.locator('td[data-column="name"]').allTextContents()).toEqual([
      'loss-by-prototypes',
      'prototypes-x-iterations',
      'three-axes',
    ]);
    await page.locator('button[data-sort="name"]').click();
    expect(await rows.first().locator('td[data-column="name"]').textContent()).toBe('three-axes');
    expect(page.url()).toContain('sort=-name');
    await screenshot(page, 'grids.png');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('runs table columns', () => {
  it("shows a grid's axes by default, picks columns, sorts by a metric on the server and flags failures", async () => {
    const { page, errors } = await open(`#/runs?grid=${seeded.grid}`);
    await expect.poll(() => rowCount(page)).toBe(18);
    expect(await page.locator('h1').textContent()).toBe('Runs of grid prototypes-x-iterations');
    const headers = await page.locator('table.runs thead th').allTextContents();
    expect(headers).toEqual(
      expect.arrayContaining(['swav.prototypes', 'swav.sinkhorn_iterations', 'knn_top1@20']),
    );
    const first = page.locator('table.runs tbody tr').first();
    expect(await first.locator('td[data-column="grid"]').textContent()).toBe('prototypes-x-iterations');

    await page.locator('button[data-sort="metrics.knn_top1@20"]').click();
    await expect.poll(() => page.url()).toContain('sort=metrics.knn_top1%4020');
    await expect
      .poll(() => first.locator('td[data-column="metrics.knn_top1@20"]').textContent())
      .toBe(String(Number(knnOf(30, 1, 1).toPrecision(4))));
    await page.locator('button[data-sort="metrics.knn_top1@20"]').click();
    await expect
      .poll(() => first.locator('td[data-column="metrics.knn_top1@20"]').textContent())
      .toBe(String(Number(knnOf(90, 3, 3).toPrecision(4))));
    expect(await first.locator('td[data-column="swav.prototypes"]').textContent()).toBe('90');
    expect(await first.locator('td[data-column="swav.prototypes"]').evaluate(TEXT_ALIGN)).toBe('right');

    await page.locator('.column-picker summary').click();
    await page.locator('.column-picker input[value="optim.batch_size"]').check();
    await expect.poll(() => page.url()).toContain('cols=');
    expect(await first.locator('td[data-column="optim.batch_size"]').textContent()).toBe('16');
    await page.locator('.column-picker input[value="swav.sinkhorn_iterations"]').uncheck();
    expect(await page.locator('td[data-column="swav.sinkhorn_iterations"]').count()).toBe(0);
    // Reloading the address restores the sort and the columns.
    await page.reload();
    await expect.poll(() => rowCount(page)).toBe(18);
    expect(await page.locator('td[data-column="optim.batch_size"]').count()).toBe(18);
    expect(
      await page
        .locator('table.runs tbody tr')
        .first()
        .locator('td[data-column="swav.prototypes"]')
        .textContent(),
    ).toBe('90');
    await screenshot(page, 'runs-columns.png');

    await page.goto(`${stack.url}/#/runs`);
    await expect.poll(() => rowCount(page)).toBe(TOTAL_RUNS);
    expect(
      await page.locator(`tr[data-run-id="${seeded.failed.id}"] td[data-column="flags"]`).textContent(),
    ).toBe('✗ diverged');
    expect(
      await page.locator(`tr[data-run-id="${seeded.collapsed.id}"] td[data-column="flags"]`).textContent(),
    ).toBe('⚠ collapse');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('grid page details', () => {
  it('offers only reported metrics, lays the heatmap out like the table, and links cells to their runs', async () => {
    const { page, errors } = await open(`#/grids/${seeded.grid}`);
    const select = page.locator('select[name="metric"]');
    await chartSeries(page, 'grid-lines');
    const enabled = await select
      .locator('option:not([disabled])')
      .evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
    expect(enabled).toEqual([
      'code_entropy',
      'epoch_seconds',
      'images_per_sec',
      'knn_top1@20',
      'loss',
      'lr',
      'peak_memory_bytes',
      'prototype_usage',
    ]);
    expect(await select.locator('option[value="linear_top1"]').textContent()).toBe(
      'linear_top1 (not reported)',
    );
    expect(await select.locator('option[value="linear_top1"]').isDisabled()).toBe(true);
    await page.goto(`${stack.url}/#/grids/${seeded.grid}?metric=linear_top1`);
    await expect
      .poll(() => page.locator('.metric-note').textContent())
      .toContain('No run of this grid has reported linear_top1');
    expect(await page.locator('[data-chart="grid-lines"]').count()).toBe(0);
    await page.goto(`${stack.url}/#/grids/${seeded.grid}`);

    // No labels on the points; the tooltip carries the x value, mean ± std, the CI and n.
    const lines = await chartOption(page, 'grid-lines');
    const lineSeries = (lines.series as { type: string; label?: { show?: boolean } }[]).filter(
      (s) => s.type === 'line',
    );
    expect(lineSeries.every((s) => s.label?.show !== true)).toBe(true);
    const tip = await tooltipText(page, 'grid-lines', 2, 2);
    const stats = meanAndCi(SEEDS.map((s) => knnOf(90, 3, s)));
    expect(tip).toContain('sinkhorn_iterations=3');
    expect(tip).toContain('swav.prototypes = 90');
    expect(tip).toContain(`mean ${Number(stats.mean.toPrecision(4))} ± `);
    expect(tip).toContain(
      `95 % CI [${Number(stats.low.toPrecision(4))}, ${Number(stats.high.toPrecision(4))}]`,
    );
    expect(tip).toContain('n = 3 · ★ best');

    // Rows top to bottom as in the table, a colour bar with its numbers, a border on the best cell.
    const heat = await chartOption(page, 'grid-heatmap');
    expect((heat.yAxis as { inverse: boolean; data: string[] }[])[0]).toMatchObject({
      inverse: true,
      data: ['30', '60', '90'],
    });
    const bar = (heat.visualMap as { text: string[] }[])[0];
    const means = PROTOTYPES.flatMap((p) =>
      ITERATIONS.map((i) => SEEDS.reduce((a, s) => a + knnOf(p, i, s), 0) / 3),
    );
    expect(bar?.text).toEqual([
      String(Number(Math.max(...means).toPrecision(4))),
      String(Number(Math.min(...means).toPrecision(4))),
    ]);
    const cells = (await chartData(page, 'grid-heatmap', 0)) as {
      value: number[];
      itemStyle?: { borderWidth: number };
    }[];
    expect(cells.filter((c) => c.itemStyle?.borderWidth === 4).map((c) => c.value.slice(0, 2))).toEqual([
      [1, 2],
    ]);
    expect(await tooltipText(page, 'grid-heatmap', 0, 0)).toContain('95 % CI [');
    // Cost points are named on hover, not by labels beside each.
    const cost = await chartOption(page, 'grid-cost-time');
    expect((cost.series as { label?: { show?: boolean } }[])[0]?.label?.show).not.toBe(true);
    expect(await tooltipText(page, 'grid-cost-time', 0, 0, 'epoch seconds')).toMatch(
      /prototypes=\d+, sinkhorn_iterations=\d+epoch seconds \(mean\): [\d.]+knn_top1@20: [\d.]+/,
    );

    const link = page.locator('table.ablation tbody tr').last().locator('td').last().locator('a');
    await link.click();
    await expect.poll(() => rowCount(page)).toBe(3);
    expect(new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('q')).toBe(
      'swav.prototypes = 90 and swav.sinkhorn_iterations = 3',
    );
    // A run of the cell names its grid.
    await page.locator('table.runs tbody tr td[data-column="name"] a').first().click();
    await expect
      .poll(() => page.locator('.run-facts').textContent())
      .toContain('grid prototypes-x-iterations');
    await page.goBack();
    await page.goBack();

    const csv = page.getByRole('link', { name: 'results CSV' });
    expect(await csv.getAttribute('download')).toBe('prototypes-x-iterations-knn_top1_20-results.csv');
    const exported = await (await fetch(`${stack.url}${await csv.getAttribute('href')}`)).text();
    expect(exported.split('\n')[0]).toContain('swav.sinkhorn_iterations,metric,n,mean');
    expect(exported.split('\n')[1]).toContain(',knn_top1@20,3,');
    await screenshot(page, 'grid-details.png');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('curves', () => {
  it('smooths, switches x to epoch and time, uses a log axis and zooms on the run page', async () => {
    const { page, errors } = await open(`#/runs/${seeded.collapsed.id}`);
    const raw = (await chartData(page, 'run-loss', 0)) as [number, number][];
    expect(raw).toHaveLength(10);
    await slide(page, 'smoothing', '0.9');
    await expect
      .poll(async () => ((await chartData(page, 'run-loss', 0)) as [number, number][])[9]?.[1])
      .not.toBe(raw[9]?.[1]);
    const smoothed = (await chartData(page, 'run-loss', 0)) as [number, number][];
    // A debiased EMA starts at the first value and lags behind a falling loss.
    expect(smoothed[0]?.[1]).toBeCloseTo(raw[0]?.[1] as number, 9);
    expect(smoothed[9]?.[1]).toBeGreaterThan(raw[9]?.[1] as number);
    await page.getByRole('checkbox', { name: 'log y' }).check();
    expect(((await chartOption(page, 'run-loss')).yAxis as { type: string }[])[0]?.type).toBe('log');
    await page.getByRole('combobox', { name: 'x axis of the curves' }).selectOption('epoch');
    const byEpoch = await chartOption(page, 'run-loss');
    expect((byEpoch.xAxis as { name: string }[])[0]?.name).toBe('epoch');
    expect((byEpoch.dataZoom as { type: string }[]).map((z) => z.type).sort()).toEqual(['inside', 'slider']);
    await page.getByRole('combobox', { name: 'x axis of the curves' }).selectOption('time');
    expect(((await chartOption(page, 'run-loss')).xAxis as { name: string }[])[0]?.name).toBe(
      'wall time (s)',
    );
    await screenshot(page, 'run-curves-controls.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('groups a grid’s curves by an axis with a band over the seeds, and overlays any metric in compare', async () => {
    const { page, errors } = await open(`#/grids/${seeded.grid}`);
    const series = await chartSeries(page, 'grid-curves');
    expect(series.filter((s) => s.type === 'line').map((s) => [s.name, s.points])).toEqual([
      ['prototypes=30 (6 runs)', 20],
      ['prototypes=60 (6 runs)', 20],
      ['prototypes=90 (6 runs)', 20],
    ]);
    // The seeded curves are the same for every run: the min–max band has zero width.
    const band = (await chartData(page, 'grid-curves', 3)) as number[][];
    expect(band).toHaveLength(20);
    expect(band[5]?.[1]).toBeCloseTo(band[5]?.[2] as number, 12);
    await page.getByRole('combobox', { name: 'group by' }).selectOption('swav.sinkhorn_iterations');
    await expect
      .poll(async () =>
        (await chartSeries(page, 'grid-curves')).filter((s) => s.type === 'line').map((s) => s.name),
      )
      .toEqual(['sinkhorn_iterations=1 (9 runs)', 'sinkhorn_iterations=3 (9 runs)']);
    await page.getByRole('combobox', { name: 'band' }).selectOption('none');
    await expect.poll(async () => (await chartSeries(page, 'grid-curves')).length).toBe(2);
    await screenshot(page, 'grid-curves.png');
    expect(errors).toEqual([]);
    await page.close();

    const runs = [0, 4, 17].map((i) => seeded.gridRuns[i] as Run);
    const compare = await open(`#/compare?ids=${runs.map((r) => r.id).join(',')}`);
    await chartSeries(compare.page, 'compare-curves');
    await compare.page.getByRole('combobox', { name: 'metric to overlay' }).selectOption('lr');
    await expect
      .poll(
        async () =>
          ((await chartOption(compare.page, 'compare-curves')).title as { text: string }[])[0]?.text,
      )
      .toBe('lr');
    const lr = (await chartData(compare.page, 'compare-curves', 0)) as [number, number][];
    expect(lr[3]?.[1]).toBeCloseTo(0.1 * (1 - 3 / 1000), 12);
    expect(compare.page.url()).toContain('metric=lr');
    expect(compare.errors).toEqual([]);
    await compare.page.close();
  });
});

describe('layout and theme', () => {
  it('fits 390 px wide screens without scrolling the page sideways', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors = captureErrors(page);
    for (const [hash, file] of [
      ['#/runs', 'narrow-runs.png'],
      ['#/grids', 'narrow-grids.png'],
      [`#/grids/${seeded.grid}`, 'narrow-grid.png'],
      [`#/runs/${seeded.live.id}`, 'narrow-run.png'],
      [
        `#/compare?ids=${seeded.gridRuns
          .slice(0, 2)
          .map((r) => r.id)
          .join(',')}`,
        'narrow-compare.png',
      ],
      [`#/regressions/${seeded.regressions[1]}`, 'narrow-regression.png'],
    ] as const) {
      await page.goto(`${stack.url}/${hash}`);
      await page.locator('main .page > :nth-child(2)').waitFor();
      await page.waitForTimeout(300);
      const widths = await inPage<{ page: number; view: number }>(
        page,
        '({ page: document.documentElement.scrollWidth, view: innerWidth })',
      );
      expect(widths.page, hash).toBeLessThanOrEqual(widths.view);
      // Charts take the narrow width.
      for (const width of await page
        .locator('[data-chart] canvas')
        .evaluateAll((canvases) => canvases.map((c) => c.getBoundingClientRect().width))) {
        expect(width, hash).toBeLessThanOrEqual(390);
      }
      await screenshot(page, file);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows prefers-color-scheme, toggles the theme, and draws charts in both', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const errors = captureErrors(page);
    await page.goto(`${stack.url}/#/grids/${seeded.grid}`);
    await chartSeries(page, 'grid-heatmap');
    expect(await themeOf(page)).toBe('dark');
    expect(await backgroundOf(page)).toBe('rgb(13, 17, 23)');
    const darkHeat = await chartOption(page, 'grid-heatmap');
    expect((darkHeat.visualMap as { inRange: { color: string[] } }[])[0]?.inRange.color).toEqual([
      '#1b2533',
      '#6cb6ff',
    ]);
    await screenshot(page, 'dark-grid.png');
    await page.goto(`${stack.url}/#/runs/${seeded.live.id}`);
    await chartSeries(page, 'run-loss');
    await screenshot(page, 'dark-run.png');
    await page.goto(`${stack.url}/#/grids`);
    await page.locator('table.grids').waitFor();
    await screenshot(page, 'dark-grids.png');

    await page.getByRole('button', { name: 'switch to the light theme' }).click();
    expect(await themeOf(page)).toBe('light');
    expect(await backgroundOf(page)).toBe('rgb(255, 255, 255)');
    await page.goto(`${stack.url}/#/grids/${seeded.grid}`);
    const lightHeat = await chartOption(page, 'grid-heatmap');
    expect((lightHeat.visualMap as { inRange: { color: string[] } }[])[0]?.inRange.color).toEqual([
      '#f1f5f9',
      '#1f5fa8',
    ]);
    // The choice outlives the page.
    await page.reload();
    expect(await themeOf(page)).toBe('light');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('requests nothing from the internet on any page, and /docs and the queue dashboard log no CSP error', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = captureErrors(page);
    const outside: string[] = [];
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(stack.url) && !url.startsWith('data:') && !url.startsWith('blob:'))
        outside.push(url);
    });
    for (const path of [
      '/#/runs',
      '/#/grids',
      `/#/grids/${seeded.grid}`,
      `/#/runs/${seeded.collapsed.id}`,
      `/#/compare?ids=${seeded.gridRuns
        .slice(0, 2)
        .map((r) => r.id)
        .join(',')}`,
      '/#/regressions',
      '/docs/',
      '/admin/queues',
    ]) {
      await page.goto(`${stack.url}${path}`);
      await page.waitForLoadState('networkidle');
    }
    expect(await page.locator('body').textContent()).toContain('pretrain');
    await page.goto(`${stack.url}/docs/`);
    await page.locator('.swagger-ui .info').waitFor();
    await page.waitForLoadState('networkidle');
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('actions', () => {
  it('cancels and retries runs and re-runs failed cells and adds seeds, after a confirmation', async () => {
    const { page, errors } = await open(`#/runs/${seeded.failed.id}`);
    const questions: string[] = [];
    page.on('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    });
    expect(await page.locator('button[data-action="cancel"]').count()).toBe(0);
    await page.locator('button[data-action="retry"]').click();
    await expect.poll(() => page.locator('.run-facts .status').first().textContent()).toBe('… queued');
    expect(questions[0]).toContain('Retry diverged-run?');
    expect((await stack.db.runs.getRun(seeded.failed.id))?.status).toBe('queued');
    // Queued again: now it can be canceled.
    await page.locator('button[data-action="cancel"]').click();
    await expect.poll(() => page.locator('.run-facts .status').first().textContent()).toBe('⊘ canceled');
    expect((await stack.db.runs.getRun(seeded.failed.id))?.status).toBe('canceled');
    await screenshot(page, 'run-actions.png');

    await page.goto(`${stack.url}/#/grids/${seeded.grid3}`);
    await page.locator('button[data-action="rerun-failed"]').click();
    await expect.poll(() => page.locator('.action-result').textContent()).toBe('0 run(s) queued again');
    await page.locator('input[name="add-seeds"]').fill('2');
    await page.locator('button[data-action="add-seeds"]').click();
    await expect
      .poll(() => page.locator('.action-result').textContent())
      .toBe('seeds 8, 9 added: 16 new run(s) queued');
    expect(questions.at(-1)).toContain('Add 2 seed(s) to every cell of three-axes?');
    expect((await stack.db.grids.gridStatusCounts(seeded.grid3))?.queued).toBe(16);
    await expect.poll(() => page.locator('.grid-status').textContent()).toContain('16 queued');
    await screenshot(page, 'grid-actions.png');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('a server with API tokens', () => {
  it('asks for a token, then loads with the stored one and follows a run over SSE with a ticket', async () => {
    const token = `browser-test-${'x'.repeat(20)}`;
    const reader = `browser-reader-${'y'.repeat(20)}`;
    const protectedStack = await startStack({ tokens: `read+submit:${token},read:${reader}` });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const errors = captureErrors(page);
      const { id } = await postJson<{ id: string }>(
        `${protectedStack.url}/v1/runs`,
        { ...tinySpec(), seed: 200, name: 'protected-run' },
        token,
      );
      const run = (await protectedStack.db.runs.getRun(id)) as Run;
      const attempt = await record(protectedStack.db, run, { steps: 6, outcome: 'running' });

      await page.goto(`${protectedStack.url}/#/runs`);
      const problem = page.locator('.problem');
      await problem.waitFor();
      expect(await problem.textContent()).toContain('needs an API token');

      await page.evaluate((value) => {
        const storage = (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } })
          .sessionStorage;
        storage.setItem('swavlab.token', value);
      }, token);
      const streams: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes('/events')) streams.push(request.url());
      });
      await page.goto(`${protectedStack.url}/#/runs/${id}`);
      await expect.poll(async () => (await chartSeries(page, 'run-loss'))[0]?.points).toBe(6);
      await protectedStack.db.metrics.appendMetrics(id, attempt, curvePoints(6, 8));
      await expect
        .poll(async () => (await chartSeries(page, 'run-loss'))[0]?.points, { timeout: 15_000 })
        .toBe(8);
      expect(streams.some((url) => /\/events\?ticket=[\w-]+$/.test(url))).toBe(true);
      // The read+submit token sees the run's cancel button; a read-only token does not.
      expect(await page.locator('button[data-action="cancel"]').count()).toBe(1);
      await page.evaluate((value) => {
        const storage = (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } })
          .sessionStorage;
        storage.setItem('swavlab.token', value);
      }, reader);
      await page.reload();
      await expect.poll(async () => (await chartSeries(page, 'run-loss'))[0]?.points).toBe(8);
      expect(await page.locator('button[data-action="cancel"]').count()).toBe(0);
      // Chromium logs each refused request; only the 401s of the visit without a token are expected.
      expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await page.close();
      await protectedStack.close();
    }
  });
});
