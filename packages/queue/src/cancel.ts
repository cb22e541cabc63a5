import type { Redis } from 'ioredis';
import { DEFAULT_REDIS_TIMEOUT_MS, withTimeout } from './timeout.js';

/**
 * Pub/sub channel for cancel requests. BullMQ can only cancel a job in the process that holds it, so
 * the API broadcasts and the owning worker acts. Pub/sub is fire-and-forget (a worker that is
 * reconnecting misses the message): the worker also checks the run's status in the database.
 */
export const CANCEL_CHANNEL = 'swavlab:cancel';

interface CancelMessage {
  runId: string;
}

/** Ask whichever worker holds `runId` to cancel it; resolves with the number of subscribers reached. */
export async function publishCancel(
  redis: Redis,
  runId: string,
  {
    channel = CANCEL_CHANNEL,
    timeoutMs = DEFAULT_REDIS_TIMEOUT_MS,
  }: { channel?: string; timeoutMs?: number } = {},
): Promise<number> {
  if (typeof runId !== 'string' || runId === '') throw new TypeError('runId: expected a non-empty string');
  const message: CancelMessage = { runId };
  return withTimeout(
    redis.publish(channel, JSON.stringify(message)),
    timeoutMs,
    `publish cancel of ${runId}`,
  );
}

function parseCancel(text: string): string | undefined {
  try {
    const message: unknown = JSON.parse(text);
    if (typeof message === 'object' && message !== null && 'runId' in message) {
      const { runId } = message;
      if (typeof runId === 'string' && runId !== '') return runId;
    }
  } catch {
    // Falls through to undefined: not JSON.
  }
  return undefined;
}

export interface SubscribeOptions {
  channel?: string;
  /** Called with messages that are not `{"runId": "<non-empty string>"}` (default: ignored). */
  onInvalid?: (text: string) => void;
}

/**
 * Call `handler(runId)` for every cancel request. `redis` must be a connection of its own: it enters
 * subscriber mode (ioredis resubscribes by itself after a reconnect). Resolves once subscribed, with a
 * function that unsubscribes.
 */
export async function subscribeCancels(
  redis: Redis,
  handler: (runId: string) => void,
  { channel = CANCEL_CHANNEL, onInvalid }: SubscribeOptions = {},
): Promise<() => Promise<void>> {
  const listener = (from: string, text: string): void => {
    if (from !== channel) return;
    const runId = parseCancel(text);
    if (runId === undefined) onInvalid?.(text);
    else handler(runId);
  };
  redis.on('message', listener);
  await redis.subscribe(channel);
  return async () => {
    redis.off('message', listener);
    await redis.unsubscribe(channel);
  };
}
