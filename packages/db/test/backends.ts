// The two backends every db test runs against: a fresh in-memory PGlite, and a fresh PostgreSQL database
// (random name on 127.0.0.1:5432, user postgres) created for the test file and dropped after it.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll } from 'vitest';
import { type Database, defaultMigrationsDir, type OpenDatabaseOptions, openDatabase } from '../src/index.js';

export const POSTGRES_ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

export interface FreshDatabase {
  db: Database;
  /** Opens the same database again (PostgreSQL only: PGlite serves one handle). */
  location: OpenDatabaseOptions;
}

export interface Backend {
  readonly kind: 'postgres' | 'pglite';
  /** A new, empty database (migrated unless `migrate: false`), closed and removed after the test file. */
  fresh(options?: Pick<OpenDatabaseOptions, 'migrate' | 'migrationsDir'>): Promise<FreshDatabase>;
  /** Opens another handle, closed after the test file. */
  open(options: OpenDatabaseOptions): Promise<Database>;
}

/** Call at the top level of a test file: returns both backends and registers their cleanup. */
export function testBackends(): Backend[] {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const open = async (options: OpenDatabaseOptions): Promise<Database> => {
    const db = await openDatabase(options);
    cleanups.push(() => db.close());
    return db;
  };

  const postgres: Backend = {
    kind: 'postgres',
    open,
    async fresh(options = {}) {
      const name = `swavlab_test_${randomBytes(6).toString('hex')}`;
      await adminQuery(`CREATE DATABASE ${name}`);
      cleanups.push(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      const location = { url: `postgresql://${POSTGRES_ADMIN.user}@127.0.0.1:5432/${name}` };
      return { db: await open({ ...location, ...options }), location };
    },
  };

  const pglite: Backend = {
    kind: 'pglite',
    open,
    async fresh(options = {}) {
      const location = { url: 'memory://' };
      return { db: await open({ ...location, ...options }), location };
    },
  };

  return [pglite, postgres];
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client(POSTGRES_ADMIN);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Every migration of the repository, in the order they apply. */
export function repositoryMigrations(): string[] {
  return readdirSync(defaultMigrationsDir())
    .filter((name) => /^\d{14}_/.test(name))
    .sort();
}
