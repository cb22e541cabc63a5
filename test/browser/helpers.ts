// Shared pieces of the browser tests: the dashboard build, the API in-process on a random port against a fresh
// PostgreSQL database and the shared Redis, runs recorded the way a worker records them, Debian's Chromium driven by
// playwright-core, console-error capture and chart read-outs from window.__swavlabCharts.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Database, JsonObject, MetricPointInput, Run } from '@swavlab/db';
import { redisConnectionOptions } from '@swavlab/queue';
import { Redis } from 'ioredis';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loadConfig, parseEnvTokens } from '../../apps/api/src/config.js';
import { type RunningApiServer, startApiServer } from '../../apps/api/src/server.js';
import { freshDatabase } from '../../apps/api/test/harness.js';
import { buildOnce } from '../shared/build-once.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = join(REPO_ROOT, 'test/browser/artifacts');
const DASHBOARD = join(REPO_ROOT, 'apps/dashboard');
const CHROMIUM = '/usr/bin/chromium';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Builds apps/dashboard (vite) when dist is missing or older than its sources. */
export function ensureDashboardBuilt(): Promise<void> {
  return buildOnce({
    name: 'dashboard',
    output: join(DASHBOARD, 'dist/index.html'),
    sources: [join(DASHBOARD, 'src'), join(DASHBOARD, 'index.html'), join(DASHBOARD, 'vite.config.ts')],
    build: () =>
      promisify(execFile)(join(REPO_ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], {
        cwd: DASHBOARD,
      }),
  });
}

/** Debian's Chromium, headless, with a fresh profile (playwright's temporary one) and no background traffic. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser tests need Debian's Chromium (apt install chromium; ` +
        'scripts/ensure-system-packages.sh installs it in CI)',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface Stack {
  url: string;
  db: Database;
  server: RunningApiServer;
  close(): Promise<void>;
}

/**
 * The API on a random loopback port, open unless `tokens` (SWAVLAB_API_TOKENS syntax) are given, against a new PostgreSQL database (dropped on close;
 * migrating an in-memory PGlite takes several times longer on a loaded machine).
 */
export async function startStack(options: { tokens?: string } = {}): Promise<Stack> {
  const prefix = `test-browser-${randomBytes(5).toString('hex')}`;
  const { db, drop } = await freshDatabase('postgres');
  const server = await startApiServer(
    {
      ...loadConfig({ SWAVLAB_LOG_LEVEL: process.env.SWAVLAB_TEST_LOG ?? 'silent' }),
      host: '127.0.0.1',
      port: 0,
      redisPrefix: prefix,
      queuePrefix: prefix,
      rateLimitPerMinute: 0,
      ssePollMs: 100,
      tokens: parseEnvTokens(options.tokens),
    },
    { db },
  );
  return {
    url: server.url,
    db,
    server,
    async close() {
      await server.close();
      const redis = new Redis(redisConnectionOptions(REDIS_URL, 'producer'));
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await drop();
    },
  };
}

export async function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

export function tinySpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    data: { source: 'synthetic', num_images: 64, image_size: 16 },
    model: { arch: 'tiny' },
    swav: { prototypes: 30, crops: '2x16+2x8' },
    optim: { epochs: 2, batch_size: 16, warmup_epochs: 0 },
    ...overrides,
  };
}

export interface Recording {
  /** Steps of the training curves (one point per step per curve metric). */
  steps: number;
  knn?: number;
  epochSeconds?: number;
  peakMemoryBytes?: number;
  collapseAtStep?: number;
  outcome?: 'succeeded' | 'failed' | 'running';
}

export const CURVES = ['loss', 'lr', 'prototype_usage', 'code_entropy', 'images_per_sec'] as const;

/** The points a worker would store for `steps` training steps. */
export function curvePoints(fromStep: number, toStep: number): MetricPointInput[] {
  const points: MetricPointInput[] = [];
  for (let step = fromStep; step < toStep; step++) {
    const epoch = Math.floor(step / 10);
    points.push(
      { name: 'loss', step, epoch, value: 8 - Math.log1p(step) },
      { name: 'lr', step, epoch, value: 0.1 * (1 - step / 1000) },
      { name: 'prototype_usage', step, epoch, value: Math.min(1, 0.2 + step / 50) },
      { name: 'code_entropy', step, epoch, value: 3 - step / 40 },
      { name: 'images_per_sec', step, epoch, value: 900 + (step % 7) },
    );
  }
  return points;
}

