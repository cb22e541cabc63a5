import {
  createPretrainQueue,
  enqueueRun,
  QueueUnavailable,
  redactCredentials,
  redisConnectionOptions,
} from '@swavlab/queue';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from './helpers.js';

describe('redisConnectionOptions', () => {
  it('gives workers unlimited retries and an offline queue, as BullMQ requires', () => {
    expect(redisConnectionOptions('redis://127.0.0.1:6379', 'worker')).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
  });

  it('makes producers fail fast: bounded retries, no offline queue', () => {
    const options = redisConnectionOptions('redis://127.0.0.1:6379', 'producer');
    expect(options.enableOfflineQueue).toBe(false);
    expect(options.maxRetriesPerRequest).toBeGreaterThan(0);
    expect(options.maxRetriesPerRequest).toBeLessThanOrEqual(5);
  });

  it('reads user, password, port, database and TLS from the URL', () => {
    expect(redisConnectionOptions('rediss://me:p%40ss@cache.example:6380/2', 'producer')).toMatchObject({
      host: 'cache.example',
      port: 6380,
      db: 2,
      username: 'me',
      password: 'p@ss',
      tls: { servername: 'cache.example' },
    });
    expect(redisConnectionOptions('redis://[::1]:7000', 'worker')).toMatchObject({ host: '::1', port: 7000 });
  });

  it('defaults to REDIS_URL, then to 127.0.0.1:6379', () => {
    const saved = process.env.REDIS_URL;
    try {
      delete process.env.REDIS_URL;
      expect(redisConnectionOptions(undefined, 'worker')).toMatchObject({ host: '127.0.0.1', port: 6379 });
      process.env.REDIS_URL = 'redis://redis.internal:6390/1';
      expect(redisConnectionOptions(undefined, 'worker')).toMatchObject({
        host: 'redis.internal',
        port: 6390,
        db: 1,
      });
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });

  it('names REDIS_URL and the reason for a bad URL', () => {
    expect(() => redisConnectionOptions('localhost:6379', 'worker')).toThrow(
      'REDIS_URL: expected a redis:// or rediss:// URL, got localhost:/',
    );
    expect(() => redisConnectionOptions('not a url', 'worker')).toThrow('REDIS_URL: not a URL: "not a url"');
    expect(() => redisConnectionOptions('redis://h/x', 'worker')).toThrow(
      'REDIS_URL: the path must be a database number, got "/x"',
    );
  });
});

describe('a producer while Redis is unreachable', () => {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const deadUrl = 'redis://127.0.0.1:1';

  it('fails a command at once instead of queueing it', async () => {
    const redis = new Redis(redisConnectionOptions(deadUrl, 'producer'));
    redis.on('error', () => {}); // connection errors are expected here
    try {
      await expect(redis.ping()).rejects.toThrow(/enableOfflineQueue/);
    } finally {
      redis.disconnect();
    }
  });

  it('gets QueueUnavailable from enqueueRun within the bound', async () => {
    const queue = createPretrainQueue(redisConnectionOptions(deadUrl, 'producer'), {
      prefix: uniquePrefix(),
    });
    queue.on('error', () => {});
    try {
      const started = Date.now();
      const outcome = enqueueRun(queue, { runId: 'run-a', specHash: 'h' }, { timeoutMs: 300 });
      await expect(outcome).rejects.toThrow(QueueUnavailable);
      await expect(outcome).rejects.toThrow('enqueue run run-a: Redis did not answer within 300 ms');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      // close(), not disconnect(): BullMQ's disconnect() waits for a connection that never came.
      await queue.close();
    }
  });
});

describe('redactCredentials', () => {
  it('hides the password of every URL, and nothing else', () => {
    expect(redactCredentials('redis://:s3cret@redis.internal:6379/2')).toBe(
      'redis://:***@redis.internal:6379/2',
    );
    expect(redactCredentials('cannot reach rediss://app:p%40ss@host:6380 and postgresql://u:pw@db/x')).toBe(
      'cannot reach rediss://app:***@host:6380 and postgresql://u:***@db/x',
    );
    expect(redactCredentials('redis://127.0.0.1:6379 user@example.org')).toBe(
      'redis://127.0.0.1:6379 user@example.org',
    );
  });
});
