// Applies prisma/migrations/*/migration.sql at start-up, because the Prisma CLI's `migrate deploy` needs a
// native engine that cannot be downloaded here. History is kept in `_prisma_migrations` in Prisma's own format
// and under Prisma's own advisory lock, so `prisma migrate deploy` run elsewhere sees the same history and
// the two never migrate at the same time.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationError } from './errors.js';
import type { SessionProvider, SqlSession } from './session.js';

/** The key Prisma Migrate passes to pg_advisory_lock. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

export interface Migration {
  /** The folder name, e.g. 20261126120000_init; migrations apply in name order. */
  name: string;
  script: string;
  /** sha256 hex of the file, as Prisma records it. */
  checksum: string;
}

export interface MigrateOptions {
  /** Defaults to the repository's prisma/migrations. */
  migrationsDir?: string;
  /** How long to wait for another process's migration to finish (default 60 s). */
  lockTimeoutMs?: number;
}

export interface MigrationReport {
  /** Names applied by this call, in order; empty when the database was up to date. */
  applied: string[];
  /** How many migrations were already applied before this call. */
  alreadyApplied: number;
}

/** A row of _prisma_migrations, as far as the migrator reads it. */
interface RecordedMigration {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

// Prisma's own DDL for its history table, so that the Prisma CLI accepts a table created here.
const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** prisma/migrations at the repository root, from src/ (vitest) and from dist/ (built) alike. */
export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../../../prisma/migrations/', import.meta.url));
}

export function checksumOf(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/** Like Prisma: a checkout with other line endings (git autocrlf) still matches the recorded checksum. */
function checksumMatches(script: string, recorded: string): boolean {
  const lf = script.replace(/\r\n/g, '\n');
  return [script, lf, lf.replace(/\n/g, '\r\n')].some((variant) => checksumOf(variant) === recorded);
}

/** Reads the migrations folder: every sub-folder holding a migration.sql, sorted by name. */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder ${dir} does not exist`);
  const lockFile = join(dir, 'migration_lock.toml');
  if (existsSync(lockFile)) {
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(await readFile(lockFile, 'utf8'))?.[1];
    if (provider !== 'postgresql') {
      throw new MigrationError(
        `${lockFile} names provider ${JSON.stringify(provider)}, expected "postgresql"`,
      );
    }
  }
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
  if (names.length === 0) throw new MigrationError(`no */migration.sql found in ${dir}`);
  return Promise.all(
    names.map(async (name) => {
      const script = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, script, checksum: checksumOf(script) };
    }),
  );
}

/**
 * Decides which migrations to apply. Refuses (MigrationError) when the recorded history cannot be trusted: a
 * migration that failed without being rolled back, an applied migration whose file changed, or one that this
 * build does not have (the database was migrated by a newer version).
 */
export function pendingMigrations(
  local: readonly Migration[],
  recorded: readonly RecordedMigration[],
): Migration[] {
  const byName = new Map(local.map((m) => [m.name, m]));
  const applied = new Set<string>();
  for (const row of recorded) {
    if (row.rolled_back_at !== null) continue;
    if (row.finished_at === null) {
      throw new MigrationError(
        `migration ${row.migration_name} failed earlier and was not rolled back; repair the database, then ` +
          `mark it with \`prisma migrate resolve --rolled-back ${row.migration_name}\``,
        row.migration_name,
      );
    }
    const migration = byName.get(row.migration_name);
    if (migration === undefined) {
      throw new MigrationError(
        `the database has migration ${row.migration_name} applied, which is not in the migrations folder ` +
          '(was it migrated by a newer swavlab?)',
        row.migration_name,
      );
    }
    if (!checksumMatches(migration.script, row.checksum)) {
      throw new MigrationError(
        `migration ${row.migration_name} was modified after it was applied (recorded checksum ${row.checksum}, ` +
          `file checksum ${migration.checksum}); restore the original file and add a new migration instead`,
        row.migration_name,
      );
    }
    applied.add(row.migration_name);
  }
  return local.filter((m) => !applied.has(m.name));
}

/**
 * Applies pending migrations in name order, each in its own transaction together with its history row, while
 * holding Prisma Migrate's session advisory lock: concurrent callers (several processes starting at once)
 * wait, then find nothing left to do. Scripts must not contain transaction control or CREATE INDEX
 * CONCURRENTLY. A failed migration is rolled back, recorded with its error in `logs` and `rolled_back_at` set
 * (as `prisma migrate resolve --rolled-back` would), and thrown as a MigrationError.
 */
export async function applyMigrations(
  sessions: SessionProvider,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  const migrations = await loadMigrations(options.migrationsDir ?? defaultMigrationsDir());
  return sessions(async (session) => {
    await acquireMigrationLock(session, options.lockTimeoutMs ?? 60_000);
    try {
      await session.exec(CREATE_HISTORY_TABLE);
      const recorded = await session.query<RecordedMigration>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      const pending = pendingMigrations(migrations, recorded);
      for (const migration of pending) await applyOne(session, migration);
      return { applied: pending.map((m) => m.name), alreadyApplied: migrations.length - pending.length };
    } finally {
      await session.query(`SELECT pg_advisory_unlock(${PRISMA_MIGRATE_LOCK_KEY})`);
    }
  });
}

async function acquireMigrationLock(session: SqlSession, timeoutMs: number): Promise<void> {
  await session.query(`SELECT set_config('lock_timeout', $1, false)`, [
    `${Math.max(1, Math.round(timeoutMs))}ms`,
  ]);
  try {
    await session.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
  } catch (error) {
    if ((error as { code?: unknown }).code === '55P03') {
      throw new MigrationError(
        `timed out after ${timeoutMs} ms waiting for the migration lock (pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})); ` +
          'another process is migrating, or an idle session still holds the lock',
        undefined,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await session.query('RESET lock_timeout');
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  const id = randomUUID();
  try {
    await session.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) ' +
          'VALUES ($1, $2, $3, clock_timestamp(), 0)',
        [id, migration.checksum, migration.name],
      );
      await tx.exec(migration.script);
      await tx.query(
        'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1',
        [id],
      );
    });
  } catch (error) {
    const logs = error instanceof Error ? error.message : String(error);
    await session.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, rolled_back_at, started_at, ' +
        'applied_steps_count) VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp(), 0)',
      [id, migration.checksum, migration.name, logs],
    );
    throw new MigrationError(
      `migration ${migration.name} failed and was rolled back: ${logs}`,
      migration.name,
      {
        cause: error,
      },
    );
  }
}
