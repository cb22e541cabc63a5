// Bearer-token authentication and scope checks. Routes declare the scope they need in their config
// (`config: { scope: 'read' }`); routes without one (health, docs) are public. Authentication is required when
// the server listens beyond loopback or any token exists (SWAVLAB_API_TOKENS or the database); a local server
// without tokens is open. A presented token is always checked, so a wrong one is reported even then.
import { timingSafeEqual } from 'node:crypto';
import type { Database } from '@swavlab/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiConfig, hashToken, isLoopbackHost } from './config.js';
import { sendProblem, toProblemError } from './errors.js';
import { ProblemError } from './problem.js';
import { hasScope, SCOPES, type Scope } from './scopes.js';
import { runSql, sql } from './sql.js';

export interface Principal {
  /** `env:<n>`, `token:<id>` (a database token) or `anonymous` (open local server). */
  id: string;
  scopes: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; absent for public routes. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const ANONYMOUS: Principal = { id: 'anonymous', scopes: SCOPES };

function challenge(request: FastifyRequest, extra = ''): Record<string, string> {
  // Browsers only prompt for Basic credentials; the queue dashboard is opened in a browser.
  const scheme = request.url.startsWith('/admin/')
    ? 'Basic realm="swavlab admin"'
    : `Bearer realm="swavlab"${extra}`;
  return { 'www-authenticate': scheme };
}

/** The token in `Authorization: Bearer <token>`, or the password of `Basic` credentials; null when absent. */
export function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^(\w+)\s+(.+)$/.exec(header.trim());
  if (match === null)
    throw new ProblemError(
      401,
      'invalid_authorization',
      'malformed Authorization header',
      [],
      challenge(request),
    );
  const scheme = (match[1] as string).toLowerCase();
  const value = match[2] as string;
  if (scheme === 'bearer') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon !== -1) return decoded.slice(colon + 1);
  }
  throw new ProblemError(
    401,
    'invalid_authorization',
    'use Authorization: Bearer <token>',
    [],
    challenge(request),
  );
}

export class Authenticator {
  constructor(
    private readonly config: ApiConfig,
    private readonly db: Database,
  ) {}

  private matchEnvToken(token: string): Principal | null {
    const digest = Buffer.from(hashToken(token), 'hex');
    let found: Principal | null = null;
    // Compare with every entry in constant time, so the position of a match does not show in the timing.
    for (const entry of this.config.tokens) {
      if (timingSafeEqual(digest, Buffer.from(entry.sha256, 'hex')))
        found = { id: entry.name, scopes: entry.scopes };
    }
    return found;
  }

  /** Whether requests must carry a token right now. */
  async required(): Promise<boolean> {
    if (this.config.tokens.length > 0 || !isLoopbackHost(this.config.host)) return true;
    const [row] = await runSql<{ present: boolean }>(
      this.db,
      sql`SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL) AS present`,
    );
    return row?.present === true;
  }

  /** The principal of a request: its token's, anonymous when none is needed; throws 401 otherwise. */
  async authenticate(request: FastifyRequest): Promise<Principal> {
    const token = presentedToken(request);
    if (token === null) {
      if (await this.required()) {
        throw new ProblemError(
          401,
          'unauthenticated',
          'this server requires a bearer token',
          [],
          challenge(request),
        );
      }
      return ANONYMOUS;
    }
    const fromEnv = this.matchEnvToken(token);
    if (fromEnv) return fromEnv;
    const stored = token.length <= 1024 ? await this.db.tokens.findApiToken(token) : null;
    if (stored) return { id: `token:${stored.id}`, scopes: stored.scopes };
    throw new ProblemError(
      401,
      'invalid_token',
      'the token is not valid or has been revoked',
      [],
      challenge(request, ', error="invalid_token"'),
    );
  }
}

/**
 * Checks every request to a route that declares a scope. A refusal is sent from the hook itself rather than
 * thrown, so that plugins with error handlers of their own (bull-board) still answer with a problem.
 */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const needed = request.routeOptions.config.scope;
    if (needed === undefined) return;
    try {
      request.principal = await authorize(authenticator, request, needed);
    } catch (error) {
      const problem = toProblemError(error, request);
      if (problem.statusCode >= 500) request.log.error({ err: error }, 'authentication failed');
      return sendProblem(reply, problem);
    }
  });
}

async function authorize(
  authenticator: Authenticator,
  request: FastifyRequest,
  needed: Scope,
): Promise<Principal> {
  const principal = await authenticator.authenticate(request);
  if (!hasScope(principal.scopes, needed)) {
    throw new ProblemError(
      403,
      'insufficient_scope',
      `this request needs the "${needed}" scope; the token has ${principal.scopes.length > 0 ? principal.scopes.join(', ') : 'none'}`,
      [],
      challenge(request, `, error="insufficient_scope", scope="${needed}"`),
    );
  }
  return principal;
}
