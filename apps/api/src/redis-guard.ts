// Redis operations made on behalf of a request. The producer connection fails fast while Redis is away (no
// offline queue); this turns that into QueueUnavailable, which the error handler answers with 503.
import { QueueUnavailable } from '@swavlab/queue';
import type { Redis } from 'ioredis';

export async function guardRedis<T>(redis: Redis, what: string, operation: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready')
    throw new QueueUnavailable(`${what}: Redis is not connected (${redis.status})`);
  try {
    return await operation();
  } catch (error) {
    if (redis.status !== 'ready') throw new QueueUnavailable(`${what}: Redis connection lost`);
    throw error;
  }
}
