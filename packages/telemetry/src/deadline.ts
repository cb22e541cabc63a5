// A bound on how long a request waits for Redis or the database (clients may wait for a connection forever).
// @swavlab/queue bounds its own helpers; this covers the calls the API makes directly.

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
