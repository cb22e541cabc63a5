// Shared pieces of the worker integration tests: fresh databases on both backends, tiny specs, queues under a
// key prefix of their own, in-process workers with captured logs, and worker processes from the built dist.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Database, type JsonObject, openDatabase, type Run } from '@swavlab/db';
import { createPretrainQueue, enqueueRun, type PretrainQueue, redisConnectionOptions } from '@swavlab/queue';
import { type ExperimentSpecInput, hashValidSpec, parseExperimentSpec } from '@swavlab/spec';
import pg from 'pg';
import { type WorkerConfig, workerConfigFromEnv } from '../../apps/worker/src/config.js';
import type { LogFields, Logger, LogLevel } from '../../apps/worker/src/logger.js';
import { startWorker, type WorkerHandle } from '../../apps/worker/src/main.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

export type BackendKind = 'pglite' | 'postgres';

/** Everything a test made; `cleanup()` undoes it in reverse order. */
export class Resources {
  readonly #cleanups: (() => Promise<unknown> | unknown)[] = [];

  add(cleanup: () => Promise<unknown> | unknown): void {
    this.#cleanups.push(cleanup);
  }

  async cleanup(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.warn('cleanup failed:', error);
      }
    }
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client(POSTGRES_ADMIN);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new migrated database: in-memory PGlite, or a PostgreSQL database with a random name (dropped after). */
export async function freshDatabase(
  kind: BackendKind,
  resources: Resources,
): Promise<{ db: Database; url: string }> {
  let url = 'memory://';
  if (kind === 'postgres') {
    const name = `swavlab_worker_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    resources.add(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    url = `postgresql://postgres@127.0.0.1:5432/${name}`;
  }
  const db = await openDatabase({ url });
  resources.add(() => db.close());
  return { db, url };
}

export async function tempDir(resources: Resources, prefix = 'swavlab-worker-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  resources.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TinySpecOptions {
  /** Default: random, so that every call is a new run. */
  seed?: number;
  epochs?: number;
  numImages?: number;
  /** Replaces the synthetic data section (numImages is then unused). */
  data?: Record<string, unknown>;
  swav?: Record<string, unknown>;
  optim?: Record<string, unknown>;
  checkpoint?: Record<string, unknown>;
  eval?: Record<string, unknown>;
}

/** The tiny CPU spec of the brief (seconds per run). */
export function tinySpec(options: TinySpecOptions = {}): {
  spec: JsonObject;
  specHash: string;
  seed: number;
} {
  const seed = options.seed ?? randomInt(1, 2 ** 31 - 1);
  const input: ExperimentSpecInput = {
    seed,
    model: { arch: 'tiny', small_stem: true, hidden_mlp: 64, feat_dim: 16 },
    data: options.data ?? { num_images: options.numImages ?? 128, image_size: 16 },
    swav: { prototypes: 10, crops: '2x16', freeze_prototypes_iters: 0, ...options.swav },
    optim: {
      batch_size: 16,
      epochs: options.epochs ?? 3,
      warmup_epochs: 0,
      base_lr: 0.1,
      final_lr: 0.001,
      ...options.optim,
    },
    runtime: { workers: 0, threads: 1 },
    checkpoint: { every_epochs: 1, ...options.checkpoint },
    eval: options.eval ?? { knn: { k: [5] }, linear: null },
  } as ExperimentSpecInput;
  const parsed = parseExperimentSpec(input);
  if (!parsed.ok) throw new Error(`tiny spec invalid: ${JSON.stringify(parsed.errors)}`);
  return {
    spec: JSON.parse(JSON.stringify(parsed.spec)) as JsonObject,
    specHash: hashValidSpec(parsed.spec),
    seed,
  };
}

/** A unique BullMQ key prefix, so that tests never take each other's jobs (or other suites'). */
export function testPrefix(): string {
  return `swavlab-worker-test-${randomBytes(4).toString('hex')}`;
}

/** The pretrain queue under `prefix`, obliterated after the test. */
export async function openQueue(
  resources: Resources,
  prefix: string,
  redisUrl = REDIS_URL,
): Promise<PretrainQueue> {
  const queue = createPretrainQueue(redisConnectionOptions(redisUrl, 'worker'), { prefix });
  queue.on('error', () => undefined);
  await queue.waitUntilReady();
  resources.add(async () => {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  });
  return queue;
}

/** Creates a run of `spec` and enqueues it (1 delivery unless `attempts` says otherwise). */
export async function submitRun(
  db: Database,
  queue: PretrainQueue,
  spec: ReturnType<typeof tinySpec>,
  attempts = 1,
): Promise<Run> {
  const { run, created } = await db.runs.createRun({
    spec: spec.spec,
    specHash: spec.specHash,
    seed: spec.seed,
  });
  if (!created) throw new Error('expected a new run');
  await enqueueRun(queue, { runId: run.id, specHash: spec.specHash, attempts });
  return run;
}

export interface LogEntry extends LogFields {
  level: LogLevel;
  msg: string;
}

