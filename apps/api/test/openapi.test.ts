import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

let h: Harness;
let document: Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> };

beforeAll(async () => {
  h = await startHarness();
  document = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => {
  await h?.close();
});

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents every v1 route and operation, and nothing internal', () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /healthz',
        'GET /metrics',
        'GET /readyz',
        'GET /v1/grids',
        'GET /v1/grids/{id}',
        'GET /v1/grids/{id}/metrics',
        'GET /v1/whoami',
        'GET /v1/grids/{id}/results',
        'GET /v1/grids/{id}/pivot',
        'GET /v1/grids/{id}/cells',
        'GET /v1/compare',
        'GET /v1/runs',
        'GET /v1/runs/{id}',
        'GET /v1/runs/{id}/checkpoints',
        'GET /v1/runs/{id}/checkpoints/{step}/file',
        'GET /v1/runs/{id}/backbone',
        'GET /v1/runs/{id}/events',
        'GET /v1/runs/{id}/metrics',
        'POST /v1/grids',
        'POST /v1/runs',
        'POST /v1/runs/{id}/cancel',
        'POST /v1/runs/{id}/retry',
        'POST /v1/runs/{id}/events/ticket',
        'POST /v1/runs/{id}/evaluations',
        'GET /v1/runs/{id}/evaluations',
        'GET /v1/runs/{id}/evaluations/{evaluation_id}',
        'POST /v1/grids/{id}/rerun-failed',
        'POST /v1/grids/{id}/seeds',
        'POST /v1/regressions',
        'GET /v1/regressions',
        'GET /v1/regressions/{id}',
        'GET /v1/suites/{name}/history',
        'POST /v1/baselines',
        'GET /v1/baselines/{name}',
        'GET /v1/recipes',
        'GET /v1/recipes/{name}',
      ].sort(),
    );
  });

  it('derives request schemas from the zod schemas (spec fields, limits, strictness)', () => {
    const post = document.paths['/v1/runs']?.post as {
      requestBody: { content: Record<string, { schema: Record<string, unknown> }> };
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    const body = post.requestBody.content['application/json']?.schema as {
      $ref?: string;
      properties?: Record<string, unknown>;
    };
    const schemas = (
      document.components as {
        schemas: Record<string, { properties: Record<string, unknown>; additionalProperties: unknown }>;
      }
    ).schemas;
    const resolved = body.$ref
      ? schemas[body.$ref.split('/').at(-1) as string]
      : (body as (typeof schemas)[string]);
    expect(resolved?.additionalProperties).toBe(false);
    expect(resolved?.properties.priority).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    expect(resolved?.properties.swav).toMatchObject({
      properties: { prototypes: { type: 'integer', minimum: 2, maximum: 200000, default: 3000 } },
    });
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '422']));
    expect(Object.keys(post.responses['400']?.content ?? {})).toEqual(['application/problem+json']);

    const list = document.paths['/v1/runs']?.get as { parameters: { name: string; in: string }[] };
    expect(list.parameters.map((p) => p.name).sort()).toEqual([
      'grid',
      'page_size',
      'page_token',
      'q',
      'sort',
      'status',
      'tag',
    ]);
    const grids = document.paths['/v1/grids']?.post as { parameters: { name: string }[] };
    expect(grids.parameters.map((p) => p.name)).toEqual(['dry_run']);
  });

  it('serves Swagger UI at /docs', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger');
  });
});
