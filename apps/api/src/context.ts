// What the route plugins share: the injected dependencies plus the services built on them.
import type { Database } from '@swavlab/db';
import type { PretrainQueue } from '@swavlab/queue';
import type { Redis } from 'ioredis';
import type { ApiConfig } from './config.js';
import type { IdempotencyStore } from './idempotency.js';
import type { StreamTickets } from './stream-tickets.js';

/** The app's dependencies; tests pass real instances (PGlite or PostgreSQL, Redis, a BullMQ queue). */
export interface AppDeps {
  db: Database;
  queue: PretrainQueue;
  /** A general-purpose connection (not in subscriber mode): readiness, cancels, idempotency keys. */
  redis: Redis;
  config: ApiConfig;
}

export interface AppContext extends AppDeps {
  idempotency: IdempotencyStore;
  tickets: StreamTickets;
}

/** Options every route plugin is registered with. */
export interface RouteOptions {
  ctx: AppContext;
}
