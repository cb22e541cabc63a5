// Acceptance: hostile and malformed requests. Every one gets a 4xx application/problem+json naming the field at
// fault (where there is one), none gets a 5xx, nothing is stored, and the server keeps answering afterwards.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinySpec } from './fixtures.js';
import { type Harness, startHarness } from './harness.js';

interface Hostile {
  what: string;
  method?: 'GET' | 'POST';
  url?: string;
  /** JSON text sent as is (so that it can be malformed, or hold what JSON.stringify cannot write). */
  raw?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** The path the first error must name; undefined for errors that concern no field (413, 415). */
  path?: string;
}

const folder = (path: string) => tinySpec({ data: { source: 'folder', path } });
const nested = (depth: number, open: string, close: string, leaf = '1') =>
  `{"name": ${open.repeat(depth)}${leaf}${close.repeat(depth)}}`;
const q = (expression: string) => `/v1/runs?q=${encodeURIComponent(expression)}`;

const HOSTILE: Hostile[] = [
  { what: 'array body', body: [], status: 400, path: '' },
  { what: 'string body', body: 'spec', status: 400, path: '' },
  { what: 'null body', raw: 'null', status: 400, path: '' },
  { what: 'seed as a string', body: { seed: '31' }, status: 400, path: 'seed' },
  { what: 'negative seed', body: { seed: -1 }, status: 400, path: 'seed' },
  { what: 'huge seed', body: { seed: 1e308 }, status: 400, path: 'seed' },
  { what: 'unsafe integer seed', raw: '{"seed": 9007199254740993}', status: 400, path: 'seed' },
  {
    what: 'infinite prototypes',
    raw: '{"swav": {"prototypes": 1e400}}',
    status: 400,
    path: 'swav.prototypes',
  },
  {
    what: 'fractional prototypes',
    body: { swav: { prototypes: 3.5 } },
    status: 400,
    path: 'swav.prototypes',
  },
  {
    what: 'negative temperature',
    body: { swav: { temperature: -0.1 } },
    status: 400,
    path: 'swav.temperature',
  },
  { what: 'truncated crop notation', body: { swav: { crops: '2x224+' } }, status: 400, path: 'swav.crops' },
  {
    what: 'enormous crop notation',
    body: { swav: { crops: '2x'.repeat(5000) } },
    status: 400,
    path: 'swav.crops',
  },
  {
    what: 'repeated crop index',
    body: { swav: { crops_for_assign: [0, 0] } },
    status: 400,
    path: 'swav.crops_for_assign[1]',
  },
  { what: 'unknown top-level field', body: { gpus: 8 }, status: 400, path: 'gpus' },
  { what: 'unknown nested field', body: { swav: { epsilon2: 1 } }, status: 400, path: 'swav.epsilon2' },
  { what: '__proto__ key', raw: '{"__proto__": {"admin": true}}', status: 400, path: '__proto__' },
  {
    what: 'constructor.prototype',
    body: { constructor: { prototype: { admin: true } } },
    status: 400,
    path: 'constructor',
  },
  { what: 'very long name', body: { name: 'n'.repeat(1000) }, status: 400, path: 'name' },
  { what: 'tag with spaces', body: { tags: ['bad tag!'] }, status: 400, path: 'tags[0]' },
  {
    what: 'too many tags',
    body: { tags: Array.from({ length: 100 }, (_, i) => `t${i}`) },
    status: 400,
    path: 'tags',
  },
  { what: 'priority 0', body: { priority: 0 }, status: 400, path: 'priority' },
  { what: 'priority 1001', body: { priority: 1001 }, status: 400, path: 'priority' },
  { what: 'priority as text', body: { priority: 'high' }, status: 400, path: 'priority' },
  { what: 'data.path with ..', body: folder('../../etc'), status: 400, path: 'data.path' },
  { what: 'absolute data.path outside the roots', body: folder('/etc'), status: 400, path: 'data.path' },
  { what: 'data.path through an escaping symlink', body: folder('escape'), status: 400, path: 'data.path' },
  {
    what: 'data.path climbing out of a real folder',
    body: folder('ok/../../..'),
    status: 400,
    path: 'data.path',
  },
  { what: 'data.path that does not exist', body: folder('missing'), status: 400, path: 'data.path' },
  { what: 'data.path with a NUL byte', body: folder('ok\u0000/x'), status: 400, path: 'data.path' },
  {
    what: 'model.init_from outside the roots',
    body: tinySpec({ model: { arch: 'tiny', init_from: '/etc/passwd' } }),
    status: 400,
    path: 'model.init_from',
  },
  {
    what: 'model.init_from naming a folder, not a checkpoint file',
    body: tinySpec({ model: { arch: 'tiny', init_from: 'ok' } }),
    status: 400,
    path: 'model.init_from',
  },
  {
    what: 'data.classes_file escaping the roots',
    body: tinySpec({ data: { source: 'imagefolder', path: 'ok', classes_file: '../../etc/hosts' } }),
    status: 400,
    path: 'data.classes_file',
  },
  {
    what: 'eval.semisup.subset_file that does not exist',
    body: tinySpec({ eval: { semisup: { subset_file: 'missing.txt' } } }),
    status: 400,
    path: 'eval.semisup.subset_file',
  },
  { what: 'an unknown recipe', body: { ...tinySpec(), recipe: 'swav-bs9' }, status: 400, path: 'recipe' },
  { what: '10k nested arrays', raw: nested(10_000, '[', ']'), status: 400, path: `name${'[0]'.repeat(31)}` },
  {
    what: '10k nested objects',
    raw: nested(10_000, '{"a":', '}'),
    status: 400,
    path: `name${'.a'.repeat(31)}`,
  },
  { what: 'oversized body', body: { name: 'x'.repeat(2 * 1024 * 1024) }, status: 413 },
  { what: 'malformed JSON', raw: '{"seed": ', status: 400, path: '' },
  {
    what: 'form-encoded body',
    raw: 'seed=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
  },
  { what: 'unknown architecture', body: { model: { arch: 'resnet9000' } }, status: 400, path: 'model.arch' },
  { what: 'negative epochs', body: { optim: { epochs: -1 } }, status: 400, path: 'optim.epochs' },
  { what: 'empty k-NN list', body: { eval: { knn: { k: [] } } }, status: 400, path: 'eval.knn.k' },
  { what: 'too many GPUs', body: { runtime: { gpus: 65 } }, status: 400, path: 'runtime.gpus' },
  {
    what: 'Idempotency-Key too long',
    body: tinySpec(),
    headers: { 'idempotency-key': 'k'.repeat(300) },
    status: 400,
    path: 'Idempotency-Key',
  },
  { what: 'negative page size', method: 'GET', url: '/v1/runs?page_size=-1', status: 400, path: 'page_size' },
  { what: 'huge page size', method: 'GET', url: '/v1/runs?page_size=1e9', status: 400, path: 'page_size' },
  {
    what: 'forged page token',
    method: 'GET',
    url: `/v1/runs?page_token=${Buffer.from('["2020-01-01","x"]').toString('base64url')}`,
    status: 400,
    path: 'page_token',
  },
  {
    what: 'binary page token',
    method: 'GET',
    url: '/v1/runs?page_token=%00%01%02',
    status: 400,
    path: 'page_token',
  },
  {
    what: 'SQL injection in q',
    method: 'GET',
    url: q("status = 'failed'; DROP TABLE runs; --"),
    status: 400,
    path: 'q',
  },
  { what: 'tautology in q', method: 'GET', url: q("name = 'x' OR 1 = 1"), status: 400, path: 'q' },
  { what: '1000 open parentheses in q', method: 'GET', url: q('('.repeat(1000)), status: 400, path: 'q' },
  { what: 'overlong q', method: 'GET', url: q(`name = '${'x'.repeat(3000)}'`), status: 400, path: 'q' },
  {
    what: 'unknown status filter',
    method: 'GET',
    url: '/v1/runs?status=all',
    status: 400,
    path: 'status[0]',
  },
  {
    what: 'path traversal as a run id',
    method: 'GET',
    url: '/v1/runs/..%2F..%2Fetc%2Fpasswd',
    status: 400,
    path: 'id',
  },
  { what: 'overlong run id', method: 'GET', url: `/v1/runs/${'a'.repeat(100)}`, status: 400, path: 'id' },
  {
    what: 'non-numeric max_points',
    method: 'GET',
    url: '/v1/runs/abc/metrics?max_points=abc',
    status: 400,
    path: 'max_points',
  },
  {
    what: '__proto__ as group_by',
    method: 'GET',
    url: '/v1/grids/abc/results?group_by=__proto__',
    status: 400,
    path: 'group_by[0]',
  },
  {
    what: 'axis with 2000 values',
    url: '/v1/grids',
    body: { base: {}, axes: { 'swav.prototypes': Array.from({ length: 2000 }, (_, i) => i + 2) } },
    status: 400,
    path: 'axes["swav.prototypes"]',
  },
  {
    what: 'grid of 10,201 cells',
    url: '/v1/grids',
    body: {
      base: {},
      axes: {
        'swav.prototypes': Array.from({ length: 101 }, (_, i) => i + 2),
        'optim.epochs': Array.from({ length: 101 }, (_, i) => i + 1),
      },
    },
    status: 400,
    path: 'axes',
  },
  { what: 'NUL in a run name', body: { name: 'a\u0000b' }, status: 400, path: 'name' },
  { what: 'NUL in a tag', body: { tags: ['ok', 'x\u0000'] }, status: 400, path: 'tags[1]' },
  { what: 'NUL in an object key', body: { swav: { 'x\u0000': 1 } }, status: 400, path: 'swav["x\\u0000"]' },
  {
    what: 'NUL in a grid name',
    url: '/v1/grids',
    body: { name: '\u0000', base: {}, axes: { 'swav.prototypes': [10, 20] } },
    status: 400,
    path: 'name',
  },
  { what: 'NUL in the tag filter', method: 'GET', url: '/v1/runs?tag=a%00b', status: 400, path: 'tag' },
  { what: 'NUL in a search string', method: 'GET', url: q("name = 'a\u0000'"), status: 400, path: 'q' },
  {
    what: 'NUL in a regression commit',
    url: '/v1/regressions',
    body: {
      suite: { name: 'tiny', spec: {}, metrics: [{ name: 'knn_top1@20' }] },
      baseline: 'main',
      commit: 'ab\u0000',
    },
    status: 400,
    path: 'commit',
  },
  { what: 'NUL in a run id', method: 'GET', url: '/v1/runs/a%00b', status: 400, path: 'id' },
  ...[
    ['a page token of February 30', '["2026-02-30T00:00:00.000Z","01ABC"]'],
    ['a page token of year 0', '["0000-01-01T00:00:00.000Z","01ABC"]'],
    ['a page token with a NUL in its id', '["2026-01-01T00:00:00.000Z","01\u0000"]'],
  ].map(([what, token]) => ({
    what: what as string,
    method: 'GET' as const,
    url: `/v1/runs?page_token=${Buffer.from(token as string).toString('base64url')}`,
    status: 400,
    path: 'page_token',
  })),
  {
    what: 'a regressions page token of February 30',
    method: 'GET',
    url: `/v1/regressions?page_token=${Buffer.from('["2026-02-30T00:00:00.000Z","01ABC"]').toString('base64url')}`,
    status: 400,
    path: 'page_token',
  },
  {
    what: 'k-NN temperature of 1e308',
    body: { eval: { knn: { temperature: 1e308 } } },
    status: 400,
    path: 'eval.knn.temperature',
  },
  {
    what: 'swav temperature of 5e-324',
    body: { swav: { temperature: 5e-324 } },
    status: 400,
    path: 'swav.temperature',
  },
  {
    what: 'evaluation every 9e15 epochs',
    body: { eval: { every_epochs: 9e15 } },
    status: 400,
    path: 'eval.every_epochs',
  },
  {
    what: 'grid axis escaping the data roots',
    url: '/v1/grids',
    body: { base: folder('ok'), axes: { 'data.path': ['ok', '../../etc'] } },
    status: 400,
    path: 'axes["data.path"][1]',
  },
];

