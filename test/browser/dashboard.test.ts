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
    await page.locator('button[data-sort="seed"]').click();
    expect(await firstSeed()).toBe('1');
    await page.locator('button[data-sort="seed"]').click();
    expect(await firstSeed()).toBe('103');

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
    expect(await table.locator('span[data-n="3"]').count()).toBe(6);
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
    const loss = await chartSeries(page, 'compare-loss');
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

describe('a server with API tokens', () => {
  it('asks for a token, then loads with the stored one and follows a run over SSE with a ticket', async () => {
    const token = `browser-test-${'x'.repeat(20)}`;
    const protectedStack = await startStack({ tokens: `read+submit:${token}` });
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
      // Chromium logs each refused request; only the 401s of the visit without a token are expected.
      expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await page.close();
      await protectedStack.close();
    }
  });
});
