// Side-by-side comparison of runs: which spec leaves differ (their final metrics come from @swavlab/db's runMetrics).
import type { JsonObject } from '@swavlab/db';
import { canonicalJson, getAtPath, isPlainObject } from '@swavlab/spec';

export interface SpecDifference {
  path: string;
  /** The value at `path` in each run's spec, null where a spec lacks it. */
  values: unknown[];
}

/** Dotted paths of the leaves (anything but a non-empty object; arrays are leaves) of `value`. */
function leafPaths(value: Record<string, unknown>, prefix: string, out: Set<string>): void {
  for (const [key, inner] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isPlainObject(inner) && Object.keys(inner).length > 0) leafPaths(inner, path, out);
    else out.add(path);
  }
}

/** Leaf paths whose values are not all equal across `specs`, sorted by path. */
export function specDifferences(specs: readonly JsonObject[]): SpecDifference[] {
  const paths = new Set<string>();
  for (const spec of specs) leafPaths(spec, '', paths);
  const differences: SpecDifference[] = [];
  for (const path of [...paths].sort()) {
    const values = specs.map((spec) => getAtPath(spec, path) ?? null);
    const distinct = new Set(values.map((value) => canonicalJson(value)));
    if (distinct.size > 1) differences.push({ path, values });
  }
  return differences;
}
