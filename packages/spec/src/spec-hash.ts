import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { ExperimentSpec, type ExperimentSpecInput } from './experiment-spec.js';
import { issuesFromZod, SpecValidationError } from './issues.js';

/** Fields that describe a run without changing it: renaming or re-tagging a run keeps its identity. */
export const SPEC_METADATA_FIELDS = ['name', 'tags', 'recipe'] as const;

/** The sections that decide what is trained; a checkpoint may resume any spec that agrees on them. */
export const TRAINING_SECTIONS = ['seed', 'data', 'model', 'swav', 'optim'] as const;

function sha256(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/**
 * Hash of an already validated spec. `name`, `tags` and `recipe` are metadata: renaming a run does not change it,
 * and neither does writing the recipe's fields out instead of naming it.
 */
export function hashValidSpec(spec: ExperimentSpec): string {
  const metadata: readonly string[] = SPEC_METADATA_FIELDS;
  return sha256(Object.fromEntries(Object.entries(spec).filter(([key]) => !metadata.includes(key))));
}

/**
 * The resume identity of a validated spec: the hash of its training sections only, so that a checkpoint resumes a
 * spec that differs in `runtime`, `checkpoint` or `eval` (more GPUs, another evaluation) but nothing that is trained.
 */
export function trainingHash(spec: ExperimentSpec): string {
  return sha256(Object.fromEntries(TRAINING_SECTIONS.map((section) => [section, spec[section]])));
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
