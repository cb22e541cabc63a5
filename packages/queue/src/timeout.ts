/** Default bound on the Redis operations of this package's helpers (see withTimeout). */
export const DEFAULT_REDIS_TIMEOUT_MS = 5_000;

/** Redis did not answer in time (down, unreachable, or never connected since start). */
export class QueueUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueUnavailable';
  }
}

/**
 * Bound a Redis operation. BullMQ waits for the first connection without limit, so a producer started
 * while Redis is down would otherwise hang its requests; the operation itself is not aborted.
 */
export async function withTimeout<T>(operation: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueUnavailable(`${what}: Redis did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([operation, expired]);
  } finally {
    clearTimeout(timer);
  }
}
