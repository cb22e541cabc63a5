import type { Redis } from 'ioredis';
import { DEFAULT_REDIS_TIMEOUT_MS, withTimeout } from './timeout.js';

/**
 * Keys of the reconciler (apps/worker): its leadership, and the counts of what it repaired, which the API exposes
 * in /metrics. Both follow the queue prefix.
 */

/**
 * What the reconciler counts (apps/worker/src/reconciler.ts): queued runs and evaluation requests without a job
 * that got one (`enqueued`); silent running runs and evaluation requests without a job queued again (`requeued`), canceled when stopping (`canceled`), failed when
 * their attempts were used up (`abandoned`); waiting jobs whose run is gone or finished (`removed`).
 */
export const RECONCILER_ACTIONS = ['enqueued', 'requeued', 'canceled', 'abandoned', 'removed'] as const;
export type ReconcilerAction = (typeof RECONCILER_ACTIONS)[number];

/** The key of the reconciler's leadership for the queue under `prefix`. */
export function reconcilerLeaderKey(prefix = 'bull'): string {
  return `${prefix}:pretrain:swavlab-reconciler`;
}

/** What the reconciler did, counted since Redis last kept data: a hash of action → count. */
export function reconcilerActionsKey(prefix = 'bull'): string {
  return `${prefix}:pretrain:swavlab-reconciler-actions`;
}

/** Adds to the reconciler's action counts. */
export async function countReconcilerActions(
  redis: Redis,
  key: string,
  counts: Record<string, number>,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<void> {
  const nonZero = Object.entries(counts).filter(([, count]) => count > 0);
  if (nonZero.length === 0) return;
  const pipeline = redis.pipeline();
  for (const [action, count] of nonZero) pipeline.hincrby(key, action, count);
  await withTimeout(pipeline.exec(), timeoutMs, 'count reconciler actions');
}

/** The reconciler's action counts. */
export async function reconcilerActions(
  redis: Redis,
  key: string,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<Record<string, number>> {
  const raw = await withTimeout(redis.hgetall(key), timeoutMs, 'read reconciler actions');
  return Object.fromEntries(Object.entries(raw).map(([action, count]) => [action, Number(count)]));
}
