import { z } from 'zod';
import { ExperimentSpec } from './experiment-spec.js';
import { GridSpec } from './grid-spec.js';

type JsonSchema = z.core.JSONSchema.BaseSchema;

/** JSON Schema (draft 2020-12) of what clients may send as an experiment spec; cross-field rules are not expressible. */
export function toJsonSchema(): JsonSchema {
  return z.toJSONSchema(ExperimentSpec, { io: 'input', target: 'draft-2020-12' });
}

/** JSON Schema (draft 2020-12) of a grid spec as clients send it. */
export function gridToJsonSchema(): JsonSchema {
  return z.toJSONSchema(GridSpec, { io: 'input', target: 'draft-2020-12' });
}
