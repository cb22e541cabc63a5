// What operators and the autoscaler read: the API's swavlab_slots_demanded (the KEDA trigger, infra/k8s) follows the
// queue — 0 when nothing is queued, the ranks of what is queued, back to 0 once it ran — and a worker's own
// /metrics, scraped while it runs a job, shows that job and the slot it holds; /readyz of a worker process names
// what it waits for.
import type { Database } from '@swavlab/db';
import type { PretrainQueue } from '@swavlab/queue';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../apps/api/src/app.js';
import { loadConfig } from '../../apps/api/src/config.js';
import { freePort } from '../cli/helpers.js';
import {
  buildWorker,
  freshDatabase,
  openQueue,
  REDIS_URL,
  Resources,
  spawnWorker,
  startTestWorker,
  tempDir,
  testConfig,
  testPrefix,
  tinySpec,
  waitFor,
  waitForStatus,
} from './helpers.js';

/** The value of the sample `name{labels}` in Prometheus text; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.length === present.length && wanted.every((pair) => present.includes(pair)))
      return Number(match[3]);
  }
  return undefined;
}

describe('metrics for operators and the autoscaler', () => {
  const resources = new Resources();
  let db: Database;
  let url: string;
  let prefix: string;
  let queue: PretrainQueue;
  let app: FastifyInstance;

  beforeAll(async () => {
    ({ db, url } = await freshDatabase('postgres', resources));
    prefix = testPrefix();
    queue = await openQueue(resources, prefix);
    const redis = new Redis(REDIS_URL);
    resources.add(() => redis.disconnect());
    app = await buildApp({
      db,
      queue,
      redis,
      config: { ...loadConfig({}), logLevel: 'silent', redisPrefix: prefix, rateLimitPerMinute: 0 },
    });
    resources.add(() => app.close());
  });
  afterAll(() => resources.cleanup());

  const apiMetrics = async (): Promise<string> => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    return response.body;
  };
  const submit = async (spec: ReturnType<typeof tinySpec>): Promise<string> => {
    const response = await app.inject({ method: 'POST', url: '/v1/runs', payload: spec.spec });
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { id: string }).id;
  };

  it('the slots demanded follow the queue, and a running worker shows its job on /metrics', async () => {
    expect(sample(await apiMetrics(), 'swavlab_slots_demanded')).toBe(0);

    // Two one-rank runs and a two-process run (two slots); the last is canceled while queued.
    // 512 training images: 32 steps an epoch, long enough for several (throttled) progress events between the
    // epochs' checkpoints, which the step time leaves out.
    const runs = [
      await submit(tinySpec({ epochs: 2, numImages: 640 })),
      await submit(tinySpec({ epochs: 2, numImages: 640 })),
    ];
    const wide = await submit({ ...tinySpec(), spec: { ...tinySpec().spec, runtime: { processes: 2 } } });
    let text = await apiMetrics();
    expect(sample(text, 'swavlab_slots_demanded')).toBe(4);
    expect(sample(text, 'swavlab_queue_jobs', { queue: 'pretrain', state: 'waiting' })).toBe(3);
    expect(
      (await app.inject({ method: 'POST', url: `/v1/runs/${wide}/cancel`, payload: {} })).statusCode,
    ).toBe(200);
    expect(sample(await apiMetrics(), 'swavlab_slots_demanded')).toBe(2);

    const artifactsDir = await tempDir(resources);
    const { worker, entries } = await startTestWorker(
      resources,
      db,
      testConfig({ artifactsDir, queuePrefix: prefix, http: { host: '127.0.0.1', port: 0 } }),
    );
    const base = `http://127.0.0.1:${worker.http?.port}`;
    const scrape = async (): Promise<string> => {
      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };

    // While the first run trains: one pretrain job, its slot busy, the other run still demanded.
    await waitFor('a job to be running', () => worker.activeRuns().some((run) => run.attempt !== undefined));
    text = await scrape();
    expect(sample(text, 'swavlab_worker_jobs_running', { queue: 'pretrain' })).toBe(1);
    expect(sample(text, 'swavlab_worker_jobs_running', { queue: 'evaluate' })).toBe(0);
    expect(sample(text, 'swavlab_worker_slots')).toBe(1);
    expect(sample(text, 'swavlab_worker_slots_busy')).toBe(1);
    expect(sample(await apiMetrics(), 'swavlab_slots_demanded')).toBe(2);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', redis: 'ok', queue: 'ok' },
    });

    for (const runId of runs)
      expect((await waitForStatus(db, runId, ['succeeded', 'failed'])).status).toBe('succeeded');
    text = await apiMetrics();
    expect(sample(text, 'swavlab_slots_demanded')).toBe(0);
    expect(sample(text, 'swavlab_queue_jobs', { queue: 'pretrain', state: 'waiting' })).toBe(0);

    text = await waitFor('the second job to be settled', async () => {
      const scraped = await scrape();
      return sample(scraped, 'swavlab_worker_jobs_finished_total', {
        queue: 'pretrain',
        outcome: 'finished',
      }) === 2
        ? scraped
        : undefined;
    });
    expect(sample(text, 'swavlab_worker_jobs_running', { queue: 'pretrain' })).toBe(0);
    expect(sample(text, 'swavlab_worker_slots_busy')).toBe(0);
    // Two epochs of 32 steps each, one checkpoint per epoch, per run.
    expect(sample(text, 'swavlab_worker_events_persisted_total', { type: 'checkpoint' })).toBe(4);
    expect(sample(text, 'swavlab_worker_events_persisted_total', { type: 'metrics' })).toBeGreaterThan(0);
    const steps = sample(text, 'swavlab_worker_step_seconds_count') ?? 0;
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThanOrEqual(128);
    expect(sample(text, 'swavlab_worker_step_seconds_sum')).toBeGreaterThan(0);
    expect(
      sample(text, 'swavlab_worker_failures_total', { queue: 'pretrain', kind: 'crashed' }),
    ).toBeUndefined();

    // Structured logs: every line about a run names it, and every line after its claim names the attempt.
    const jobLines = entries.filter((entry) => runs.includes(entry.runId as string));
    expect(jobLines.length).toBeGreaterThan(10);
    const beforeClaim = new Set(['job received', 'device slots granted']);
    const unattributed = jobLines.filter((entry) => !beforeClaim.has(entry.msg) && entry.attempt !== 1);
    expect(unattributed.map((entry) => entry.msg)).toEqual([]);
  });

  it('a worker process serves /healthz at once and /readyz 503 naming Redis while Redis is unreachable', async () => {
    await buildWorker();
    const port = await freePort();
    const child = spawnWorker(resources, {
      DATABASE_URL: url,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      SWAVLAB_WORKER_PORT: String(port),
      SWAVLAB_QUEUE_PREFIX: testPrefix(),
      SWAVLAB_ARTIFACTS: await tempDir(resources),
    });
    await child.waitForLog((entry) => entry.msg === 'operations endpoints listening', 30_000);
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
    const body = await waitFor('the worker to wait for Redis', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(response.status).toBe(503);
      const json = (await response.json()) as { checks: Record<string, string> };
      return json.checks.redis === undefined ? undefined : json;
    });
    expect(body).toMatchObject({
      status: 'not_ready',
      checks: {
        database: 'ok',
        redis: expect.stringMatching(/^Redis is not connected/),
        queue: expect.any(String),
      },
    });
    child.child.kill('SIGKILL');
    await child.exited;
  });
});
