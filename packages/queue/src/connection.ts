/** Where Redis is when REDIS_URL is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * `worker`: BullMQ workers and cancel subscribers, which must ride out Redis restarts.
 * `producer`: the API and CLI, whose requests must fail fast while Redis is away.
 */
export type RedisRole = 'worker' | 'producer';

/**
 * The options redisConnectionOptions sets; accepted by `new Redis()` (ioredis) and as BullMQ's
 * `connection`. A type alias, not an interface: BullMQ's option type has an index signature, which an
 * interface (ioredis's own RedisOptions included) does not satisfy.
 */
export type RedisConnectionOptions = {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: { servername: string };
  retryStrategy: (attempt: number) => number;
  maxRetriesPerRequest: number | null;
  enableOfflineQueue: boolean;
  connectTimeout?: number;
};

// Reconnect delay: doubles from 200 ms, capped at 10 s; never gives up (both roles reconnect forever).
function reconnectDelay(attempt: number): number {
  return Math.min(200 * 2 ** Math.min(attempt, 16), 10_000);
}

/**
 * ioredis options for `url` (default `REDIS_URL`, else DEFAULT_REDIS_URL) and `role`.
 * Accepts `redis://[user:password@]host[:port][/db]` and `rediss://…` (TLS).
 */
export function redisConnectionOptions(
  url: string | undefined = process.env.REDIS_URL,
  role: RedisRole,
): RedisConnectionOptions {
  const text = url ?? DEFAULT_REDIS_URL;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new TypeError(`REDIS_URL: not a URL: ${JSON.stringify(text)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(`REDIS_URL: expected a redis:// or rediss:// URL, got ${parsed.protocol}//`);
  }
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new TypeError(
      `REDIS_URL: the path must be a database number, got ${JSON.stringify(parsed.pathname)}`,
    );
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const options = {
    host,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db,
    retryStrategy: reconnectDelay,
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(parsed.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
  };
  if (role === 'worker') {
    // BullMQ's blocking commands need unlimited retries; commands wait in the offline queue during a
    // reconnect instead of failing a multi-hour job's lock renewal.
    return { ...options, maxRetriesPerRequest: null, enableOfflineQueue: true };
  }
  // A producer answers an HTTP request: fail at once while Redis is away rather than hold the request.
  return { ...options, maxRetriesPerRequest: 2, enableOfflineQueue: false, connectTimeout: 5_000 };
}

/**
 * `text` with the password of every URL in it (`scheme://user:password@host`) replaced by `***`, for logs and
 * banners: REDIS_URL and DATABASE_URL may carry credentials.
 */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]+@/gi, '$1:***@');
}
