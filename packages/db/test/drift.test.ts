// schema.prisma and the SQL migrations must describe the same database: the migrated database's catalog
// is compared with the shape getDMMF reads from the schema (tables, columns with types, nullability and
// defaults, enums, primary keys, unique and plain indexes with their methods, foreign keys and actions).
// Prisma's own schema engine then diffs the migrated database against the schema as a second opinion; when
// it finds a difference, the failure shows the SQL of the migration to add.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, type Database, pgliteSessions } from '../src/index.js';
import { testBackends } from './backends.js';
import { prismaMigrationDiff } from './schema-engine.js';
import { actualShape, expectedShape, type Shape } from './shape.js';

const schema = readFileSync(fileURLToPath(new URL('../../../prisma/schema.prisma', import.meta.url)), 'utf8');

describe.each(testBackends())('schema.prisma vs migrations on $kind', (backend) => {
  let expected: Shape;
  let db: Database;

  beforeAll(async () => {
    expected = await expectedShape(schema);
    ({ db } = await backend.fresh());
  });

  it('the migrated database has exactly the shape schema.prisma describes', async () => {
    const actual = await actualShape(db);
    expect(actual.tables).toEqual(expected.tables);
    expect(actual.enums).toEqual(expected.enums);
    expect(actual.columns).toEqual(expected.columns);
    expect(actual.indexes).toEqual(expected.indexes);
    expect(actual.foreignKeys).toEqual(expected.foreignKeys);
  });

  it('notices drift of every kind it compares', async () => {
    const { db: drifted } = await backend.fresh();
    await drifted.query`ALTER TABLE runs DROP COLUMN device`;
    await drifted.query`ALTER TABLE runs ALTER COLUMN name SET NOT NULL`;
    await drifted.query`ALTER TABLE grids ALTER COLUMN cell_count TYPE bigint`;
    await drifted.query`DROP INDEX runs_tags_idx`;
    await drifted.query`ALTER TYPE run_status ADD VALUE 'paused'`;
    await drifted.query`ALTER TABLE evaluations DROP CONSTRAINT evaluations_checkpoint_id_fkey`;
    await drifted.query`CREATE TABLE notes (id integer)`;
    const actual = await actualShape(drifted);
    const missing = (key: keyof Shape) => expected[key].filter((line) => !actual[key].includes(line));
    const extra = (key: keyof Shape) => actual[key].filter((line) => !expected[key].includes(line));

    expect(extra('tables')).toEqual(['notes']);
    expect(missing('columns')).toEqual([
      'grids.cell_count int4 NOT NULL',
      'runs.device text',
      'runs.name text',
    ]);
    expect(extra('columns')).toEqual([
      'grids.cell_count int8 NOT NULL',
      'notes.id int4',
      'runs.name text NOT NULL',
    ]);
    expect(missing('indexes')).toEqual(['INDEX runs_tags_idx ON runs USING gin (tags)']);
    expect(extra('enums')).toEqual([
      'run_status (queued, running, stopping, succeeded, failed, canceled, paused)',
    ]);
    expect(missing('foreignKeys')).toEqual([
      'evaluations_checkpoint_id_fkey: evaluations(checkpoint_id) -> checkpoints(id) ON DELETE SET NULL ON UPDATE CASCADE',
    ]);
  });
});

// PGlite only: through @prisma/adapter-pg 7.10 the WASM engine fails to describe PostgreSQL's catalog
// ("Column type 'char' could not be deserialized"); the shape comparison above covers PostgreSQL.
describe("Prisma's schema engine on PGlite", () => {
  const pglite = new PGlite();
  afterAll(() => pglite.close());

  it('finds nothing left to migrate after the migrations', async () => {
    await applyMigrations(pgliteSessions(pglite));
    expect(await prismaMigrationDiff(new PrismaPGlite(pglite), schema)).toBe('');
  });
});