describe('hostile payloads', () => {
  let h: Harness;
  let roots: string;

  beforeAll(async () => {
    roots = mkdtempSync(join(tmpdir(), 'swavlab-roots-'));
    const outside = mkdtempSync(join(tmpdir(), 'swavlab-outside-'));
    mkdirSync(join(roots, 'data', 'ok'), { recursive: true });
    symlinkSync(outside, join(roots, 'data', 'escape'));
    h = await startHarness({ config: { dataRoots: [join(roots, 'data')] } });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(roots, { recursive: true, force: true });
  });

  it('has at least 50 cases', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(50);
  });

  it.each(HOSTILE)('$what → $status', async (hostile) => {
    const method = hostile.method ?? 'POST';
    const headers: Record<string, string> = { ...hostile.headers };
    let payload: string | undefined;
    if (method === 'POST') {
      headers['content-type'] ??= 'application/json';
      payload = hostile.raw ?? JSON.stringify(hostile.body);
    }
    const response = await h.app.inject({ method, url: hostile.url ?? '/v1/runs', headers, payload });
    expect(response.statusCode, response.body.slice(0, 300)).toBe(hostile.status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(problem).toMatchObject({
      status: hostile.status,
      code: expect.any(String),
      detail: expect.any(String),
    });
    if (hostile.path !== undefined) expect(problem.errors[0]?.path).toBe(hostile.path);
    expect(response.body).not.toMatch(/at .+\.(ts|js):\d+/);
  });

  it('stored nothing and still answers', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ method: 'GET', url: '/v1/runs' })).json().runs).toEqual([]);
    expect(await h.db.grids.getGrid('any')).toBeNull();
  });

  it('accepts a folder dataset inside the roots', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: folder('ok') });
    expect(response.statusCode, response.body).toBe(201);
    const absolute = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: folder(join(roots, 'data', 'ok')),
    });
    expect(absolute.statusCode, absolute.body).toBe(201);
  });
});

