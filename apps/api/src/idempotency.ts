// Idempotency-Key support for POSTs that create things: the first response to a key is stored in Redis for a
// day and replayed for a retry with the same body; the same key with a different body is refused (422), and a
// retry that arrives while the first request is still being served gets 409. Each client (token, or anonymous)
// may hold a bounded number of live keys, so that a stream of distinct keys cannot fill Redis.
import { createHash } from 'node:crypto';
import { canonicalJson } from '@swavlab/spec';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ProblemError, validationProblem } from './problem.js';
import { guardRedis } from './redis-guard.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const DONE_TTL_SECONDS = 24 * 60 * 60;
/** How long a request may hold a key before a retry may take over (a crashed request must not lock it). */
const PENDING_TTL_SECONDS = 60;

interface StoredResponse {
  state: 'pending' | 'done';
  fingerprint: string;
  status?: number;
  body?: unknown;
}

type IdempotencyClaim<Status extends number = number, Body = unknown> =
  | { kind: 'none' }
  | { kind: 'claimed'; redisKey: string; fingerprint: string }
  /** The stored response: one this route sent, hence of its status and body types. */
  | { kind: 'replay'; status: Status; body: Body };

/** What a route sends: its status and body, with `idempotent-replayed: true` when they are a stored response's. */
export interface ServedResponse<Status extends number, Body> {
  status: Status;
  body: Body;
  headers: Record<string, string>;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Live keys (stored within the last day) one client may hold. */
    private readonly budget: number,
  ) {}

  /**
   * Counts `redisKey` against its client's budget (a sorted set of the client's keys by expiry); throws 429 when
   * the client already holds `budget` other live keys.
   */
  async #spend(principal: string, redisKey: string): Promise<void> {
    const budgetKey = `${this.prefix}:idempotency-budget:${sha256(principal)}`;
    const now = Date.now();
    const results = await guardRedis(this.redis, 'idempotency budget', () =>
      this.redis
        .multi()
        .zremrangebyscore(budgetKey, '-inf', now)
        .zcard(budgetKey)
        .zscore(budgetKey, redisKey)
        .exec(),
    );
    const live = Number(results?.[1]?.[1] ?? 0);
    const known = results?.[2]?.[1] !== null && results?.[2]?.[1] !== undefined;
    if (!known && live >= this.budget) {
      throw new ProblemError(
        429,
        'idempotency_budget_exhausted',
        `this client holds ${this.budget} Idempotency-Keys of the last 24 h, the most it may; send the request ` +
          'without an Idempotency-Key, or reuse keys only for retries',
        [{ path: 'Idempotency-Key', message: `at most ${this.budget} live keys per client` }],
      );
    }
    await guardRedis(this.redis, 'idempotency budget', () =>
      this.redis
        .multi()
        .zadd(budgetKey, now + DONE_TTL_SECONDS * 1000, redisKey)
        .expire(budgetKey, DONE_TTL_SECONDS)
        .exec(),
    );
  }

  /**
   * Serves a POST under its Idempotency-Key (when it has one): a stored response is replayed; otherwise `respond`
   * runs and what it answers is stored for the key's retries, or the key is freed when it fails. `fingerprint` is
   * what a retry must repeat (the body, and whatever else identifies the request).
   */
  async serve<Status extends number, Body>(
    request: FastifyRequest,
    fingerprint: unknown,
    respond: () => Promise<{ status: Status; body: Body }>,
  ): Promise<ServedResponse<Status, Body>> {
    const claim = await this.#claim<Status, Body>(request, fingerprint);
    if (claim.kind === 'replay') {
      return { status: claim.status, body: claim.body, headers: { 'idempotent-replayed': 'true' } };
    }
    try {
      const { status, body } = await respond();
      await this.#complete(claim, status, body);
      return { status, body, headers: {} };
    } catch (error) {
      await this.#release(claim);
      throw error;
    }
  }

  /**
   * Looks up the request's Idempotency-Key (if any): a stored response to replay, or a fresh claim that
   * `#complete` or `#release` must settle.
   */
  async #claim<Status extends number, Body>(
    request: FastifyRequest,
    body: unknown,
  ): Promise<IdempotencyClaim<Status, Body>> {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return { kind: 'none' };
    if (Array.isArray(header) || !KEY_PATTERN.test(header)) {
      throw validationProblem(
        [{ path: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters, given once' }],
        'request headers',
      );
    }
    const principal = request.principal?.id ?? 'anonymous';
    const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
    const redisKey = `${this.prefix}:idempotency:${sha256(`${principal}\n${route}\n${header}`)}`;
    const fingerprint = sha256(canonicalJson(body ?? null));
    await this.#spend(principal, redisKey);
    const pending: StoredResponse = { state: 'pending', fingerprint };
    const set = await guardRedis(this.redis, 'idempotency key', () =>
      this.redis.set(redisKey, JSON.stringify(pending), 'EX', PENDING_TTL_SECONDS, 'NX'),
    );
    if (set === 'OK') return { kind: 'claimed', redisKey, fingerprint };
    const raw = await guardRedis(this.redis, 'idempotency key', () => this.redis.get(redisKey));
    if (raw === null) return this.#claim<Status, Body>(request, body);
    const stored = JSON.parse(raw) as StoredResponse;
    if (stored.fingerprint !== fingerprint) {
      throw new ProblemError(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key was used with a different request body; use a new key for a new request',
        [{ path: 'Idempotency-Key', message: 'already used with a different body' }],
      );
    }
    if (stored.state === 'pending') {
      throw new ProblemError(
        409,
        'idempotency_in_progress',
        'a request with this Idempotency-Key is still being served; retry shortly',
      );
    }
    return { kind: 'replay', status: (stored.status ?? 200) as Status, body: stored.body as Body };
  }

  /** Stores the response of a claimed key for replay. */
  async #complete(claim: IdempotencyClaim, status: number, body: unknown): Promise<void> {
    if (claim.kind !== 'claimed') return;
    const done: StoredResponse = { state: 'done', fingerprint: claim.fingerprint, status, body };
    await guardRedis(this.redis, 'idempotency key', () =>
      this.redis.set(claim.redisKey, JSON.stringify(done), 'EX', DONE_TTL_SECONDS),
    );
  }

  /**
   * Frees a claimed key after a failure, so that the client's retry is served anew. Never throws: it runs while
   * another error is being reported, and an unreleased claim expires after PENDING_TTL_SECONDS anyway.
   */
  async #release(claim: IdempotencyClaim): Promise<void> {
    if (claim.kind !== 'claimed') return;
    await this.redis.del(claim.redisKey).catch(() => undefined);
  }
}
