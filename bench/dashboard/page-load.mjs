#!/usr/bin/env node
// Time to a usable dashboard page on a 10,000-run database: 10 grids of 1,000 cells (prototypes × iterations ×
// epsilon × 5 seeds), each run finished with a k-NN evaluation and a 20-point loss series, all written through the
// db package's repositories as the API and a worker write them (createGrid, claimRun, appendMetrics,
// addEvaluation, finishRun). The API serves the built dashboard from a fresh PostgreSQL database; Debian's Chromium
// (playwright-core) opens each page --repeat times in a new tab and the script prints the median and the worst
// time from navigation to the page's table or chart being drawn (the element the user waits for).
//
// Usage (builds first: npm run build; PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379, /usr/bin/chromium):
//   node bench/dashboard/page-load.mjs [--repeat 5] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
//     [--redis redis://127.0.0.1:6379]
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig, startApiServer } from '@swavlab/api';
import { openDatabase } from '@swavlab/db';
import { parseExperimentSpec } from '@swavlab/spec';
import { chromium } from 'playwright-core';

const GRIDS = 10;
const PROTOTYPES = [100, 300, 500, 1000, 1500, 2000, 3000, 4000, 5000, 8000];
const ITERATIONS = [1, 2, 3, 5, 10];
const EPSILONS = [0.01, 0.03, 0.05, 0.1];
const SEEDS = [1, 2, 3, 4, 5];
const POINTS = 20;
/** Runs finished at once: each is four repository calls. */
const CONCURRENCY = 16;

