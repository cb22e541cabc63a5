import type { z } from 'zod';

/** Generic walks over zod schemas, so that field lists are derived from the schema instead of restated. */

type Schema = z.core.$ZodType;

/** Strips wrappers that do not change which fields exist (defaults, optional, nullable, transforms). */
function unwrap(schema: Schema): Schema {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return unwrap(def.innerType);
    case 'pipe':
      // A preprocess (transform → schema) has its fields on the out side; a transform after a schema, on the in side.
      return unwrap((def.in as z.core.$ZodTypes)._zod.def.type === 'transform' ? def.out : def.in);
    case 'lazy':
      return unwrap(def.getter());
    default:
      return schema;
  }
}

function child(schema: Schema, segment: PropertyKey): Schema | undefined {
  const def = (unwrap(schema) as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'object':
      return typeof segment === 'string' && Object.hasOwn(def.shape, segment)
        ? def.shape[segment]
        : undefined;
    case 'array':
      return typeof segment === 'number' ? def.element : undefined;
    case 'record':
      return def.valueType;
    case 'union':
      for (const option of def.options) {
        const found = child(option, segment);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

function objectKeys(schema: Schema): string[] | undefined {
  const def = (unwrap(schema) as z.core.$ZodTypes)._zod.def;
  if (def.type === 'object') return Object.keys(def.shape);
  if (def.type === 'union') {
    for (const option of def.options) {
      const keys = objectKeys(option);
      if (keys) return keys;
    }
  }
  return undefined;
}

/** Field names of the object schema found at `path` inside `root`, if there is one. */
export function objectKeysAt(root: Schema, path: readonly PropertyKey[]): string[] | undefined {
  let current: Schema | undefined = root;
  for (const segment of path) {
    current = current && child(current, segment);
  }
  return current && objectKeys(current);
}

/** Dotted paths of every non-object field (nullable sections are descended into). */
export function leafPaths(root: Schema, prefix = ''): string[] {
  const def = (unwrap(root) as z.core.$ZodTypes)._zod.def;
  if (def.type !== 'object') return [prefix];
  return Object.entries(def.shape).flatMap(([key, field]) =>
    leafPaths(field, prefix ? `${prefix}.${key}` : key),
  );
}
