import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMigrations,
  type Database,
  defaultMigrationsDir,
  MigrationError,
  PRISMA_MIGRATE_LOCK_KEY,
  postgresSessions,
} from '../src/index.js';
import { repositoryMigrations, testBackends } from './backends.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const INIT = '20261126120000_init';
// Every migration of the repository, in the order they apply (the first is INIT).
const ALL = repositoryMigrations();
const initSql = readFileSync(join(defaultMigrationsDir(), INIT, 'migration.sql'), 'utf8');

const scratch = mkdtempSync(join(tmpdir(), 'swavlab-migrations-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the real migrations folder plus extra migrations, to play out histories without touching the repo. */
function migrationsFolder(label: string, extra: Record<string, string> = {}, init = initSql): string {
  const dir = join(scratch, label);
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  writeFileSync(join(dir, INIT, 'migration.sql'), init);
  for (const [name, sql] of Object.entries(extra)) {
    cpSync(join(dir, INIT), join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

interface HistoryRow {
  id: string;
  checksum: string;
  migration_name: string;
  logs: string | null;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

function history(db: Database): Promise<HistoryRow[]> {
  return db.query<HistoryRow>`SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name`;
}

async function tableExists(db: Database, table: string): Promise<boolean> {
  const rows = await db.query<{ t: string | null }>`SELECT to_regclass(${table})::text AS t`;
  return rows[0]?.t !== null;
}

describe.each(testBackends())('migrator on $kind', (backend) => {
  it('applies the migrations to an empty database once, recording them as Prisma does', async () => {
    const { db } = await backend.fresh({ migrate: false });
    expect(await tableExists(db, 'runs')).toBe(false);

    expect(await db.migrate()).toEqual({ applied: ALL, alreadyApplied: 0 });
    expect(await db.migrate()).toEqual({ applied: [], alreadyApplied: ALL.length });

    const rows = await history(db);
    expect(rows.map((r) => r.migration_name)).toEqual(ALL);
    const [row] = rows;
    expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row?.checksum).toBe(
      createHash('sha256')
        .update(readFileSync(join(defaultMigrationsDir(), INIT, 'migration.sql')))
        .digest('hex'),
    );
    expect(row?.migration_name).toBe(INIT);
    expect(row?.logs).toBeNull();
    expect(row?.rolled_back_at).toBeNull();
    expect(row?.applied_steps_count).toBe(1);
    expect(row?.finished_at?.getTime()).toBeGreaterThanOrEqual(row?.started_at.getTime() ?? Number.NaN);
    expect(await tableExists(db, 'runs')).toBe(true);
  });

  it('lets only one of two concurrent migrate() calls on one handle apply anything', async () => {
    const { db } = await backend.fresh({ migrate: false });
    const reports = await Promise.all([db.migrate(), db.migrate()]);
    expect(reports.map((r) => r.applied.length).sort()).toEqual([0, ALL.length]);
    expect(await history(db)).toHaveLength(ALL.length);
  });

  it('rolls a failing migration back, records it as rolled back, and applies it once fixed', async () => {
    const { db } = await backend.fresh();
    const name = '20990101000000_broken';
    const broken = migrationsFolder(`broken-${backend.kind}`, {
      [name]: 'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT 1 / 0;\n',
    });
    const failure = await db.migrate({ migrationsDir: broken }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).message).toMatch(
      /20990101000000_broken failed and was rolled back: division by zero/,
    );
    expect(await tableExists(db, 'half_done')).toBe(false);
    const [failed] = (await history(db)).filter((r) => r.migration_name === name);
    expect(failed?.rolled_back_at).not.toBeNull();
    expect(failed?.finished_at).toBeNull();
    expect(failed?.logs).toMatch(/division by zero/);

    const fixed = migrationsFolder(`fixed-${backend.kind}`, {
      [name]: 'CREATE TABLE "half_done" ("id" INTEGER);\n',
    });
    expect(await db.migrate({ migrationsDir: fixed })).toEqual({
      applied: [name],
      alreadyApplied: ALL.length,
    });
    expect(await tableExists(db, 'half_done')).toBe(true);
    expect(await db.migrate({ migrationsDir: fixed })).toEqual({
      applied: [],
      alreadyApplied: ALL.length + 1,
    });
  });

  it('refuses to start when an applied migration file was modified, but not for other line endings', async () => {
    const { db } = await backend.fresh();
    const edited = migrationsFolder(`edited-${backend.kind}`, {}, `${initSql}\n-- an afterthought\n`);
    await expect(db.migrate({ migrationsDir: edited })).rejects.toThrow(
      new RegExp(`migration ${INIT} was modified after it was applied \\(recorded checksum [0-9a-f]{64}`),
    );
    const crlf = migrationsFolder(`crlf-${backend.kind}`, {}, initSql.replace(/\n/g, '\r\n'));
    expect(await db.migrate({ migrationsDir: crlf })).toEqual({ applied: [], alreadyApplied: ALL.length });
  });

  it('refuses a history it cannot trust: unknown or unresolved failed migrations', async () => {
    const { db } = await backend.fresh();
    await db.query`INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count)
      VALUES ('00000000-0000-4000-8000-000000000001', ${'0'.repeat(64)}, '20300101000000_future', now(), 1)`;
    await expect(db.migrate()).rejects.toThrow(
      /20300101000000_future applied, which is not in the migrations folder/,
    );

    await db.query`DELETE FROM _prisma_migrations WHERE migration_name = '20300101000000_future'`;
    const name = '20990101000000_next';
    const next = migrationsFolder(`unresolved-${backend.kind}`, {
      [name]: 'CREATE TABLE "later" ("id" INTEGER);\n',
    });
    await db.query`INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, applied_steps_count)
      VALUES ('00000000-0000-4000-8000-000000000002', ${'0'.repeat(64)}, ${name}, 'crashed half-way', 0)`;
    await expect(db.migrate({ migrationsDir: next })).rejects.toThrow(
      /20990101000000_next failed earlier and was not rolled back/,
    );
    expect(await tableExists(db, 'later')).toBe(false);
  });
});

describe('migrator on postgres across processes', () => {
  const [, postgres] = testBackends();
  if (postgres === undefined) throw new Error('testBackends() lists pglite, then postgres');

  beforeAll(async () => {
    // The child process runs the built package, so build it (incremental: quick when up to date).
    await run(join(repoRoot, 'node_modules/.bin/tsc'), ['-b', join(repoRoot, 'packages/db')], {
      cwd: repoRoot,
    });
  }, 120_000);

  async function waitingForMigrationLock(client: pg.Client): Promise<number> {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND objid = $1 AND NOT granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [PRISMA_MIGRATE_LOCK_KEY],
    );
    return rows[0]?.n ?? 0;
  }

  it('serialises two pools and a second process that all start migrating at once', async () => {
    const { location } = await postgres.fresh({ migrate: false });
    const url = location.url ?? '';
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // Hold the lock so that all three really contend for it, then let them go together.
      await holder.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
      const a = await postgres.open({ ...location, migrate: false });
      const b = await postgres.open({ ...location, migrate: false });
      const child = run(process.execPath, [join(import.meta.dirname, 'fixtures/migrate-child.mjs'), url], {
        cwd: repoRoot,
      });
      const inProcess = [a.migrate(), b.migrate()];
      const deadline = Date.now() + 30_000;
      while ((await waitingForMigrationLock(holder)) < 3) {
        if (Date.now() > deadline) throw new Error('the three migrators never all waited for the lock');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await holder.query(`SELECT pg_advisory_unlock(${PRISMA_MIGRATE_LOCK_KEY})`);

      const reports = [...(await Promise.all(inProcess)), JSON.parse((await child).stdout)];
      expect(reports.filter((r) => r.applied.join() === ALL.join())).toHaveLength(1);
      expect(reports.filter((r) => r.applied.length === 0 && r.alreadyApplied === ALL.length)).toHaveLength(
        2,
      );
      expect(await history(a)).toHaveLength(ALL.length);
    } finally {
      await holder.end();
    }
  });

  it('gives up with a clear error when the lock stays taken', async () => {
    const { db, location } = await postgres.fresh({ migrate: false });
    const holder = new pg.Client({ connectionString: location.url });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
      await expect(db.migrate({ lockTimeoutMs: 300 })).rejects.toThrow(
        /timed out after 300 ms waiting for the migration lock/,
      );
    } finally {
      await holder.end();
    }
    expect(await db.migrate()).toEqual({ applied: ALL, alreadyApplied: 0 });
  });

  it('runs on a bare pg pool through applyMigrations as well', async () => {
    const { location } = await postgres.fresh({ migrate: false });
    const pool = new pg.Pool({ connectionString: location.url });
    try {
      expect(await applyMigrations(postgresSessions(pool))).toEqual({ applied: ALL, alreadyApplied: 0 });
    } finally {
      await pool.end();
    }
  });
});
