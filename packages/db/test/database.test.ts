import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError, openDatabase, resolveDatabaseTarget } from '../src/index.js';
import { repositoryMigrations, testBackends } from './backends.js';

describe('choosing the backend', () => {
  it('uses PGlite under SWAVLAB_HOME unless a URL is given', () => {
    expect(resolveDatabaseTarget({}, {})).toEqual({ kind: 'pglite', dataDir: resolve('.swavlab/db') });
    expect(resolveDatabaseTarget({}, { SWAVLAB_HOME: '/srv/swav', DATABASE_URL: '' })).toEqual({
      kind: 'pglite',
      dataDir: '/srv/swav/db',
    });
    expect(resolveDatabaseTarget({ home: '/tmp/h' }, { SWAVLAB_HOME: '/srv/swav' })).toEqual({
      kind: 'pglite',
      dataDir: '/tmp/h/db',
    });
  });

  it('uses PostgreSQL for a postgres URL, and memory:// for a throw-away PGlite', () => {
    const url = 'postgresql://u@db:5432/swav';
    expect(resolveDatabaseTarget({}, { DATABASE_URL: url })).toEqual({ kind: 'postgres', url });
    expect(resolveDatabaseTarget({ url: 'postgres://x/y' }, { DATABASE_URL: url })).toEqual({
      kind: 'postgres',
      url: 'postgres://x/y',
    });
    expect(resolveDatabaseTarget({ url: 'memory://' }, { DATABASE_URL: url })).toEqual({
      kind: 'pglite',
      dataDir: null,
    });
  });

  it('names the setting that holds an unusable URL', () => {
    expect(() => resolveDatabaseTarget({ url: 'mysql://x' }, {})).toThrow(
      new InvalidInputError(
        'url',
        'expected a postgres:// or postgresql:// URL, or memory:// for an in-memory database',
      ),
    );
    expect(() => resolveDatabaseTarget({}, { DATABASE_URL: 'sqlite:swav.db' })).toThrow(
      /^DATABASE_URL: expected/,
    );
  });
});

describe('the embedded database on disk', () => {
  const home = mkdtempSync(join(tmpdir(), 'swavlab-home-'));
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  afterAll(() => {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
    rmSync(home, { recursive: true, force: true });
  });

  it('keeps its rows across a close and reopen, and migrates only once', async () => {
    const first = await openDatabase({ home });
    expect(first.kind).toBe('pglite');
    const { run } = await first.runs.createRun({ spec: { a: 1 }, specHash: 'f'.repeat(64), seed: 3 });
    await first.close();
    await first.close();

    const second = await openDatabase({ home, migrate: false });
    try {
      expect(await second.migrate()).toEqual({ applied: [], alreadyApplied: repositoryMigrations().length });
      expect(await second.runs.getRun(run.id)).toEqual(run);
    } finally {
      await second.close();
    }
  });
});

describe.each(testBackends())('raw queries on $kind', (backend) => {
  it('sends interpolated values as parameters, never as SQL', async () => {
    const { db } = await backend.fresh();
    const hostile = "x'; DROP TABLE runs; --";
    expect(await db.query<{ v: string }>`SELECT ${hostile}::text AS v`).toEqual([{ v: hostile }]);
    const rows = await db.query<{ n: bigint }>`SELECT count(*) AS n FROM runs WHERE spec_hash = ${hostile}`;
    expect(rows).toEqual([{ n: 0n }]);
  });
});

describe('the PostgreSQL pool', () => {
  const postgres = testBackends().find((backend) => backend.kind === 'postgres');
  it('turns JIT compilation off for its sessions', async () => {
    if (postgres === undefined) throw new Error('no postgres backend');
    const { db } = await postgres.fresh();
    expect(await db.query<{ jit: string }>`SHOW jit`).toEqual([{ jit: 'off' }]);
  });
});
