// Builds the API on real dependencies for tests: an in-memory PGlite or a fresh PostgreSQL database, the shared
// Redis on 127.0.0.1:6379 and a BullMQ queue under a prefix unique to the test file. Requests go through
// app.inject.
import { randomBytes } from 'node:crypto';
import { type Database, openDatabase } from '@swavlab/db';
import { createPretrainQueue, type PretrainQueue, redisConnectionOptions } from '@swavlab/queue';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { buildApp } from '../src/app.js';
import { type ApiConfig, loadConfig } from '../src/config.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

export type Backend = 'pglite' | 'postgres';

export interface Harness {
  app: FastifyInstance;
  db: Database;
  queue: PretrainQueue;
  redis: Redis;
  config: ApiConfig;
  close(): Promise<void>;
}

/** Runs a statement on the PostgreSQL server's maintenance database (database names are not parameters). */
async function adminStatement(text: string): Promise<void> {
  const admin = await openDatabase({ url: POSTGRES_ADMIN_URL, migrate: false });
  try {
    // A statement without parameters, given as the one string of a template.
    await admin.query(Object.assign([text], { raw: [text] }));
  } finally {
    await admin.close();
  }
}

export interface FreshDatabase {
  db: Database;
  url: string;
  /** Closes the handle and, for PostgreSQL, drops the database. */
  drop(): Promise<void>;
}

/** A migrated database on `backend`. */
export async function freshDatabase(backend: Backend): Promise<FreshDatabase> {
  if (backend === 'pglite') {
    const db = await openDatabase({ url: 'memory://' });
    return { db, url: 'memory://', drop: () => db.close() };
  }
  const name = `swavlab_api_test_${randomBytes(6).toString('hex')}`;
  await adminStatement(`CREATE DATABASE ${name}`);
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
  const db = await openDatabase({ url });
  return {
    db,
    url,
    drop: async () => {
      await db.close();
      await adminStatement(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export interface HarnessOptions {
  backend?: Backend;
  /** Environment the configuration is read from (HOST, SWAVLAB_API_TOKENS, ...). */
  env?: NodeJS.ProcessEnv;
  config?: Partial<ApiConfig>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const prefix = `test-api-${randomBytes(5).toString('hex')}`;
  const { db, drop } = await freshDatabase(options.backend ?? 'postgres');
  const redis = new Redis(redisConnectionOptions(REDIS_URL, 'producer'));
  // A producer connection refuses commands until it is ready (no offline queue).
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const queue = createPretrainQueue(redis, { prefix });
  const config: ApiConfig = {
    ...loadConfig(options.env ?? {}),
    logLevel: 'silent',
    redisPrefix: prefix,
    rateLimitPerMinute: 0,
    authFailuresPerMinute: 0,
    ssePollMs: 20,
    ...options.config,
  };
  const app = await buildApp({ db, queue, redis, config }, { validateResponses: true });
  await app.ready();
  return {
    app,
    db,
    queue,
    redis,
    config,
    async close() {
      await app.close();
      await queue.obliterate({ force: true });
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await drop();
    },
  };
}

/** Asserts an RFC 9457 problem response and returns its body. */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code?: string,
): { code: string; detail: string; errors: { path: string; message: string }[] } {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(body).toMatchObject({
    status,
    title: expect.any(String),
    type: expect.any(String),
    detail: expect.any(String),
  });
  expect(Array.isArray(body.errors)).toBe(true);
  if (code !== undefined) expect(body.code).toBe(code);
  return body;
}
