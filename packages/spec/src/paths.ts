/** Path helpers shared by error reporting, grid axes and result grouping. */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Renders a path as a researcher would write it: `swav.crops_for_assign[2]`.
 * Keys that are not identifiers (a grid axis such as `swav.prototypes`) are bracketed and quoted,
 * so `axes["swav.prototypes"][0]` stays unambiguous. The empty path renders as `""`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** Splits `swav.prototypes` into `['swav', 'prototypes']`; rejects empty segments such as `swav..x`. */
export function splitDottedPath(path: string): string[] {
  const segments = path.split('.');
  if (segments.some((s) => s === '')) throw new Error(`invalid path "${path}": empty segment`);
  return segments;
}

/** A JSON object (not null, not an array): what a dotted path can step into. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the value at a dotted path; `undefined` when any step is missing or not an object. */
export function getAtPath(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of splitDottedPath(path)) {
    if (!isPlainObject(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/**
 * Returns a copy of `target` with `value` at the dotted path. Objects along the path are copied (the rest is
 * shared); missing intermediate objects are created. A step that holds something other than an object
 * (e.g. `eval.knn` set to null) is an error, because silently replacing it would change the spec's meaning.
 */
export function setAtPath(
  target: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const segments = splitDottedPath(path);
  const root = { ...target };
  let current = root;
  for (const [i, segment] of segments.entries()) {
    if (i === segments.length - 1) {
      current[segment] = value;
      break;
    }
    const next = current[segment];
    if (next === undefined) {
      current[segment] = {};
    } else if (isPlainObject(next)) {
      current[segment] = { ...next };
    } else {
      const where = segments.slice(0, i + 1).join('.');
      throw new Error(`cannot set "${path}": "${where}" is ${JSON.stringify(next)}, not an object`);
    }
    current = current[segment] as Record<string, unknown>;
  }
  return root;
}
