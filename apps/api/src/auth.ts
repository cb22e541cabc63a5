// Bearer-token authentication and scope checks. Routes declare the scope they need in their config
// (`config: { scope: 'read' }`); routes without one (health, docs) are public. Authentication is required when
// the server listens beyond loopback, SWAVLAB_API_TOKENS is set, or a token was ever created in the database
// (revoking the last one does not reopen the server); a local server that never had a token is open. A presented
// token is always checked, so a wrong one is reported even then. A client address that keeps presenting wrong
// tokens is refused for a while (429) before any database lookup, so guessing costs the server nothing.
import { timingSafeEqual } from 'node:crypto';
import type { Database } from '@swavlab/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiConfig, hashToken, isLoopbackHost } from './config.js';
import { sendProblem, toProblemError } from './errors.js';
import { ProblemError } from './problem.js';
import { hasScope, SCOPES, type Scope } from './scopes.js';
import type { StreamTickets } from './stream-tickets.js';

export interface Principal {
  /** `env:<n>`, `token:<id>` (a database token) or `anonymous` (open local server). */
  id: string;
  scopes: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; absent for public routes. */
    scope?: Scope;
    /** The route also accepts a stream ticket (`?ticket=`) for the run in its `:id` parameter. */
    ticket?: boolean;
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

/** Counts failed authentications per client address over a fixed one-minute window. */
export class FailedAuthentications {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    /** Failures allowed per address and minute; 0 = unlimited. */
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 when `address` has used up its failures of the current minute. */
  check(address: string): void {
    if (this.limit === 0) return;
    const window = this.#windows.get(address);
    if (window === undefined || window.resetAt <= this.now() || window.count < this.limit) return;
    const retryAfter = Math.ceil((window.resetAt - this.now()) / 1000);
    throw new ProblemError(
      429,
      'too_many_failed_authentications',
      `too many requests with a wrong token from this address; retry in ${retryAfter} s`,
      [],
      { 'retry-after': String(retryAfter) },
    );
  }

  fail(address: string): void {
    if (this.limit === 0) return;
    const now = this.now();
    const window = this.#windows.get(address);
    if (window === undefined || window.resetAt <= now) {
      // Expired windows go when the map grows, so that addresses that stopped cost no memory.
      if (this.#windows.size >= 10_000) {
        for (const [key, old] of this.#windows) if (old.resetAt <= now) this.#windows.delete(key);
      }
      this.#windows.set(address, { count: 1, resetAt: now + 60_000 });
    } else {
      window.count += 1;
    }
  }
}

export class Authenticator {
  readonly #failures: FailedAuthentications;

  constructor(
    private readonly config: ApiConfig,
    private readonly db: Database,
  ) {
    this.#failures = new FailedAuthentications(config.authFailuresPerMinute);
  }

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

  /** Whether requests must carry a token right now, and why (for the start-up log). */
  async mode(): Promise<{ required: boolean; reason: string }> {
    if (this.config.tokens.length > 0) return { required: true, reason: 'SWAVLAB_API_TOKENS is set' };
    if (!isLoopbackHost(this.config.host))
      return { required: true, reason: `it listens on ${this.config.host}` };
    return (await this.db.tokens.anyTokens({ active: false }))
      ? {
          required: true,
          reason: 'tokens were created in the database (revoked ones count: it never reopens)',
        }
      : {
          required: false,
          reason: 'it listens on loopback and no token was ever created: every local client is admin',
        };
  }

  /** Whether requests must carry a token right now. */
  async required(): Promise<boolean> {
    return (await this.mode()).required;
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
    this.#failures.check(request.ip);
    const stored = token.length <= 1024 ? await this.db.tokens.findApiToken(token) : null;
    if (stored) return { id: `token:${stored.id}`, scopes: stored.scopes };
    this.#failures.fail(request.ip);
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
export function registerAuth(
  app: FastifyInstance,
  authenticator: Authenticator,
  tickets: StreamTickets,
): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const needed = request.routeOptions.config.scope;
    if (needed === undefined) return;
    try {
      const ticket = request.routeOptions.config.ticket ? streamTicket(request) : undefined;
      request.principal =
        ticket === undefined
          ? await authorize(authenticator, request, needed)
          : await redeem(tickets, request, ticket);
    } catch (error) {
      const problem = toProblemError(error, request);
      if (problem.statusCode >= 500) request.log.error({ err: error }, 'authentication failed');
      return sendProblem(reply, problem);
    }
  });
}

function streamTicket(request: FastifyRequest): string | undefined {
  const { ticket } = request.query as { ticket?: unknown };
  return typeof ticket === 'string' && request.headers.authorization === undefined ? ticket : undefined;
}

async function redeem(tickets: StreamTickets, request: FastifyRequest, ticket: string): Promise<Principal> {
  const { id } = request.params as { id?: unknown };
  const principal = typeof id === 'string' ? await tickets.redeem(ticket, id) : null;
  if (principal === null) {
    throw new ProblemError(
      401,
      'invalid_ticket',
      'the stream ticket is not valid for this run, or has expired; ask for a new one',
      [],
      challenge(request, ', error="invalid_token"'),
    );
  }
  return principal;
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
