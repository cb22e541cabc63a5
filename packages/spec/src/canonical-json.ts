/**
 * JSON with object keys sorted recursively and no whitespace, so equal values always serialise to the same
 * bytes. Object entries whose value is `undefined` are dropped (as JSON.stringify does); anything JSON cannot
 * represent faithfully (NaN, Infinity, bigint, functions, undefined in arrays) is an error.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value
      .map((item) => {
        if (item === undefined)
          throw new TypeError('canonicalJson: undefined inside an array has no JSON form');
        return canonicalJson(item);
      })
      .join(',')}]`;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${entries.join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
}
