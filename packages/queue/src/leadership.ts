import type { Redis } from 'ioredis';
import { DEFAULT_REDIS_TIMEOUT_MS, withTimeout } from './timeout.js';

/**
 * One holder at a time across hosts, for periodic tasks that must not run twice at once (the reconciler): a Redis
 * key holding the owner's name with an expiry. The holder renews it before every round; if it dies, the key
 * expires and another candidate takes over.
 */

// Take the key when it is free, or extend it when `owner` already holds it; 1 when `owner` holds it afterwards.
const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

// Delete the key only if `owner` holds it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** True when `owner` holds `key` for the next `ttlMs` (taken or renewed). */
export async function claimLeadership(
  redis: Redis,
  key: string,
  owner: string,
  ttlMs: number,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<boolean> {
  const result = await withTimeout(
    redis.eval(CLAIM, 1, key, owner, String(ttlMs)),
    timeoutMs,
    'claim leadership',
  );
  return result === 1;
}

/** Gives `key` up if `owner` holds it. */
export async function releaseLeadership(
  redis: Redis,
  key: string,
  owner: string,
  { timeoutMs = DEFAULT_REDIS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<void> {
  await withTimeout(redis.eval(RELEASE, 1, key, owner), timeoutMs, 'release leadership');
}
