import { randomUUID } from 'node:crypto';
import { createPretrainQueue, type PretrainQueue, redisConnectionOptions } from '@swavlab/queue';

/** The shared test Redis (docs/contributing.md); REDIS_URL overrides it. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A BullMQ key prefix no other test file or run uses, so files can run in parallel on one Redis. */
export function uniquePrefix(): string {
  return `swavlab-test-${randomUUID()}`;
}

/** A producer-side queue under `prefix`; obliterate() removes its keys. */
export function openQueue(prefix: string): PretrainQueue {
  return createPretrainQueue(redisConnectionOptions(REDIS_URL, 'producer'), { prefix });
}

/** Remove every key of the queue, then close it. */
export async function dropQueue(queue: PretrainQueue): Promise<void> {
  await queue.obliterate({ force: true });
  await queue.close();
}
