// `swavlab migrate` (the deployment's one-shot migration step): on an empty PostgreSQL database it applies every
// migration of prisma/migrations in order, and a second run finds nothing to do.

import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resources } from '../worker/helpers.js';
import { cliEnv, ensureCliBuilt, REPO_ROOT, swavlab } from './helpers.js';

const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

async function admin(sql: string): Promise<void> {
  const client = new pg.Client(ADMIN);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('swavlab migrate', () => {
  const resources = new Resources();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await ensureCliBuilt();
    const name = `swavlab_migrate_${randomBytes(6).toString('hex')}`;
    await admin(`CREATE DATABASE ${name}`);
    resources.add(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    env = cliEnv({ DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${name}` });
  });
  afterAll(() => resources.cleanup());

  it('applies every migration once, then reports the database up to date', async () => {
    const migrations = (await readdir(join(REPO_ROOT, 'prisma/migrations'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const first = await swavlab(['migrate', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ applied: migrations, already_applied: 0 });

    const second = await swavlab(['migrate'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(`the database is up to date (${migrations.length} migrations)\n`);
  });
});