const { values: args } = parseArgs({
  options: {
    repeat: { type: 'string', default: '5' },
    postgres: { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const repeat = Number(args.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError('--repeat: expected a positive integer');

function spec(prototypes, iterations, epsilon, seed) {
  const parsed = parseExperimentSpec({
    seed,
    data: { source: 'synthetic', num_images: 4096, image_size: 32 },
    model: { arch: 'resnet18' },
    swav: { prototypes, sinkhorn_iterations: iterations, epsilon },
    optim: { epochs: 20, batch_size: 64 },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const { name: _name, tags: _tags, ...stored } = parsed.spec;
  return stored;
}

function cells(grid) {
  const out = [];
  for (const prototypes of PROTOTYPES)
    for (const iterations of ITERATIONS)
      for (const epsilon of EPSILONS)
        for (const seed of SEEDS) {
          const stored = spec(prototypes, iterations, epsilon, seed);
          out.push({
            spec: stored,
            // Distinct per grid, so that the grids do not share their runs (as identical specs would).
            specHash: createHash('sha256').update(JSON.stringify({ grid, stored })).digest('hex'),
            seed,
            axisValues: {
              'swav.prototypes': prototypes,
              'swav.sinkhorn_iterations': iterations,
              'swav.epsilon': epsilon,
            },
          });
        }
  return out;
}

/** A run as a worker finishes it: claimed, its loss series, a k-NN evaluation, succeeded. */
async function finish(db, run, cell) {
  const { token } = await db.runs.claimRun(run.id, { workerHost: 'bench', device: 'cpu' });
  const axes = cell.axisValues;
  const knn =
    0.3 +
    Math.log10(axes['swav.prototypes']) / 20 +
    axes['swav.sinkhorn_iterations'] / 200 +
    cell.seed / 1000;
  await db.metrics.appendMetrics(
    run.id,
    token,
    Array.from({ length: POINTS }, (_, step) => ({
      name: 'loss',
      step,
      epoch: step,
      value: 8 - Math.log1p(step),
    })),
  );
  await db.evaluations.addEvaluation(run.id, token, {
    name: 'knn_top1@20',
    value: knn,
    split: 'test',
    epoch: POINTS - 1,
    step: POINTS - 1,
  });
  await db.runs.finishRun(run.id, token, {
    status: 'succeeded',
    finalMetrics: { loss: 8 - Math.log1p(POINTS - 1), 'knn_top1@20': knn },
  });
}

async function seed(db) {
  const started = performance.now();
  const grids = [];
  for (let g = 0; g < GRIDS; g++) {
    const all = cells(g);
    const created = await db.grids.createGrid({
      name: `bench grid ${g}`,
      spec: {
        axes: {
          'swav.prototypes': PROTOTYPES,
          'swav.sinkhorn_iterations': ITERATIONS,
          'swav.epsilon': EPSILONS,
        },
        seeds: SEEDS,
        metric: { name: 'knn_top1@20', goal: 'max' },
      },
      metricName: 'knn_top1@20',
      metricGoal: 'max',
      cellCount: all.length,
      cells: [all],
    });
    grids.push(created.grid.id);
    const runs = created.runs.map((r) => r.run);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < runs.length) {
          const i = next++;
          await finish(db, runs[i], all[i]);
        }
      }),
    );
    process.stderr.write(
      `seeded grid ${g + 1}/${GRIDS} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
    );
  }
  await db.query(Object.assign(['ANALYZE'], { raw: ['ANALYZE'] }));
  return grids;
}

/** Milliseconds from navigation to `ready` (a selector, or a chart name registered by the dashboard). */
async function timePage(browser, url, ready) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const started = performance.now();
  await page.goto(url);
  if (ready.chart) {
    await page.waitForFunction((name) => globalThis.__swavlabCharts?.[name] !== undefined, ready.chart, {
      timeout: 120_000,
    });
  } else {
    await page.locator(ready.selector).first().waitFor({ timeout: 120_000 });
  }
  const elapsed = performance.now() - started;
  await page.close();
  return elapsed;
}

const name = `bench_dashboard_${randomBytes(4).toString('hex')}`;
const admin = await openDatabase({ url: args.postgres, migrate: false });
await admin.query(Object.assign([`CREATE DATABASE ${name}`], { raw: [`CREATE DATABASE ${name}`] }));
const db = await openDatabase({ url: args.postgres.replace(/\/[^/]*$/, `/${name}`) });
const prefix = `bench-dashboard-${randomBytes(4).toString('hex')}`;
let server;
let browser;
try {
  const grids = await seed(db);
  const [run] = (await db.runs.listRuns({ gridId: grids[0], pageSize: 1 })).runs;
  server = await startApiServer(
    {
      ...loadConfig({ REDIS_URL: args.redis }),
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      redisPrefix: prefix,
      queuePrefix: prefix,
      rateLimitPerMinute: 0,
    },
    { db },
  );
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const pages = [
    ['runs table (newest first)', '#/runs', { selector: 'table.runs tbody tr' }],
    [
      'runs table sorted by k-NN (server)',
      '#/runs?sort=-metrics.knn_top1@20',
      { selector: 'table.runs tbody tr' },
    ],
    [
      'runs of a grid with axis columns',
      `#/runs?grid=${grids[0]}`,
      { selector: 'td[data-column="swav.epsilon"]' },
    ],
    ['grids page (10 grids, best cells)', '#/grids', { selector: 'table.grids tbody tr' }],
    ['grid page: line chart', `#/grids/${grids[0]}`, { chart: 'grid-lines' }],
    ['grid page: ablation table', `#/grids/${grids[0]}`, { selector: 'table.ablation' }],
    ['grid page: curves by axis (60 runs)', `#/grids/${grids[0]}`, { chart: 'grid-curves' }],
    ['run page: loss curve', `#/runs/${run.id}`, { chart: 'run-loss' }],
  ];
  console.log(
    `page-load on ${GRIDS * PROTOTYPES.length * ITERATIONS.length * EPSILONS.length * SEEDS.length} runs, ${repeat} loads each (PostgreSQL, Chromium)`,
  );
  for (const [label, hash, ready] of pages) {
    const times = [];
    for (let i = 0; i < repeat; i++) times.push(await timePage(browser, `${server.url}/${hash}`, ready));
    times.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(40)} median ${times[Math.floor(times.length / 2)].toFixed(0).padStart(6)} ms   max ${times.at(-1).toFixed(0).padStart(6)} ms`,
    );
  }
} finally {
  await browser?.close();
  await server?.close();
  await db.close();
  await admin.query(
    Object.assign([`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], {
      raw: [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`],
    }),
  );
  await admin.close();
}