/** A logger that keeps every entry (debug included) and echoes errors, for assertions on what the worker did. */
export function capturingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}): void => {
      entries.push({ ...fields, level, msg });
      if (level === 'error') console.error(`[worker ${level}] ${msg}`, fields);
    };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

/**
 * Test settings: one CPU slot, short locks and stall checks so that recovery takes seconds, and artifacts in the
 * folder `artifactsDir`.
 */
export function testConfig({
  artifactsDir,
  ...overrides
}: Partial<WorkerConfig> & { artifactsDir: string }): WorkerConfig {
  const base = workerConfigFromEnv(
    {
      SWAVLAB_SLOTS: '1',
      SWAVLAB_LOCK_DURATION_MS: '4000',
      SWAVLAB_STALLED_INTERVAL_MS: '1000',
      SWAVLAB_CANCEL_POLL_MS: '1000',
      PYTHON_BIN: PYTHON,
      REDIS_URL,
      SWAVLAB_ARTIFACTS: artifactsDir,
      // Reconciler passes only where a test asks for them.
      SWAVLAB_RECONCILE_INTERVAL_MS: '0',
    },
    [],
  );
  return { ...base, flushIntervalMs: 500, ...overrides };
}

/** An in-process worker on `db`, closed after the test. */
export async function startTestWorker(
  resources: Resources,
  db: Database,
  config: WorkerConfig,
): Promise<{ worker: WorkerHandle; entries: LogEntry[] }> {
  const { logger, entries } = capturingLogger();
  const worker = await startWorker(config, { db, logger });
  resources.add(() => worker.close(10_000));
  return { worker, entries };
}

/** Polls `check` until it returns a value other than undefined/false; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the run reaches one of `statuses`; returns it. */
export function waitForStatus(db: Database, runId: string, statuses: Run['status'][], timeoutMs = 90_000) {
  return waitFor(
    `run ${runId} to be ${statuses.join(' or ')}`,
    async () => {
      const run = await db.runs.getRun(runId);
      return run !== null && statuses.includes(run.status) ? run : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Waits until an evaluation request has succeeded or failed, and returns it. */
export function waitForEvaluation(db: Database, requestId: string, timeoutMs = 60_000) {
  return waitFor(
    `evaluation ${requestId} to end`,
    async () => {
      const found = await db.evaluationRequests.getRequest(requestId);
      return found?.status === 'succeeded' || found?.status === 'failed' ? found : undefined;
    },
    timeoutMs,
    200,
  );
}

/** The steps of the metric points a worker logged receiving (`trainer event` debug lines), batches included. */
export function loggedMetricSteps(entries: readonly LogEntry[]): number[] {
  return entries
    .filter((entry) => entry.msg === 'trainer event')
    .flatMap((entry) => {
      const event = entry.event as { type: string; step?: number; points?: { step: number }[] };
      if (event.type === 'metrics') return [event.step ?? -1];
      return event.type === 'metrics_batch' ? (event.points ?? []).map((point) => point.step) : [];
    });
}

/** Every step of a metric series, in step order. */
export async function metricSteps(db: Database, runId: string, name = 'loss'): Promise<number[]> {
  return (await db.metrics.metricSeries(runId, name)).map((point) => point.step);
}

const execFileAsync = promisify(execFile);

/** Builds apps/worker (and what it references) so that a worker can run as a process from dist. */
export async function buildWorker(): Promise<void> {
  await execFileAsync('npx', ['tsc', '-b', 'apps/worker'], { cwd: REPO_ROOT, timeout: 120_000 });
}

/** A worker process (`node apps/worker/dist/bin.js`) with its output kept for diagnosis. */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** The JSON log lines so far. */
  entries: () => LogEntry[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * The first JSON log line (already written or to come) that `match` accepts: reacting to the worker's own
   * log, not to a database poll, keeps tests independent of how fast the machine trains.
   */
  waitForLog(match: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
}

export function spawnWorker(resources: Resources, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/worker/dist/bin.js')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PYTHON_BIN: PYTHON, REDIS_URL, SWAVLAB_SLOTS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const entries: LogEntry[] = [];
  const watchers = new Set<() => void>();
  let partial = '';
  const take = (text: string): void => {
    output += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        entries.push(JSON.parse(line) as LogEntry);
      } catch {
        // Not a log line (a stray write that happens to start with a brace).
      }
    }
    for (const watcher of watchers) watcher();
  };
  child.stdout?.setEncoding('utf8').on('data', take);
  child.stderr?.setEncoding('utf8').on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  resources.add(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const waitForLog = (match: (entry: LogEntry) => boolean, timeoutMs = 90_000): Promise<LogEntry> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = entries.find(match);
        if (found === undefined) return;
        done();
        resolve(found);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching worker log line within ${timeoutMs} ms; output:\n${output}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        watchers.delete(check);
      };
      watchers.add(check);
      check();
    });
  return { child, output: () => output, entries: () => [...entries], exited, waitForLog };
}