describe('errors raised before routing, on a listening server', () => {
  let h: Harness;
  let url: string;

  beforeAll(async () => {
    h = await startHarness({ backend: 'pglite' });
    url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers over-long headers (431) and path parameters (414) with problems', async () => {
    const headers = await fetch(`${url}/v1/runs`, { headers: { 'x-filler': 'a'.repeat(20_000) } });
    expect(headers.status).toBe(431);
    expect(headers.headers.get('content-type')).toBe('application/problem+json');
    expect(await headers.json()).toMatchObject({ status: 431, code: 'headers_too_large', errors: [] });

    const param = await fetch(`${url}/v1/runs/${'a'.repeat(300)}`);
    expect(param.status).toBe(414);
    expect(param.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await param.json()).toMatchObject({ status: 414, code: 'url_too_long' });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe('Idempotency-Keys per client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ backend: 'pglite', config: { idempotencyKeys: 3 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('are bounded: a client past its budget gets 429, while its existing keys still replay', async () => {
    const post = (key: string, seed: number) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        payload: JSON.stringify(tinySpec({ seed })),
      });
    for (const [i, key] of ['k1', 'k2', 'k3'].entries())
      expect((await post(key, 900 + i)).statusCode).toBe(201);
    const over = await post('k4', 903);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({
      code: 'idempotency_budget_exhausted',
      errors: [{ path: 'Idempotency-Key' }],
    });
    const replay = await post('k2', 901);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const withoutKey = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: tinySpec({ seed: 904 }),
    });
    expect(withoutKey.statusCode).toBe(201);
  });
});

