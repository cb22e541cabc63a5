// Only packages/db speaks SQL: every statement lives in its repositories and read queries (src/reads), where the
// database tests run them against the migrated schema. This test fails when code outside packages/db names a table
// in a statement. Tests and benchmarks may still seed or inspect rows through Database.query.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const schema = readFileSync(`${ROOT}prisma/schema.prisma`, 'utf8');

/** The tables of schema.prisma: the `@@map` of every model. */
function tableNames(): string[] {
  const models = schema.split(/^model /m).slice(1);
  return models.map((model) => /@@map\("([a-z_]+)"\)/.exec(model)?.[1] ?? '').filter((name) => name !== '');
}

/** Source files of the apps and of every package but this one. */
function sourcesOutsideDb(): string[] {
  // Tracked and new files alike (not ignored ones such as dist/), as they are in the working tree.
  const files = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', 'apps', 'packages'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return files
    .split('\n')
    .filter((file) => /^(apps|packages)\/[^/]+\/src\/.*\.(ts|mts|mjs|js)$/.test(file))
    .filter((file) => !file.startsWith('packages/db/') && existsSync(`${ROOT}${file}`));
}

/** `FROM runs`, `JOIN metric_points m`, `INSERT INTO grids`, `UPDATE api_tokens`, `runs.spec #>`… in `text`. */
function statementsNaming(text: string, tables: readonly string[]): string[] {
  const names = tables.join('|');
  const statement = new RegExp(`\\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\\s+"?(?:${names})\\b`, 'g');
  const qualified = new RegExp(
    `\\b(?:${names})\\.(?:id|spec|status|created_at|run_id|name|step|value)\\b`,
    'g',
  );
  return [...text.matchAll(statement), ...text.matchAll(qualified)].map((match) => match[0]);
}

describe('SQL stays in packages/db', () => {
  const tables = tableNames();

  it('knows the tables of the schema', () => {
    expect(tables).toEqual(expect.arrayContaining(['runs', 'grids', 'metric_points', 'api_tokens']));
    expect(tables.length).toBeGreaterThanOrEqual(10);
  });

  it('finds no statement naming a table outside packages/db', () => {
    const files = sourcesOutsideDb();
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((file) =>
      statementsNaming(readFileSync(`${ROOT}${file}`, 'utf8'), tables).map((hit) => `${file}: ${hit}`),
    );
    expect(found).toEqual([]);
  });

  it('would notice one', () => {
    expect(statementsNaming('db.query`SELECT id FROM runs WHERE runs.status = $1`', tables)).toEqual([
      'FROM runs',
      'runs.status',
    ]);
    expect(statementsNaming('the runs of a grid, from the queue', tables)).toEqual([]);
  });
});
