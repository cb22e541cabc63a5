// The worker's entry: resolve Python, open the database (unless given one), start taking jobs.
import { findPython } from '@swavlab/bridge';
import { type Database, openDatabase } from '@swavlab/db';
import type { WorkerConfig } from './config.js';
import { createJsonLogger, type Logger } from './logger.js';
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
  const { bin, torchVersion } = await findPython({
    env: config.pythonBin === undefined ? process.env : { ...process.env, PYTHON_BIN: config.pythonBin },
  });
  logger.info('python found', { bin, torchVersion });
  const ownsDb = options.db === undefined;
  const db =
    options.db ??
    (await openDatabase({
      ...(config.databaseUrl === undefined ? {} : { url: config.databaseUrl }),
      home: config.home,
    }));
  const worker = new SwavWorker({ config, db, logger, pythonBin: bin });
  try {
    await worker.start();
  } catch (error) {
    await worker.close(0);
    if (ownsDb) await db.close();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    activeRuns: () => worker.activeRuns(),
    close(timeoutMs) {
      closed ??= worker.close(timeoutMs).finally(() => (ownsDb ? db.close() : undefined));
      return closed;
    },
  };
}
