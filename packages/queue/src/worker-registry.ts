import type { Redis } from 'ioredis';
import { DEFAULT_REDIS_TIMEOUT_MS, withTimeout } from './timeout.js';

/**
 * Which workers are alive and what they can hold, so that a run no worker could ever hold is refused with a
 * clear message (at submit time by the API, at claim time by a worker) instead of waiting forever. Each
 * worker keeps one field of a Redis hash fresh with a heartbeat; a field older than `staleAfterMs` is a
 * worker that died without saying goodbye, and is ignored (and removed by the next reader).
 */

/** What one worker owns. */
export interface WorkerCapacity {
  /** SWAVLAB_WORKER_NAME. */
  name: string;
  /** Device slots: the most ranks of a CPU run it can hold. */
  slots: number;
  /** Distinct GPUs: the most ranks of a GPU run it can hold. */
  gpus: number;
  /** Last heartbeat, ms since the epoch. */
  heartbeatAt: number;
}

/** How often a worker refreshes its entry, and after how long without one it counts as gone. */
export const WORKER_HEARTBEAT_MS = 10_000;
export const WORKER_STALE_AFTER_MS = 3 * WORKER_HEARTBEAT_MS;

/** The hash that holds the entries of the workers of one queue (BullMQ key prefix, default "bull"). */
export function workersKey(prefix = 'bull'): string {
  return `${prefix}:pretrain:swavlab-workers`;
}

function parseEntry(name: string, text: string): WorkerCapacity | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { slots, gpus, heartbeatAt } = value as Record<string, unknown>;
    if (typeof slots !== 'number' || typeof gpus !== 'number' || typeof heartbeatAt !== 'number')
      return undefined;
    return { name, slots, gpus, heartbeatAt };
  } catch {
    return undefined;
  }
}

/** Write (or refresh) this worker's entry. */
export async function announceWorker(
  redis: Redis,
  key: string,
  worker: Omit<WorkerCapacity, 'heartbeatAt'>,
  { now = Date.now(), timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { now?: number; timeoutMs?: number } = {},
): Promise<void> {
  const entry = JSON.stringify({ slots: worker.slots, gpus: worker.gpus, heartbeatAt: now });
  await withTimeout(redis.hset(key, worker.name, entry), timeoutMs, 'announce worker');
}

/** Remove this worker's entry (graceful shutdown). */
export async function retireWorker(
  redis: Redis,
  key: string,
  name: string,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<void> {
  await withTimeout(redis.hdel(key, name), timeoutMs, 'retire worker');
}

/** The workers whose heartbeat is fresh; stale or unreadable entries are removed. */
export async function liveWorkers(
  redis: Redis,
  key: string,
  {
    now = Date.now(),
    staleAfterMs = WORKER_STALE_AFTER_MS,
    timeoutMs = DEFAULT_REDIS_TIMEOUT_MS,
  }: { now?: number; staleAfterMs?: number; timeoutMs?: number } = {},
): Promise<WorkerCapacity[]> {
  const entries = await withTimeout(redis.hgetall(key), timeoutMs, 'list workers');
  const live: WorkerCapacity[] = [];
  const stale: string[] = [];
  for (const [name, text] of Object.entries(entries)) {
    const entry = parseEntry(name, text);
    if (entry !== undefined && now - entry.heartbeatAt <= staleAfterMs) live.push(entry);
    else stale.push(name);
  }
  if (stale.length > 0) await withTimeout(redis.hdel(key, ...stale), timeoutMs, 'prune workers');
  return live.sort((a, b) => a.name.localeCompare(b.name));
}

/** The most ranks of a run of `kind` any of `workers` can hold. */
export function largestCapacity(workers: readonly WorkerCapacity[], kind: 'gpu' | 'cpu' | 'any'): number {
  return Math.max(0, ...workers.map((worker) => (kind === 'gpu' ? worker.gpus : worker.slots)));
}

/** "w1: 4 slots, no GPU; w2: 8 slots, 8 GPUs", for messages. */
export function describeWorkers(workers: readonly WorkerCapacity[]): string {
  if (workers.length === 0) return 'no live worker';
  return workers
    .map((worker) => {
      const gpus = worker.gpus === 0 ? 'no GPU' : `${worker.gpus} GPU${worker.gpus === 1 ? '' : 's'}`;
      return `${worker.name}: ${worker.slots} slot${worker.slots === 1 ? '' : 's'}, ${gpus}`;
    })
    .join('; ');
}