/** Claims `run` and writes what a worker writes for it; returns the attempt's token. */
export async function record(db: Database, run: Run, rec: Recording): Promise<string> {
  const claimed = await db.runs.claimRun(run.id, { workerHost: 'browser-test', device: 'cpu' });
  if (claimed === null) throw new Error(`could not claim ${run.id}`);
  const { token } = claimed;
  const points = curvePoints(0, rec.steps);
  const lastStep = rec.steps - 1;
  const epoch = Math.floor(lastStep / 10);
  if (rec.epochSeconds !== undefined)
    points.push({ name: 'epoch_seconds', step: lastStep, epoch, value: rec.epochSeconds });
  if (rec.peakMemoryBytes !== undefined)
    points.push({ name: 'peak_memory_bytes', step: lastStep, epoch, value: rec.peakMemoryBytes });
  if (rec.collapseAtStep !== undefined)
    points.push({ name: 'collapse_warning', step: rec.collapseAtStep, epoch: 0, value: 1 });
  await db.metrics.appendMetrics(run.id, token, points);
  await db.checkpoints.addCheckpoint(run.id, token, {
    epoch,
    step: lastStep,
    path: `runs/${run.id}/checkpoint-${lastStep}.pt`,
    sha256: 'ab'.repeat(32),
    bytes: 123_456,
  });
  if (rec.knn !== undefined)
    await db.evaluations.addEvaluation(run.id, token, {
      name: 'knn_top1@20',
      value: rec.knn,
      split: 'test',
      epoch,
      step: lastStep,
    });
  await db.runs.updateProgress(run.id, token, {
    epoch,
    step: lastStep,
    totalSteps: rec.steps * 2,
    etaSeconds: 42,
  });
  const finalMetrics: JsonObject = { loss: 8 - Math.log1p(lastStep) };
  if (rec.knn !== undefined) finalMetrics['knn_top1@20'] = rec.knn;
  if (rec.collapseAtStep !== undefined)
    finalMetrics.warnings = [
      {
        type: 'collapse',
        epoch: 0,
        step: rec.collapseAtStep,
        message: 'prototype usage fell to 1 of 30',
        advice: ['freeze the prototypes longer'],
      },
    ];
  if (rec.outcome === 'succeeded')
    await db.runs.finishRun(run.id, token, { status: 'succeeded', finalMetrics });
  if (rec.outcome === 'failed')
    await db.runs.finishRun(run.id, token, {
      status: 'failed',
      error: {
        kind: 'diverged',
        message: 'loss became NaN at step 4',
        traceback:
          'Traceback (most recent call last):\n  File "train.py", line 1\nFloatingPointError: nan loss',
      },
      finalMetrics,
    });
  return token;
}

/** Errors the page logged (console.error and uncaught exceptions), collected from now on. */
export function captureErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  return errors;
}

export interface ChartSeries {
  type: string;
  name: string;
  points: number;
}

/** The series of chart NAME (type, name, number of data items), read from its ECharts instance. */
export async function chartSeries(page: Page, name: string): Promise<ChartSeries[]> {
  await page.waitForFunction(
    (chart) =>
      (globalThis as unknown as { __swavlabCharts?: Record<string, unknown> }).__swavlabCharts?.[chart] !==
      undefined,
    name,
  );
  return page.evaluate((chart) => {
    interface Instance {
      getOption(): { series: { type: string; name: string; data: unknown[] }[] };
    }
    const charts = (globalThis as unknown as { __swavlabCharts: Record<string, Instance> }).__swavlabCharts;
    return (charts[chart] as Instance)
      .getOption()
      .series.map((s) => ({ type: s.type, name: String(s.name), points: s.data.length }));
  }, name);
}

/** The data items of series `index` of chart NAME, as ECharts holds them. */
export async function chartData(page: Page, name: string, index: number): Promise<unknown[]> {
  await chartSeries(page, name);
  return page.evaluate(
    ([chart, i]) => {
      interface Instance {
        getOption(): { series: { data: unknown[] }[] };
      }
      const charts = (globalThis as unknown as { __swavlabCharts: Record<string, Instance> }).__swavlabCharts;
      return (charts[chart as string] as Instance).getOption().series[i as number]?.data ?? [];
    },
    [name, index] as const,
  );
}

export async function screenshot(page: Page, file: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, file), fullPage: true });
}
