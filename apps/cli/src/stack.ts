// The swavlab service in one process tree: database (embedded PGlite unless DATABASE_URL), a private
// redis-server (unless REDIS_URL), the API and the worker. `up`, `api`, `worker` and `demo` all start it here.
import { join } from 'node:path';
import {
  type ApiConfig,
  ConfigError,
  createApiLogger,
  loadConfig,
  type RunningApiServer,
  startApiServer,
} from '@swavlab/api';
import { type Database, openDatabase } from '@swavlab/db';
import {
  createJsonLogger,
  loadWorkerConfig,
  startWorker,
  type WorkerConfig,
  type WorkerHandle,
} from '@swavlab/worker';
import { CliError, EXIT } from './errors.js';
import { resolveHome } from './home.js';
import { type HomeLock, lockHome } from './home-lock.js';
import { type LocalRedis, startRedisServer } from './redis-server.js';

export interface StackOptions {
  /** Which parts run in this process. */
  api: boolean;
  worker: boolean;
  /** Start a private redis-server when REDIS_URL is unset (`up`, `demo`); otherwise REDIS_URL or its default. */
  localRedis: boolean;
  /** The command, recorded in the home lock so that a second process can say who holds it. */
  command: string;
  /** Environment (HOST, PORT, SWAVLAB_HOME, DATABASE_URL, REDIS_URL, …); overrides already applied. */
  env: NodeJS.ProcessEnv;
  /** Where the API's and the worker's JSON log lines go. */
  log: NodeJS.WritableStream;
  /** Called before each start-up step, for a progress message. */
  onStep?: (step: string) => void;
}

export interface Stack {
  /** The API's address; undefined without the API. */
  url: string | undefined;
  home: string;
  redisUrl: string;
  /** Where the private redis-server keeps its AOF and log, when one was started. */
  redisDir: string | undefined;
  database: 'postgres' | 'pglite';
  /** Graceful stop: the worker hands its jobs back, then the API, the database and Redis close. Idempotent. */
  close(): Promise<void>;
}

/**
 * Configuration errors of the API or the worker (a bad PORT, SWAVLAB_SLOTS, …) are usage errors; a port in use
 * is a failure with the port named.
 */
function startError(error: unknown): never {
  if (error instanceof ConfigError || error instanceof RangeError || error instanceof TypeError) {
    throw new CliError(error.message, EXIT.usage);
  }
  const { code, address, port } = error as { code?: string; address?: string; port?: number };
  if (code === 'EADDRINUSE') {
    throw new CliError(
      `${address}:${port} is already in use: is swavlab already up? choose another PORT (--port)`,
      EXIT.failure,
    );
  }
  throw error;
}

/** How long closing one part (beyond the worker's own shutdown bound) may take before the next one goes on. */
const CLOSE_BOUND_MS = 10_000;

/** 'done', or why not: the error, or that `ms` passed first. */
async function settleWithin(promise: Promise<void>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`did not finish within ${ms / 1000} s`), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => 'done',
        (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const home = resolveHome(options.env);
  const embedded = !options.env.DATABASE_URL;
  const ownRedis = options.localRedis && !options.env.REDIS_URL;
  const step = options.onStep ?? (() => {});
  const cleanups: { what: string; boundMs: number; run: () => Promise<void> | void }[] = [];
  // Each part gets a bound, so that one that hangs (a worker whose Redis is gone) cannot keep the others open.
  const unwind = async () => {
    for (const { what, boundMs, run } of cleanups.splice(0).reverse()) {
      const outcome = await settleWithin(Promise.resolve().then(run), boundMs);
      if (outcome !== 'done')
        options.log.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: `closing the ${what} ${outcome}` })}\n`,
        );
    }
  };

  try {
    if (embedded || ownRedis) {
      const lock: HomeLock = await lockHome(home, options.command);
      cleanups.push({ what: 'home lock', boundMs: CLOSE_BOUND_MS, run: () => lock.release() });
    }
    let redisDir: string | undefined;
    let redisUrl = options.env.REDIS_URL || 'redis://127.0.0.1:6379';
    if (ownRedis) {
      redisDir = join(home, 'redis');
      step(`starting redis-server in ${redisDir}`);
      const redis: LocalRedis = await startRedisServer(redisDir);
      cleanups.push({ what: 'redis-server', boundMs: CLOSE_BOUND_MS + 10_000, run: () => redis.stop() });
      redisUrl = redis.url;
    }
    const env: NodeJS.ProcessEnv = { ...options.env, SWAVLAB_HOME: home, REDIS_URL: redisUrl };
    let apiConfig: ApiConfig | undefined;
    let workerConfig: WorkerConfig | undefined;
    try {
      if (options.api) apiConfig = loadConfig(env);
      if (options.worker) workerConfig = await loadWorkerConfig(env);
    } catch (error) {
      startError(error);
    }

    step(
      embedded
        ? `opening the embedded database in ${join(home, 'db')}`
        : 'connecting to PostgreSQL (DATABASE_URL)',
    );
    const db: Database = await openDatabase({ home, ...(embedded ? {} : { url: env.DATABASE_URL }) });
    cleanups.push({ what: 'database', boundMs: CLOSE_BOUND_MS, run: () => db.close() });

    // The API and the worker (whose start checks that Python imports torch) start side by side.
    const log = options.log;
    if (apiConfig !== undefined) step(`starting the API on ${apiConfig.host}:${apiConfig.port}`);
    if (workerConfig !== undefined) step('starting the worker');
    const [apiStart, workerStart] = await Promise.allSettled([
      apiConfig === undefined
        ? undefined
        : startApiServer(apiConfig, {
            db,
            logger: createApiLogger(apiConfig.logLevel, (line) => log.write(line)),
          }),
      workerConfig === undefined
        ? undefined
        : startWorker(workerConfig, {
            db,
            logger: createJsonLogger(workerConfig.logLevel, (line) => log.write(line)),
          }),
    ]);
    const api: RunningApiServer | undefined = apiStart.status === 'fulfilled' ? apiStart.value : undefined;
    const worker: WorkerHandle | undefined =
      workerStart.status === 'fulfilled' ? workerStart.value : undefined;
    if (api !== undefined) cleanups.push({ what: 'API', boundMs: CLOSE_BOUND_MS, run: () => api.close() });
    if (worker !== undefined && workerConfig !== undefined) {
      cleanups.push({
        what: 'worker',
        boundMs: workerConfig.shutdownTimeoutMs + CLOSE_BOUND_MS,
        run: () => worker.close(),
      });
    }
    if (apiStart.status === 'rejected') startError(apiStart.reason);
    if (workerStart.status === 'rejected') throw workerStart.reason;

    let closing: Promise<void> | undefined;
    return {
      url: api?.url,
      home,
      redisUrl,
      redisDir,
      database: db.kind,
      close: () => {
        closing ??= unwind();
        return closing;
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}
