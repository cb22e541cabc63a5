// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests (z.toJSONSchema), served
// at /openapi.json, with Swagger UI at /docs.
import { createHash } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

type JsonSchema = Record<string, unknown>;

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string().meta({ description: 'stable machine-readable reason, e.g. validation_failed' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

/** Route response documentation for the error statuses a route can answer with. */
export function problemResponses(
  ...statuses: number[]
): Record<number, { description: string; content: Record<string, { schema: z.ZodType }> }> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: 'problem details', content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } },
    ]),
  );
}

/**
 * Converts a zod schema to a JSON Schema that can sit inside an OpenAPI document: `$defs` (named by their zod
 * `id`, else by content) move to `components.schemas`, whose references are rewritten accordingly.
 */
export class SchemaConverter {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
    }) as JsonSchema;
    const { $schema: _schema, $defs, ...root } = json;
    const renamed = new Map<string, string>();
    for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const digest = createHash('sha256').update(JSON.stringify(def)).digest('hex').slice(0, 10);
      renamed.set(
        name,
        name.startsWith('__schema') ? `Json${digest}` : io === 'input' ? `${name}Input` : name,
      );
    }
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries(
        Object.entries(value)
          .map(([key, inner]) => {
            if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')) {
              const target = renamed.get(inner.slice('#/$defs/'.length)) ?? inner;
              return [key, `#/components/schemas/${target}`];
            }
            if (key === 'id' && typeof inner === 'string' && renamed.has(inner)) return [key, undefined];
            return [key, rewrite(inner)];
          })
          .filter(([, inner]) => inner !== undefined),
      );
    };
    for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      this.components[renamed.get(name) as string] = rewrite(def) as JsonSchema;
    }
    return rewrite(root) as JsonSchema;
  }
}

function isZod(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType;
}

/** Converts zod schemas found where Fastify route schemas keep them (parts, and response `content`). */
function transformRouteSchema(
  schema: Record<string, unknown>,
  converter: SchemaConverter,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...schema };
  for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
    const value = schema[part];
    if (isZod(value)) out[part] = converter.convert(value, 'input');
  }
  const response = schema.response as Record<string, unknown> | undefined;
  if (response) {
    out.response = Object.fromEntries(
      Object.entries(response).map(([status, entry]) => {
        if (isZod(entry)) return [status, converter.convert(entry, 'output')];
        const documented = entry as { description?: string; content?: Record<string, { schema: unknown }> };
        const content = Object.fromEntries(
          Object.entries(documented.content ?? {}).map(([type, media]) => [
            type,
            { schema: isZod(media.schema) ? converter.convert(media.schema, 'output') : media.schema },
          ]),
        );
        return [status, { ...documented, content }];
      }),
    );
  }
  return out;
}

/**
 * Swagger UI's own policy, tightened and made to fit it: its bundle sets inline styles, which the policy's style
 * hashes cannot allow (so the console logged an error on every page), and nothing may come from elsewhere
 * (no https: fonts or styles, no validator badge).
 */
export function swaggerPolicy(header: string): string {
  const directives = header
    .split(';')
    .map((directive) => directive.trim())
    .filter((directive) => directive !== '' && directive !== 'upgrade-insecure-requests')
    .map((directive) => {
      const [name = ''] = directive.split(/\s+/, 1);
      if (name === 'style-src') return "style-src 'self' 'unsafe-inline'";
      if (name === 'font-src') return "font-src 'self' data:";
      if (name === 'img-src') return "img-src 'self' data:";
      if (name === 'frame-ancestors') return "frame-ancestors 'none'";
      return directive;
    });
  return directives.join('; ');
}

/** Registers @fastify/swagger (document at /openapi.json) and Swagger UI at /docs. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const converter = new SchemaConverter();
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'swavlab API',
        version: '1.0.0',
        description:
          'Submit SwAV pretraining runs and ablation grids, follow their progress, and query results. ' +
          'Errors are RFC 9457 problem details (application/problem+json).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token' } },
      },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({
      schema: (schema
        ? transformRouteSchema(schema as Record<string, unknown>, converter)
        : schema) as typeof schema,
      url,
    }),
    transformObject: (documentObject) => {
      const document =
        'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      const components =
        (document as { components?: { schemas?: Record<string, unknown> } }).components ?? {};
      components.schemas = { ...components.schemas, ...converter.components };
      return document;
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: swaggerPolicy,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
