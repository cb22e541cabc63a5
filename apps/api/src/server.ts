// Starts the API server: opens (or borrows) the database, connects Redis, builds the app, listens.
import { type Database, openDatabase } from '@swavlab/db';
import { createPretrainQueue, redisConnectionOptions } from '@swavlab/queue';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { type BuildAppOptions, buildApp } from './app.js';
import { type ApiConfig, ConfigError, isLoopbackHost } from './config.js';

export interface RunningApiServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Stops accepting requests, then closes the queue, Redis and the database (unless it was borrowed). */
  close(): Promise<void>;
}

export interface StartApiServerOptions extends BuildAppOptions {
  /**
   * A database handle the caller owns and closes. The embedded PGlite serves one process, so `swavlab up`
   * gives the API and the worker the same handle; without it the server opens its own from the config.
   */
  db?: Database;
}

/**
 * Starts the server. Refuses to listen beyond loopback without any API token, since every endpoint would then be
 * open to the network.
 */
export async function startApiServer(
  config: ApiConfig,
  options: StartApiServerOptions = {},
): Promise<RunningApiServer> {
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, home: config.home }));
  const redis = new Redis(redisConnectionOptions(config.redisUrl, 'producer'));
  // The queue shares the connection: a producer runs no blocking commands.
  const queue = createPretrainQueue(
    redis,
    config.queuePrefix === undefined ? {} : { prefix: config.queuePrefix },
  );
  const closeAll = async () => {
    await queue.close();
    redis.disconnect();
    if (ownsDb) await db.close();
  };
  try {
    if (!isLoopbackHost(config.host) && config.tokens.length === 0) {
      if (!(await db.tokens.anyTokens({ active: true }))) {
        throw new ConfigError(
          'HOST',
          `refusing to listen on ${config.host} without API tokens: set SWAVLAB_API_TOKENS (or create a token), ` +
            'or listen on 127.0.0.1',
        );
      }
    }
    const app = await buildApp({ db, queue, redis, config }, { logger: options.logger });
    const url = await app.listen({ host: config.host, port: config.port });
    return {
      app,
      url,
      close: async () => {
        await app.close();
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
