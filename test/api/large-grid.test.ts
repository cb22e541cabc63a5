// Grids at the documented limit of 10,000 cells, on PostgreSQL: created whole and queued once, with the server
// answering other requests meanwhile; and an API process killed while it queues one, after which the grid
// completes without being submitted again (the workers' reconciler queues what the dead process had not).
import { type ChildProcess, spawn } from 'node:child_process';
import { createEvaluateQueue, pretrainJobOptions } from '@swavlab/queue';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../../apps/worker/src/reconciler.js';
import { CLI_BIN, cliEnv, ensureCliBuilt, freePort } from '../cli/helpers.js';
import {
  capturingLogger,
  freshDatabase,
  openQueue,
  REDIS_URL,
  REPO_ROOT,
  Resources,
  testPrefix,
  waitFor,
} from '../worker/helpers.js';

/** A grid of `rows` × 100 cells of the tiny backbone. */
function gridOf(rows: number) {
  return {
    name: `large-${rows}`,
    base: { model: { arch: 'tiny' }, optim: { warmup_epochs: 0 } },
    axes: {
      'swav.prototypes': Array.from({ length: rows }, (_, i) => i + 2),
      'optim.epochs': Array.from({ length: 100 }, (_, i) => i + 1),
    },
  };
}

/** `swavlab api` as a process of its own on `port`. */
function startApi(env: NodeJS.ProcessEnv, port: number): ChildProcess {
  const child = spawn(process.execPath, [CLI_BIN, 'api', '--port', String(port)], {
    env,
    cwd: REPO_ROOT,
    stdio: 'ignore',
  });
  return child;
}

async function answering(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`)).ok;
  } catch {
    return false;
  }
}

describe('grids of 10,000 cells on PostgreSQL', () => {
  const resources = new Resources();
  afterAll(() => resources.cleanup());

  /** A fresh database, a queue of its own, and `swavlab api` serving both once it answers. */
  async function apiOnPostgres() {
    await ensureCliBuilt();
    const { db, url } = await freshDatabase('postgres', resources);
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const port = await freePort();
    const env = cliEnv({
      DATABASE_URL: url,
      REDIS_URL,
      SWAVLAB_QUEUE_PREFIX: prefix,
      SWAVLAB_LOG_LEVEL: 'warn',
    });
    const api = startApi(env, port);
    resources.add(() => api.kill('SIGKILL'));
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the API to answer', () => answering(base), 60_000);
    return { db, prefix, queue, api, base };
  }

  it('creates every cell once and queues each once, while /healthz keeps answering', async () => {
    const { db, queue, base } = await apiOnPostgres();

    let probing = true;
    const latencies: number[] = [];
    const prober = (async () => {
      while (probing) {
        const started = performance.now();
        await fetch(`${base}/healthz`);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const response = await fetch(`${base}/v1/grids`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(gridOf(100)),
    });
    probing = false;
    await prober;
    const body = (await response.json()) as { id: string; runs: { created: number; run_ids: string[] } };
    expect(response.status, JSON.stringify(body).slice(0, 500)).toBe(201);
    expect(body.runs.created).toBe(10_000);
    expect(new Set(body.runs.run_ids).size).toBe(10_000);

    const [counts] = await db.query<{ cells: number; runs: number; distinct_runs: number }>`
      SELECT (SELECT count(*)::int FROM grid_cells WHERE grid_id = ${body.id}) AS cells,
             (SELECT count(*)::int FROM runs WHERE grid_id = ${body.id} AND status = 'queued') AS runs,
             (SELECT count(DISTINCT run_id)::int FROM grid_cells WHERE grid_id = ${body.id}) AS distinct_runs`;
    expect(counts).toEqual({ cells: 10_000, runs: 10_000, distinct_runs: 10_000 });
    expect(await queue.count()).toBe(10_000);
    // Every request to /healthz during the submission was answered; none waited for the grid.
    expect(latencies.length).toBeGreaterThan(0);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  }, 240_000);

  it('completes a grid whose API process was killed while it queued the cells', async () => {
    const { db, prefix, queue, api, base } = await apiOnPostgres();

    const submitted = fetch(`${base}/v1/grids`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(gridOf(100)),
    }).catch((error: unknown) => error);
    // The grid's transaction committed: the process is queueing its cells now. Kill it there.
    const grid = await waitFor(
      'the grid to be committed',
      async () => (await db.query<{ id: string }>`SELECT id FROM grids LIMIT 1`)[0],
      120_000,
      5,
    );
    api.kill('SIGKILL');
    await submitted;
    const queuedBeforeRepair = await queue.count();
    expect(queuedBeforeRepair).toBeLessThanOrEqual(10_000);

    const redis = new Redis(REDIS_URL);
    resources.add(() => redis.disconnect());
    const evaluations = createEvaluateQueue(redis, { prefix });
    resources.add(() => evaluations.close());
    const reconciler = new Reconciler({
      db,
      redis,
      queue,
      evaluations,
      queuePrefix: prefix,
      owner: 'test',
      intervalMs: 1_000,
      silentRunMs: 60_000,
      maxAttempts: pretrainJobOptions.attempts,
      logger: capturingLogger().logger,
    });
    resources.add(() => reconciler.stop());
    const report = await reconciler.runOnce();
    expect(report?.enqueued).toBe(10_000 - queuedBeforeRepair);
    expect(await queue.count()).toBe(10_000);
    const [cells] = await db.query<{
      n: number;
    }>`SELECT count(*)::int AS n FROM grid_cells WHERE grid_id = ${grid.id}`;
    expect(cells?.n).toBe(10_000);
  }, 240_000);
});
