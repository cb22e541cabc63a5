// The worker's entry: serve the operations endpoints (when configured), resolve Python, open the database (unless
// given one), start taking jobs.
import { findPython } from '@swavlab/bridge';
import { type Database, openDatabase } from '@swavlab/db';
import type { HttpAddress, WorkerConfig } from './config.js';
import { startHttpServer, type WorkerHttpServer } from './http-server.js';
import { createJsonLogger, type Logger } from './logger.js';
import { WorkerMetrics } from './metrics.js';
import { type ActiveRun, SwavWorker } from './worker.js';

/** A started worker. */
export interface WorkerHandle {
  /** Jobs running now (run id, attempt, device, process ids). */
  activeRuns(): ActiveRun[];
  /**
   * Graceful shutdown (see SwavWorker.close), then closes the database if the worker opened it. Idempotent.
   * `timeoutMs` defaults to config.shutdownTimeoutMs.
   */
  close(timeoutMs?: number): Promise<void>;
  /** Where /healthz, /readyz and /metrics are served (config.http), once listening. */
  readonly http: HttpAddress | undefined;
}

export interface StartWorkerOptions {
  /** A database handle to share (the embedded PGlite serves one process: `swavlab up` passes the API's). */
  db?: Database;
  logger?: Logger;
}

/** Starts a worker with `config` (see loadWorkerConfig). */
export async function startWorker(
  config: WorkerConfig,
  options: StartWorkerOptions = {},
): Promise<WorkerHandle> {
  const logger = options.logger ?? createJsonLogger(config.logLevel);
  const metrics = new WorkerMetrics();
  let worker: SwavWorker | undefined;
  // Up before anything that may wait (Python, the database, Redis): liveness holds and readiness says why not.
  const server: WorkerHttpServer | undefined =
    config.http === undefined
      ? undefined
      : await startHttpServer(
          config.http,
          {
            readiness: async () => worker?.readiness() ?? { worker: 'the worker is starting' },
            metrics: () =>
              metrics.render(
                worker?.load() ?? {
                  running: { pretrain: 0, evaluate: 0 },
                  waitingForSlots: 0,
                  slotsTotal: config.slots.length,
                  slotsBusy: 0,
                },
              ),
          },
          logger,
        );
  const ownsDb = options.db === undefined;
  let db: Database | undefined;
  try {
    const { bin, torchVersion } = await findPython({
      env: config.pythonBin === undefined ? process.env : { ...process.env, PYTHON_BIN: config.pythonBin },
    });
    logger.info('python found', { bin, torchVersion });
    db =
      options.db ??
      (await openDatabase({
        ...(config.databaseUrl === undefined ? {} : { url: config.databaseUrl }),
        home: config.home,
      }));
    worker = new SwavWorker({ config, db, logger, pythonBin: bin, metrics });
    await worker.start();
  } catch (error) {
    await worker?.close(0);
    if (ownsDb) await db?.close();
    await server?.close();
    throw error;
  }
  const started = worker;
  const opened = db;
  let closed: Promise<void> | undefined;
  return {
    activeRuns: () => started.activeRuns(),
    http: server?.address,
    close(timeoutMs) {
      closed ??= started
        .close(timeoutMs)
        .finally(() => (ownsDb ? opened.close() : undefined))
        .finally(() => server?.close());
      return closed;
    },
  };
}
