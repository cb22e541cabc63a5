#!/usr/bin/env node
// `node apps/worker/dist/bin.js`: a worker process configured from the environment. SIGTERM/SIGINT hand the
// running jobs back to the queue within SWAVLAB_SHUTDOWN_TIMEOUT_MS; a second signal exits at once.
import { loadWorkerConfig } from './config.js';
import { createJsonLogger } from './logger.js';
import { startWorker } from './main.js';

let config: Awaited<ReturnType<typeof loadWorkerConfig>>;
try {
  config = await loadWorkerConfig();
} catch (error) {
  process.stderr.write(`swavlab worker: ${(error as Error).message}\n`);
  process.exit(2);
}
const logger = createJsonLogger(config.logLevel);
const handle = await startWorker(config, { logger }).catch((error: unknown) => {
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
  // Belt and braces: whatever hangs, the process is gone shortly after the bound.
  setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5_000).unref();
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
