// Who may call what: the auth matrix (every protected route × no token, a wrong token, a token without the
// scope, a token with it), tokens from SWAVLAB_API_TOKENS and from the database, the open local mode, the
// refusal to serve the network without tokens, and rate limiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { startApiServer } from '../src/server.js';
import { tinySpec } from './fixtures.js';
import { expectProblem, freshDatabase, type Harness, REDIS_URL, startHarness } from './harness.js';

const READ = 'read-token-0123456789abcdef';
const SUBMIT = 'submit-token-0123456789abcdef';
const BOTH = 'both-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const ENV_TOKENS = `read:${READ},submit:${SUBMIT},read+submit:${BOTH},${ADMIN}`;

type Route = { method: 'GET' | 'POST'; url: string; scope: 'read' | 'submit' | 'admin'; payload?: object };

describe('auth matrix with SWAVLAB_API_TOKENS', () => {
  let h: Harness;
  let runId: string;
  let gridId: string;
  let routes: Route[];

  beforeAll(async () => {
    h = await startHarness({ env: { SWAVLAB_API_TOKENS: ENV_TOKENS } });
    const run = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: tinySpec(),
    });
    runId = run.json().id;
    const grid = await h.app.inject({
      method: 'POST',
      url: '/v1/grids',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { base: tinySpec(), axes: { 'swav.prototypes': [40, 41] } },
    });
    gridId = grid.json().id;
    routes = [
      { method: 'POST', url: '/v1/runs', scope: 'submit', payload: { ...tinySpec(), seed: 77 } },
      { method: 'GET', url: '/v1/runs', scope: 'read' },
      { method: 'GET', url: `/v1/runs/${runId}`, scope: 'read' },
      { method: 'GET', url: `/v1/runs/${runId}/metrics`, scope: 'read' },
      { method: 'GET', url: `/v1/runs/${runId}/checkpoints`, scope: 'read' },
      { method: 'POST', url: `/v1/runs/${runId}/retry`, scope: 'submit' },
      {
        method: 'POST',
        url: '/v1/grids?dry_run=true',
        scope: 'submit',
        payload: { base: tinySpec(), axes: { 'swav.prototypes': [50] } },
      },
      { method: 'GET', url: '/v1/grids', scope: 'read' },
      { method: 'GET', url: `/v1/grids/${gridId}`, scope: 'read' },
      { method: 'GET', url: `/v1/grids/${gridId}/metrics`, scope: 'read' },
      { method: 'GET', url: `/v1/grids/${gridId}/results`, scope: 'read' },
      { method: 'GET', url: '/v1/whoami', scope: 'read' },
      { method: 'POST', url: `/v1/grids/${gridId}/rerun-failed`, scope: 'submit' },
      { method: 'POST', url: `/v1/grids/${gridId}/seeds`, scope: 'submit', payload: { add: 1 } },
      { method: 'GET', url: '/metrics', scope: 'read' },
      { method: 'GET', url: '/admin/queues', scope: 'admin' },
      { method: 'GET', url: '/admin/queues/api/queues', scope: 'admin' },
      // Last: it changes the run's state.
      { method: 'POST', url: `/v1/runs/${runId}/cancel`, scope: 'submit' },
    ];
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (route: Route, authorization?: string) =>
    h.app.inject({
      method: route.method,
      url: route.url,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      ...(route.payload ? { payload: route.payload } : {}),
    });

  /** A token lacking the route's scope. */
  const insufficient = (scope: Route['scope']) =>
    scope === 'read' ? SUBMIT : scope === 'submit' ? READ : BOTH;
  /** A token holding exactly the route's scope. */
  const sufficient = (scope: Route['scope']) =>
    scope === 'read' ? READ : scope === 'submit' ? SUBMIT : ADMIN;

  it('answers every protected route with 401, 401, 403 and success', async () => {
    for (const route of routes) {
      const what = `${route.method} ${route.url}`;
      const missing = await call(route);
      expectProblem(missing, 401, 'unauthenticated');
      expect(missing.headers['www-authenticate'], what).toMatch(
        route.scope === 'admin' ? /^Basic / : /^Bearer /,
      );
      expectProblem(await call(route, 'Bearer wrong-token-0123456789abcdef'), 401, 'invalid_token');
      const forbidden = expectProblem(
        await call(route, `Bearer ${insufficient(route.scope)}`),
        403,
        'insufficient_scope',
      );
      expect(forbidden.detail, what).toContain(`"${route.scope}"`);
      const allowed = await call(route, `Bearer ${sufficient(route.scope)}`);
      expect([200, 201, 409], `${what}: ${allowed.body.slice(0, 200)}`).toContain(allowed.statusCode);
      const asAdmin = await call(route, `Bearer ${ADMIN}`);
      expect([200, 201, 409], `${what} as admin`).toContain(asAdmin.statusCode);
    }
  });

  it('says who the caller is and which scopes its token has (the dashboard hides what they do not allow)', async () => {
    const whoami = async (token: string) =>
      (await call({ method: 'GET', url: '/v1/whoami', scope: 'read' }, `Bearer ${token}`)).json();
    expect(await whoami(READ)).toEqual({ principal: 'env:1', scopes: ['read'] });
    expect(await whoami(BOTH)).toEqual({ principal: 'env:3', scopes: ['read', 'submit'] });
    expect((await whoami(ADMIN)).scopes).toEqual(['admin']);
  });

  it('leaves health, readiness and the API description public', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/']) {
      expect((await h.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });

  it('accepts database tokens by their scopes and refuses revoked ones', async () => {
    const { token, apiToken } = await h.db.tokens.createApiToken('ci', ['read']);
    const listed = await h.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.statusCode).toBe(200);
    const submit = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${token}` },
      payload: tinySpec(),
    });
    expectProblem(submit, 403, 'insufficient_scope');
    await h.db.tokens.revokeApiToken(apiToken.id);
    const revoked = await h.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${token}` },
    });
    expectProblem(revoked, 401, 'invalid_token');
  });

  it('lets a browser open the queue dashboard with Basic credentials whose password is an admin token', async () => {
    const basic = (token: string) => `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`;
    const page = await h.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: basic(ADMIN) },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Bull');
    const queues = await h.app.inject({
      method: 'GET',
      url: '/admin/queues/api/queues',
      headers: { authorization: basic(ADMIN) },
    });
    expect(queues.json().queues[0]).toMatchObject({ name: 'pretrain', readOnlyMode: true });
    expectProblem(
      await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: basic(READ) } }),
      403,
    );
  });

  it('rejects malformed Authorization headers', async () => {
    for (const header of ['Bearer', 'Token abc', 'Basic !!!']) {
      const response = await h.app.inject({
        method: 'GET',
        url: '/v1/runs',
        headers: { authorization: header },
      });
      expectProblem(response, 401);
    }
  });
});

