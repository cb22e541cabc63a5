#!/usr/bin/env node
// Latency of the query endpoints at the scale researchers reach, on PGlite and on PostgreSQL, measured in one
// run: 10 grids of 1,000 cells (10,000 runs, 30,000 evaluations, ~260,000 small-series points) plus one run
// with a 1,000,000-point loss series, seeded with bulk INSERT … SELECT generate_series. Each query goes through
// the API (app.inject: routing, validation, SQL, serialisation) --repeat times after --warmup untimed calls;
// the script prints p50/p95/max per query and backend against the goal (p95 < 200 ms).
//
// Usage (the API and the database package run from their builds; Redis on 127.0.0.1:6379 backs the app):
//   npx tsc -b apps/api && node bench/queries/queries.mjs [--backends pglite,postgres] [--repeat 30]
//     [--warmup 3] [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379]
//     [--no-analyze]
// PostgreSQL runs in a fresh database that is dropped at the end. The seed is followed by ANALYZE (PostgreSQL's
// autovacuum would do it; PGlite has none), unless --no-analyze.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildApp, loadConfig } from '@swavlab/api';
import { openDatabase } from '@swavlab/db';
import { createPretrainQueue, redisConnectionOptions } from '@swavlab/queue';
import { parseExperimentSpec } from '@swavlab/spec';
import { Redis } from 'ioredis';

const GOAL_P95_MS = 200;
const GRIDS = 10;
const CELLS_PER_GRID = 1000;
const LONG_SERIES_POINTS = 1_000_000;

const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'pglite,postgres' },
    repeat: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    postgres: { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'no-analyze': { type: 'boolean', default: false },
  },
});
const repeat = Number(args.repeat);
const warmup = Number(args.warmup);
if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`--repeat: expected a positive integer`);
if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`--warmup: expected an integer ≥ 0`);
const backends = args.backends.split(',');
for (const backend of backends) {
  if (backend !== 'pglite' && backend !== 'postgres')
    throw new RangeError(`--backends: expected pglite and/or postgres, got ${backend}`);
}

/** Raw SQL without parameters (seeding and database names only ever come from this file). */
function statement(db, text) {
  return db.query(Object.assign([text], { raw: [text] }));
}

