// The API server on a database handle the caller owns. `startApiServer` of @swavlab/api opens its own database,
// but the embedded PGlite serves one process, so `swavlab up` must give the API and the worker the same handle.
import { type ApiConfig, type BuildAppOptions, buildApp, ConfigError, isLoopbackHost } from '@swavlab/api';
import type { Database } from '@swavlab/db';
import { createPretrainQueue, redisConnectionOptions } from '@swavlab/queue';
import { Redis } from 'ioredis';

export interface ListeningApi {
  url: string;
  /** Stops accepting requests, then closes the queue and the Redis connection (not the database). */
  close(): Promise<void>;
}

export interface ListenApiOptions {
  /** BullMQ key prefix; must equal the worker's (SWAVLAB_QUEUE_PREFIX). */
  queuePrefix?: string | undefined;
  logger: BuildAppOptions['logger'];
}

export async function listenApi(
  config: ApiConfig,
  db: Database,
  options: ListenApiOptions,
): Promise<ListeningApi> {
  const redis = new Redis(redisConnectionOptions(config.redisUrl, 'producer'));
  const queue = createPretrainQueue(
    redis,
    options.queuePrefix === undefined ? {} : { prefix: options.queuePrefix },
  );
  const closeClients = async () => {
    await queue.close();
    redis.disconnect();
  };
  try {
    if (!isLoopbackHost(config.host) && config.tokens.length === 0) {
      const active = (await db.tokens.listApiTokens()).filter((token) => token.revokedAt === null);
      if (active.length === 0) {
        throw new ConfigError(
          'HOST',
          `refusing to listen on ${config.host} without API tokens: set SWAVLAB_API_TOKENS (or run \`swavlab token create\`), ` +
            'or listen on 127.0.0.1',
        );
      }
    }
    const app = await buildApp({ db, queue, redis, config }, { logger: options.logger });
    const url = await app.listen({ host: config.host, port: config.port });
    return {
      url,
      close: async () => {
        await app.close();
        await closeClients();
      },
    };
  } catch (error) {
    await closeClients();
    throw error;
  }
}
