// Overlaps a producer with its consumer: while the consumer handles one item (a chunk of grid cells being
// written to the database), the producer already computes the next (validating the following cells).

/** The items of `source`, each requested from it as soon as the previous one has been handed out. */
export async function* readAhead<T>(source: AsyncIterator<T>): AsyncGenerator<T> {
  let next = source.next();
  for (;;) {
    const item = await next;
    if (item.done) return;
    next = source.next();
    // A failure is reported when the consumer asks for the item; until then it must not count as unhandled.
    next.catch(() => undefined);
    yield item.value;
  }
}