/** A realistic stored spec (defaults applied), the base every seeded run varies. */
function baseSpec() {
  const parsed = parseExperimentSpec({
    data: { source: 'synthetic', num_images: 4096, image_size: 32 },
    model: { arch: 'resnet18' },
    optim: { epochs: 20, batch_size: 64 },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const { name: _name, tags: _tags, ...spec } = parsed.spec;
  return spec;
}

// Cell c of a grid: prototypes [10 values] × sinkhorn iterations [5] × epsilon [4] × seeds [5].
const PROTOTYPES = 'ARRAY[100,300,500,1000,1500,2000,3000,4000,5000,8000]';
const ITERATIONS = 'ARRAY[1,2,3,5,10]';
const EPSILONS = 'ARRAY[0.01,0.03,0.05,0.1]';

const SEED_STATEMENTS = (spec) => [
  `INSERT INTO grids (id, name, spec, metric_name, metric_goal, cell_count, updated_at)
   SELECT 'bench-grid-' || g, 'bench grid ' || g,
     jsonb_build_object('axes', jsonb_build_object('swav.prototypes', to_jsonb(${PROTOTYPES}),
       'swav.sinkhorn_iterations', to_jsonb(${ITERATIONS}), 'swav.epsilon', to_jsonb(${EPSILONS})),
       'seeds', to_jsonb(ARRAY[1,2,3,4,5]), 'metric', jsonb_build_object('name', 'knn_top1@20', 'goal', 'max')),
     'knn_top1@20', 'max', ${CELLS_PER_GRID}, now()
   FROM generate_series(0, ${GRIDS - 1}) AS g`,
  `INSERT INTO runs (id, name, spec, spec_hash, grid_id, cell_index, axis_values, seed, status, attempt,
     created_at, queued_at, started_at, finished_at, updated_at, tags)
   SELECT 'bench-run-' || lpad(i::text, 5, '0'), 'bench run ' || i,
     jsonb_set(jsonb_set(jsonb_set(jsonb_set('${JSON.stringify(spec).replaceAll("'", "''")}'::jsonb,
       '{swav,prototypes}', to_jsonb(p)), '{swav,sinkhorn_iterations}', to_jsonb(it)),
       '{swav,epsilon}', to_jsonb(eps)), '{seed}', to_jsonb(seed)),
     'bench-' || i, 'bench-grid-' || (i / ${CELLS_PER_GRID}), c,
     jsonb_build_object('swav.prototypes', p, 'swav.sinkhorn_iterations', it, 'swav.epsilon', eps), seed,
     (CASE WHEN i % 97 = 0 THEN 'failed' ELSE 'succeeded' END)::run_status, 1,
     ts, ts, ts, ts + make_interval(secs => 600 + p / 10.0), ts, ARRAY['bench']
   FROM generate_series(0, ${GRIDS * CELLS_PER_GRID - 1}) AS i,
     LATERAL (SELECT i % ${CELLS_PER_GRID} AS c) AS cell,
     LATERAL (SELECT (${PROTOTYPES})[c % 10 + 1] AS p, (${ITERATIONS})[(c / 10) % 5 + 1] AS it,
       (${EPSILONS})[(c / 50) % 4 + 1] AS eps, c / 200 + 1 AS seed,
       timestamp '2026-01-01' + make_interval(secs => i * 60) AS ts) AS v`,
  `INSERT INTO grid_cells (grid_id, cell_index, run_id, axis_values, seed)
   SELECT grid_id, cell_index, id, axis_values, seed FROM runs WHERE grid_id LIKE 'bench-grid-%'`,
  // Two k-NN evaluations per run (the last one counts) and a linear probe.
  `INSERT INTO evaluations (id, run_id, name, value, split, epoch, step)
   SELECT r.id || '-' || e.name || '-' || e.epoch, r.id, e.name,
     0.3 + (r.spec #>> '{swav,prototypes}')::float8 / 20000 + random() / 20, 'test', e.epoch, e.epoch * 100
   FROM runs r CROSS JOIN (VALUES ('knn_top1@20', 10), ('knn_top1@20', 20), ('linear_top1', 20)) AS e(name, epoch)
   WHERE r.status = 'succeeded'`,
  // Per run: 5 epoch_seconds points, 5 peak_memory_bytes points, 15 loss points (not the long run's).
  `INSERT INTO metric_points (run_id, name, step, epoch, value)
   SELECT r.id, m.name, s * 100, s, CASE m.name
       WHEN 'epoch_seconds' THEN 30 + random() * 5
       WHEN 'peak_memory_bytes' THEN 1e9 + (r.spec #>> '{swav,prototypes}')::float8 * 1e5
       ELSE 8 - s * 0.1 - random() END
   FROM runs r
   CROSS JOIN (VALUES ('epoch_seconds', 5), ('peak_memory_bytes', 5), ('loss', 15)) AS m(name, points)
   CROSS JOIN LATERAL generate_series(1, m.points) AS s
   WHERE NOT (r.id = 'bench-run-00000' AND m.name = 'loss')`,
  `INSERT INTO metric_points (run_id, name, step, epoch, value)
   SELECT 'bench-run-00000', 'loss', s, s / 10000, 8 * exp(-s / 300000.0) + random() * 0.3
   FROM generate_series(0, ${LONG_SERIES_POINTS - 1}) AS s`,
];

function percentile(sorted, q) {
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

async function openBackend(backend) {
  if (backend === 'pglite') {
    const db = await openDatabase({ url: 'memory://' });
    return { db, drop: () => db.close() };
  }
  const name = `swavlab_bench_${randomBytes(5).toString('hex')}`;
  const admin = await openDatabase({ url: args.postgres, migrate: false });
  await statement(admin, `CREATE DATABASE ${name}`);
  const db = await openDatabase({ url: args.postgres.replace(/\/[^/]*$/, `/${name}`) });
  return {
    db,
    drop: async () => {
      await db.close();
      await statement(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

async function bench(backend, redis) {
  const { db, drop } = await openBackend(backend);
  const prefix = `bench-queries-${randomBytes(4).toString('hex')}`;
  const queue = createPretrainQueue(redis, { prefix });
  const app = await buildApp(
    {
      db,
      queue,
      redis,
      config: { ...loadConfig({}), logLevel: 'silent', redisPrefix: prefix, rateLimitPerMinute: 0 },
    },
    { logger: false },
  );
  try {
    const seedStart = performance.now();
    for (const text of SEED_STATEMENTS(baseSpec())) await statement(db, text);
    if (!args['no-analyze']) await statement(db, 'ANALYZE');
    const [{ runs, points }] = await statement(
      db,
      'SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM metric_points) AS points',
    );
    console.log(
      `${backend}: seeded ${runs} runs and ${points} metric points in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );

    const grid = 'bench-grid-3';
    const compareIds = [
      'bench-run-00000',
      'bench-run-03001',
      'bench-run-03412',
      'bench-run-07777',
      'bench-run-09999',
    ];
    const queries = [
      ['results (3 axes, 1,000 cells)', `/v1/grids/${grid}/results`],
      ['results by one path, CSV', `/v1/grids/${grid}/results?group_by=swav.prototypes&format=csv`],
      ['pivot 10 × 5', `/v1/grids/${grid}/pivot?rows=swav.prototypes&columns=swav.sinkhorn_iterations`],
      ['cells (1,000)', `/v1/grids/${grid}/cells`],
      ['1M-point series, max_points=2000', '/v1/runs/bench-run-00000/metrics?name=loss&max_points=2000'],
      ['compare 5 runs', `/v1/compare?ids=${compareIds.join(',')}`],
      ['/v1/runs page of 50', '/v1/runs?page_size=50'],
      [
        '/v1/runs q=metrics.knn_top1@20 > 0.5',
        `/v1/runs?page_size=50&q=${encodeURIComponent('metrics.knn_top1@20 > 0.5')}`,
      ],
    ];
    const rows = [];
    for (const [label, url] of queries) {
      const call = async () => {
        const response = await app.inject({ method: 'GET', url });
        if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
        return response;
      };
      for (let i = 0; i < warmup; i++) await call();
      const times = [];
      for (let i = 0; i < repeat; i++) {
        const start = performance.now();
        await call();
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const p95 = percentile(times, 0.95);
      rows.push({
        backend,
        query: label,
        'p50 ms': percentile(times, 0.5).toFixed(1),
        'p95 ms': p95.toFixed(1),
        'max ms': (times.at(-1) ?? 0).toFixed(1),
        goal: p95 < GOAL_P95_MS ? 'met' : 'MISSED',
      });
    }
    return rows;
  } finally {
    await app.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await drop();
  }
}

const redis = new Redis(redisConnectionOptions(args.redis, 'producer'));
if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
try {
  const rows = [];
  for (const backend of backends) rows.push(...(await bench(backend, redis)));
  console.log(
    `\n${repeat} timed calls per query after ${warmup} warm-up calls; goal: p95 < ${GOAL_P95_MS} ms`,
  );
  console.table(rows);
} finally {
  redis.disconnect();
}
