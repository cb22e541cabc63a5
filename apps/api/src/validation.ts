// zod is the single source of request validation: route schemas are zod schemas, run by this compiler, and the
// same schemas become the OpenAPI document (openapi.ts). Every failure is a 400 problem naming the field.
import { issuesFromZod, issuesToText } from '@swavlab/spec';
import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import { z } from 'zod';
import { ProblemError, validationProblem } from './problem.js';

const PART_NAMES: Record<string, string> = {
  body: 'request body',
  querystring: 'query parameters',
  params: 'path parameters',
  headers: 'request headers',
};

/** Validates `input` with `schema`, throwing a 400 problem that names every offending field. */
export function parseOr400<T extends z.ZodType>(schema: T, input: unknown, where = 'request'): z.output<T> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const errors = issuesFromZod(result.error, { schema }).map((issue) => ({
    path: issue.path,
    message:
      issue.path === '' && where === 'request body' && input === null
        ? 'a JSON body is required'
        : issue.message,
  }));
  throw validationProblem(errors, where);
}

/** Fastify validator compiler for zod schemas: the parsed value (defaults, coercions) replaces the input. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  if (!(schema instanceof z.ZodType)) {
    throw new Error(`route schemas must be zod schemas (${httpPart ?? 'unknown part'} is not)`);
  }
  const where = PART_NAMES[httpPart ?? ''] ?? 'request';
  return (data: unknown) => {
    try {
      return { value: parseOr400(schema, data, where) };
    } catch (error) {
      if (error instanceof ProblemError) return { error };
      throw error;
    }
  };
};

interface SerializerRoute {
  schema: unknown;
  method: string;
  url: string;
  httpStatus?: string;
}

/**
 * Responses are plain JSON. Their zod schemas (packages/spec's wire views) document them, and with `validate` (the
 * tests) every response is also parsed with its schema, as a client reads it, so that a body that strays from its
 * documented shape fails the request instead of reaching a client.
 */
export function jsonSerializerCompiler(validate: boolean) {
  return ({ schema, method, url, httpStatus }: SerializerRoute) =>
    (data: unknown): string => {
      const text = JSON.stringify(data);
      if (validate && schema instanceof z.ZodType) {
        const result = schema.safeParse(JSON.parse(text));
        if (!result.success) {
          const issues = issuesToText(issuesFromZod(result.error));
          throw new Error(
            `the ${httpStatus ?? ''} response of ${method} ${url} does not match its schema:\n${issues}`,
          );
        }
      }
      return text;
    };
}

/** A query parameter that may be given once, repeated, or comma-separated: always a list of non-empty items. */
export function listParam<T extends z.ZodType>(item: T, maxItems = 50) {
  const split = (value: unknown) =>
    (Array.isArray(value) ? value : [value]).flatMap((v) =>
      typeof v === 'string' ? v.split(',').map((part) => part.trim()) : [v],
    );
  return z.preprocess(split, z.array(item).min(1).max(maxItems));
}

/** `true`/`false`/`1`/`0` in a query string. */
export const queryBoolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Run and grid ids: ULIDs, but any short token of safe characters is accepted (and then not found). */
export const ResourceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be an id (letters, digits, _ and -)');

/** Types request parts from their zod route schemas (the output type, as the validator replaces the input). */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}
