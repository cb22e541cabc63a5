import { ExperimentSpec } from './experiment-spec.js';
import { type Issue, issuesFromZod } from './issues.js';

export type ParseResult<T> = { ok: true; spec: T } | { ok: false; errors: Issue[] };

/** Validates an experiment spec and applies defaults; errors name the path and say what is wrong. */
export function parseExperimentSpec(input: unknown): ParseResult<ExperimentSpec> {
  const result = ExperimentSpec.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, spec: result.data };
  return { ok: false, errors: issuesFromZod(result.error, { schema: ExperimentSpec }) };
}
