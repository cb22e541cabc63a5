#!/usr/bin/env node
// Control-plane throughput and latency, measured side by side in one run against a real `swavlab api` process
// (PostgreSQL, Redis), with /healthz — a request that does no work — as the baseline of what this machine and
// this load generator can do at all. Phases, each bounded in requests:
//   healthz            GET /healthz                                   (baseline)
//   submit             POST /v1/runs, every body a distinct spec      (then: each run in the database and the queue once)
//   list               GET /v1/runs?page_size=50
//   list (db token)    GET /v1/runs with a token stored in the database (the others use an environment token)
//   grid 10,000        POST /v1/grids of 100 × 100 cells, while /healthz is probed every 25 ms
// Prints requests/s, p50 and p99 per phase, the ratio to the baseline, and the goals of issue 13.
//
// Usage (after `npm run build`): node bench/api/control-plane.mjs [--requests 2000] [--concurrency 50]
//   [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379]
//   [--profile DIR]   (a V8 CPU profile of the API process, written to DIR when it stops)
// The database is created fresh and dropped at the end; the queue lives under a prefix of its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '@swavlab/db';
import { createPretrainQueue, redisConnectionOptions } from '@swavlab/queue';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '50' },
    postgres: { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    profile: { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
if (!Number.isInteger(REQUESTS) || REQUESTS < 1)
  throw new RangeError('--requests: expected a positive integer');
if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1)
  throw new RangeError('--concurrency: expected a positive integer');

const CLI = fileURLToPath(new URL('../../apps/cli/bin/swavlab.mjs', import.meta.url));
const ENV_TOKEN = `bench-${randomBytes(16).toString('hex')}`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** `count` requests made by `concurrency` loops; returns requests/s, p50, p99 (ms) and the failures. */
async function load(count, concurrency, request) {
  const latencies = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        const response = await request(i).catch(() => null);
        latencies.push(performance.now() - t);
        if (response === null || !response.ok) failures += 1;
        await response?.arrayBuffer().catch(() => undefined);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: count / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), failures };
}

async function main() {
  const dbName = `swavlab_bench_api_${randomBytes(5).toString('hex')}`;
  const admin = await openDatabase({ url: args.postgres, migrate: false });
  await admin.query(Object.assign([`CREATE DATABASE ${dbName}`], { raw: [`CREATE DATABASE ${dbName}`] }));
  const url = args.postgres.replace(/\/[^/]*$/, `/${dbName}`);
  const db = await openDatabase({ url });
  const { token: dbToken } = await db.tokens.createApiToken('bench', ['read', 'submit']);
  const prefix = `bench-api-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`];
  const api = spawn(process.execPath, [...profile, CLI, 'api', '--port', String(port)], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      REDIS_URL: args.redis,
      SWAVLAB_QUEUE_PREFIX: prefix,
      SWAVLAB_REDIS_PREFIX: prefix,
      SWAVLAB_API_TOKENS: ENV_TOKEN,
      SWAVLAB_API_RATE_LIMIT: '0',
      SWAVLAB_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const queue = createPretrainQueue(redisConnectionOptions(args.redis, 'worker'), { prefix });
  const base = `http://127.0.0.1:${port}`;
  const auth = (token) => ({ authorization: `Bearer ${token}` });
  try {
    for (let i = 0; ; i += 1) {
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 600) throw new Error('the API did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const get =
      (path, token = ENV_TOKEN) =>
      () =>
        fetch(`${base}${path}`, { headers: auth(token) });
    const submit = (i) =>
      fetch(`${base}/v1/runs`, {
        method: 'POST',
        headers: { ...auth(ENV_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ seed: i, model: { arch: 'tiny' }, tags: ['bench'] }),
      });
    // Warm-up: every route once, so that no phase pays for first-use compilation.
    await load(50, 10, get('/healthz'));
    await load(50, 10, (i) => submit(1_000_000 + i));
    await load(50, 10, get('/v1/runs?page_size=50'));

    const results = [];
    const healthz = await load(REQUESTS, CONCURRENCY, get('/healthz'));
    results.push(['healthz', healthz]);
    results.push(['submit', await load(REQUESTS, CONCURRENCY, submit)]);
    results.push(['list', await load(REQUESTS, CONCURRENCY, get('/v1/runs?page_size=50'))]);
    results.push([
      'list (db token)',
      await load(REQUESTS, CONCURRENCY, get('/v1/runs?page_size=50', dbToken)),
    ]);

    const [stored] = await db.query`SELECT count(*)::int AS n FROM runs WHERE seed < ${REQUESTS}`;
    const jobs = await queue.count();

    let probing = true;
    const probes = [];
    const prober = (async () => {
      while (probing) {
        const t = performance.now();
        await fetch(`${base}/healthz`).catch(() => undefined);
        probes.push(performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const grid = {
      base: { model: { arch: 'tiny' }, optim: { warmup_epochs: 0 } },
      axes: {
        'swav.prototypes': Array.from({ length: 100 }, (_, i) => i + 2),
        'optim.epochs': Array.from({ length: 100 }, (_, i) => i + 1),
      },
    };
    const t = performance.now();
    const response = await fetch(`${base}/v1/grids`, {
      method: 'POST',
      headers: { ...auth(ENV_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify(grid),
    });
    const gridSeconds = (performance.now() - t) / 1000;
    probing = false;
    await prober;
    probes.sort((a, b) => a - b);

    const row = (name, r) =>
      `${name.padEnd(18)}${r.rps.toFixed(0).padStart(8)}${r.p50.toFixed(1).padStart(9)}${r.p99.toFixed(1).padStart(9)}` +
      `${(r.rps / healthz.rps).toFixed(2).padStart(10)}${String(r.failures).padStart(8)}`;
    console.log(
      `${REQUESTS} requests per phase, concurrency ${CONCURRENCY}, swavlab api on PostgreSQL and Redis`,
    );
    console.log(
      `${'phase'.padEnd(18)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'×healthz'.padStart(10)}${'errors'.padStart(8)}`,
    );
    for (const [name, r] of results) console.log(row(name, r));
    console.log(
      `submitted runs stored: ${stored.n} of ${REQUESTS}; jobs in the queue: ${jobs} (50 warm-up runs included)`,
    );
    console.log(
      `grid of 10,000 cells: ${response.status} in ${gridSeconds.toFixed(2)} s; /healthz meanwhile: ` +
        `${probes.length} probes, p50 ${quantile(probes, 0.5).toFixed(1)} ms, p99 ${quantile(probes, 0.99).toFixed(1)} ms`,
    );
    const submitResult = results[1][1];
    const listResult = results[2][1];
    console.log(
      `goals: submit ≥ 1000/s with p99 < 100 ms: ${submitResult.rps >= 1000 && submitResult.p99 < 100 ? 'met' : 'not met'}; ` +
        `list ≥ 1000/s: ${listResult.rps >= 1000 ? 'met' : 'not met'}; grid < 3 s with /healthz p99 < 100 ms: ` +
        `${gridSeconds < 3 && quantile(probes, 0.99) < 100 ? 'met' : 'not met'}`,
    );
  } finally {
    api.kill('SIGTERM');
    await new Promise((resolve) => api.once('exit', resolve));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await db.close();
    const drop = `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`;
    await admin.query(Object.assign([drop], { raw: [drop] }));
    await admin.close();
  }
}

await main();