describe('requests a browser page of another site could make', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      backend: 'pglite',
      env: { SWAVLAB_ALLOWED_ORIGINS: 'https://lab.example.org' },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuse state changes without a JSON content type, foreign origins and foreign host names', async () => {
    const cancel = (headers: Record<string, string>) =>
      h.app.inject({ method: 'POST', url: '/v1/runs/01NOSUCHRUN/cancel', headers });
    expect((await cancel({})).json()).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect((await cancel({ 'content-type': 'text/plain' })).statusCode).toBe(415);
    expect((await cancel({ 'x-swavlab-client': 'script' })).statusCode).toBe(404);
    expect((await cancel({ 'content-type': 'application/json' })).statusCode).toBe(404);
    const foreign = await cancel({ 'content-type': 'application/json', origin: 'https://evil.example' });
    expect(foreign.json()).toMatchObject({ status: 403, code: 'cross_origin_refused' });
    expect(
      (await cancel({ 'content-type': 'application/json', origin: 'http://localhost:80' })).statusCode,
    ).toBe(404);
    expect(
      (await cancel({ 'content-type': 'application/json', origin: 'https://lab.example.org' })).statusCode,
    ).toBe(404);
    const rebound = await h.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { host: 'rebind.example:8080' },
    });
    expect(rebound.json()).toMatchObject({ status: 421, code: 'host_not_allowed' });
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/runs', headers: { host: '[::1]:8080' } })).statusCode,
    ).toBe(200);
    const headers = (await h.app.inject({ method: 'GET', url: '/healthz' })).headers;
    expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  });
});
