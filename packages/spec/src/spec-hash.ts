import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { ExperimentSpec, type ExperimentSpecInput } from './experiment-spec.js';
import { issuesFromZod, SpecValidationError } from './issues.js';

/**
 * Hash of an already validated spec. `name`, `tags` and `recipe` are metadata: renaming a run does not change it,
 * and neither does writing the recipe's fields out instead of naming it.
 */
export function hashValidSpec(spec: ExperimentSpec): string {
  const { name: _name, tags: _tags, recipe: _recipe, ...identity } = spec;
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

/**
 * The run identity: hex sha256 of the canonical JSON of the spec after defaults (keys sorted, crops in the
 * structured form, seed included, `name` and `tags` excluded). Throws `SpecValidationError` for an invalid spec.
 */
export function specHash(spec: ExperimentSpecInput | ExperimentSpec): string {
  const result = ExperimentSpec.safeParse(spec, { reportInput: true });
  if (!result.success) throw new SpecValidationError(issuesFromZod(result.error, { schema: ExperimentSpec }));
  return hashValidSpec(result.data);
}
