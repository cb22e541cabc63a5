// A bound on how long a caller waits for Redis or the database (clients may wait for a connection forever), and
// the readiness probes built on it. @swavlab/queue bounds its own helpers; this covers direct calls.

export async function withDeadline<T>(operation: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([operation, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a readiness probe may take before the dependency counts as down. */
export const PROBE_TIMEOUT_MS = 2_000;

/** null when `operation` succeeds within `timeoutMs`, else `<what> is not reachable` (for /readyz). */
export async function probe(
  what: string,
  operation: () => Promise<unknown>,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<string | null> {
  try {
    await withDeadline(operation(), timeoutMs, () => new Error(`${what} timed out`));
    return null;
  } catch {
    return `${what} is not reachable`;
  }
}
