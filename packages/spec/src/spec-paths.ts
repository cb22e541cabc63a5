import { ExperimentSpecFields } from './experiment-spec.js';
import { leafPaths } from './schema-walk.js';

/**
 * Dotted paths of every leaf field of the experiment spec (`seed`, `swav.prototypes`, `swav.crops`,
 * `eval.knn.k`, ...), derived from the schema so that it never drifts from it.
 */
export const SPEC_LEAF_PATHS: readonly string[] = Object.freeze(leafPaths(ExperimentSpecFields));

const LEAVES = new Set(SPEC_LEAF_PATHS);

/** Whether `path` names a leaf field of the experiment spec. */
export function isSpecLeafPath(path: string): boolean {
  return LEAVES.has(path);
}
