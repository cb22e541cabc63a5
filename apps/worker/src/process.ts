// A worker as a whole process (`node apps/worker/dist/bin.js`, `swavlab worker`): configuration from the
// environment, and SIGTERM/SIGINT → graceful shutdown then exit 0; a second signal exits at once.
import { loadWorkerConfig, type WorkerConfig } from './config.js';
import { createJsonLogger } from './logger.js';
import { startWorker, type WorkerHandle } from './main.js';

// Whatever hangs, the process is gone this long after the shutdown bound.
const EXIT_MARGIN_MS = 5_000;

/**
 * Starts a worker (config default: loadWorkerConfig()) and ties it to the process's signals. A bad
 * configuration exits with code 2 and a message naming the variable, a failed start with code 1.
 */
export async function runWorkerProcess(config?: WorkerConfig): Promise<WorkerHandle> {
  let resolved: WorkerConfig;
  try {
    resolved = config ?? (await loadWorkerConfig());
  } catch (error) {
    process.stderr.write(`swavlab worker: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = createJsonLogger(resolved.logLevel);
  const handle = await startWorker(resolved, { logger }).catch((error: unknown) => {
    logger.error('cannot start the worker', { error });
    process.exit(1);
  });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('signal received: shutting down', { signal });
    setTimeout(() => process.exit(1), resolved.shutdownTimeoutMs + EXIT_MARGIN_MS).unref();
    handle.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return handle;
}