describe('open local mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves a loopback server without tokens to anyone, until a token exists', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/v1/runs' })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/v1/whoami' })).json()).toEqual({
      principal: 'anonymous',
      scopes: ['read', 'submit', 'admin'],
    });
    expect((await h.app.inject({ method: 'GET', url: '/admin/queues' })).statusCode).toBe(200);
    const wrong = await h.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: 'Bearer nope' },
    });
    expectProblem(wrong, 401, 'invalid_token');
    const { token } = await h.db.tokens.createApiToken('first', ['admin']);
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/runs' }), 401, 'unauthenticated');
    const ok = await h.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode).toBe(200);
    // Revoking the last token does not reopen the server to anonymous admins.
    const [first] = await h.db.tokens.listApiTokens();
    await h.db.tokens.revokeApiToken(first?.id ?? '');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/runs' }), 401, 'unauthenticated');
  });
});

describe('failed authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { SWAVLAB_API_TOKENS: ADMIN }, config: { authFailuresPerMinute: 5 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is limited per address before any database lookup; environment tokens still work', async () => {
    const wrong = () =>
      h.app.inject({
        method: 'GET',
        url: '/v1/runs',
        headers: { authorization: 'Bearer wrong-token-guess' },
      });
    for (let i = 0; i < 5; i += 1) expectProblem(await wrong(), 401, 'invalid_token');
    const limited = expectProblem(await wrong(), 429, 'too_many_failed_authentications');
    expect(limited.detail).toMatch(
      /^too many requests with a wrong token from this address; retry in \d+ s$/,
    );
    const ok = await h.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('network exposure', () => {
  it('requires tokens when listening beyond loopback', async () => {
    const h = await startHarness({ env: { HOST: '0.0.0.0', SWAVLAB_API_TOKENS: ADMIN } });
    try {
      expectProblem(await h.app.inject({ method: 'GET', url: '/v1/runs' }), 401);
    } finally {
      await h.close();
    }
  });

  it('refuses to start on a non-loopback address without any token, and starts on loopback', async () => {
    const fresh = await freshDatabase('postgres');
    try {
      const base = {
        ...loadConfig({}),
        databaseUrl: fresh.url,
        redisUrl: REDIS_URL,
        logLevel: 'silent' as const,
        port: 0,
      };
      const refused = await startApiServer({ ...base, host: '0.0.0.0' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigError);
      expect((refused as Error).message).toMatch(
        /^HOST: refusing to listen on 0\.0\.0\.0 without API tokens/,
      );

      const server = await startApiServer({ ...base, host: '127.0.0.1' });
      try {
        const response = await fetch(`${server.url}/healthz`);
        expect(await response.json()).toEqual({ status: 'ok' });
      } finally {
        await server.close();
      }
    } finally {
      await fresh.drop();
    }
  });
});

describe('rate limiting', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { SWAVLAB_API_TOKENS: `${ADMIN},read:${READ}` },
      config: { rateLimitPerMinute: 3 },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('limits each token separately and answers 429 as a problem; health stays unlimited', async () => {
    const as = (token: string) =>
      h.app.inject({ method: 'GET', url: '/v1/runs', headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) expect((await as(ADMIN)).statusCode).toBe(200);
    const limited = await as(ADMIN);
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await as(READ)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('stream tickets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ backend: 'pglite', env: { SWAVLAB_API_TOKENS: `read:${READ}` } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('open one run’s event stream without a header, and nothing else', async () => {
    const run = await h.db.runs.createRun({ spec: { seed: 5 }, specHash: 'c'.repeat(64), seed: 5 });
    const other = await h.db.runs.createRun({ spec: { seed: 6 }, specHash: 'd'.repeat(64), seed: 6 });
    const id = run.run.id;
    const claim = await h.db.runs.claimRun(id, { workerHost: 'w', device: 'cpu' });
    await h.db.runs.finishRun(id, claim?.token ?? '', { status: 'succeeded' });
    const issue = (runId: string, headers: Record<string, string>) =>
      h.app.inject({
        method: 'POST',
        url: `/v1/runs/${runId}/events/ticket`,
        headers: { 'content-type': 'application/json', ...headers },
      });
    expectProblem(await issue(id, {}), 401, 'unauthenticated');
    const issued = await issue(id, { authorization: `Bearer ${READ}` });
    expect(issued.statusCode).toBe(201);
    const { ticket, expires_in } = issued.json() as { ticket: string; expires_in: number };
    expect(expires_in).toBe(300);

    const stream = await h.app.inject({ method: 'GET', url: `/v1/runs/${id}/events?ticket=${ticket}` });
    expect(stream.statusCode).toBe(200);
    expect(stream.body).toContain('event: end');
    expectProblem(
      await h.app.inject({ method: 'GET', url: `/v1/runs/${other.run.id}/events?ticket=${ticket}` }),
      401,
      'invalid_ticket',
    );
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/runs/${id}/events?ticket=forged` }), 401);
    // A ticket is for the stream only: other routes still want the token.
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/runs/${id}?ticket=${ticket}` }), 401);
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/runs/${id}/metrics?ticket=${ticket}` }), 401);
  });
});
