// Starts the API server process: opens the database and Redis, builds the app, listens.
import { openDatabase } from '@swavlab/db';
import { createPretrainQueue, redisConnectionOptions } from '@swavlab/queue';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { type ApiConfig, ConfigError, isLoopbackHost } from './config.js';
import { runSql, sql } from './sql.js';

export interface RunningApiServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Stops accepting requests, then closes the queue, Redis and the database. */
  close(): Promise<void>;
}

/**
 * Starts the server. Refuses to listen beyond loopback without any API token, since every endpoint would then be
 * open to the network.
 */
export async function startApiServer(config: ApiConfig): Promise<RunningApiServer> {
  const db = await openDatabase({ url: config.databaseUrl, home: config.home });
  const redis = new Redis(redisConnectionOptions(config.redisUrl, 'producer'));
  // The queue shares the connection: a producer runs no blocking commands.
  const queue = createPretrainQueue(redis);
  const closeAll = async () => {
    await queue.close();
    redis.disconnect();
    await db.close();
  };
  try {
    if (!isLoopbackHost(config.host) && config.tokens.length === 0) {
      const [row] = await runSql<{ present: boolean }>(
        db,
        sql`SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL) AS present`,
      );
      if (row?.present !== true) {
        throw new ConfigError(
          'HOST',
          `refusing to listen on ${config.host} without API tokens: set SWAVLAB_API_TOKENS (or create a token), ` +
            'or listen on 127.0.0.1',
        );
      }
    }
    const app = await buildApp({ db, queue, redis, config });
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
