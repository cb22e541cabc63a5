// The database shape a schema.prisma implies (read through getDMMF) and the shape a live database has (read
// from information_schema and pg_catalog), both rendered as sorted lines so that a drift shows as a diff.
import { getDMMF } from '@prisma/internals';
import type { Database } from '../src/index.js';

export interface Shape {
  tables: string[];
  enums: string[];
  columns: string[];
  indexes: string[];
  foreignKeys: string[];
}

type Document = Awaited<ReturnType<typeof getDMMF>>;
type Model = Document['datamodel']['models'][number];
type Field = Model['fields'][number];

const COLUMN_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'int4',
  Float: 'float8',
  Boolean: 'bool',
  DateTime: 'timestamp(3)',
  Json: 'jsonb',
  BigInt: 'int8',
  Bytes: 'bytea',
};

// Defaults Prisma Client fills in itself: no DEFAULT in the database.
const CLIENT_SIDE_DEFAULTS = new Set(['ulid', 'uuid', 'cuid', 'nanoid']);

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  SetNull: 'SET NULL',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetDefault: 'SET DEFAULT',
};

const PG_REFERENTIAL_ACTIONS: Record<string, string> = {
  c: 'CASCADE',
  n: 'SET NULL',
  r: 'RESTRICT',
  a: 'NO ACTION',
  d: 'SET DEFAULT',
};

function unsupported(what: string): never {
  throw new Error(`shape.ts cannot map ${what} yet; extend it rather than skipping the drift test`);
}

/** Prisma's default constraint/index name, which PostgreSQL would truncate past 63 bytes. */
function defaultName(table: string, columns: string[], suffix: string): string {
  const name = `${table}_${columns.join('_')}_${suffix}`;
  if (name.length > 63) unsupported(`the over-long default name ${name}`);
  return name;
}

export async function expectedShape(schema: string): Promise<Shape> {
  const { datamodel } = await getDMMF({ datamodel: schema });
  const enumDbName = new Map(datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const tableOf = new Map(datamodel.models.map((m) => [m.name, m.dbName ?? m.name]));
  const modelOf = new Map(datamodel.models.map((m) => [m.name, m]));
  const column = (model: Model, fieldName: string): string => {
    const field =
      model.fields.find((f) => f.name === fieldName) ?? unsupported(`field ${model.name}.${fieldName}`);
    return field.dbName ?? field.name;
  };

  const columnType = (field: Field): string => {
    if (field.nativeType) unsupported(`native type ${JSON.stringify(field.nativeType)} on ${field.name}`);
    const base =
      field.kind === 'enum'
        ? enumDbName.get(field.type)
        : (COLUMN_TYPES[field.type] ?? unsupported(field.type));
    return field.isList ? `${base}[]` : `${base}`;
  };

  const columnDefault = (field: Field): string | null => {
    const value = field.default;
    if (value === undefined || field.isUpdatedAt) return null;
    if (typeof value === 'object' && value !== null && 'name' in value) {
      if (value.name === 'now') return 'CURRENT_TIMESTAMP';
      if (CLIENT_SIDE_DEFAULTS.has(value.name)) return null;
      return unsupported(`default ${value.name}() on ${field.name}`);
    }
    if (Array.isArray(value)) {
      return value.length === 0
        ? `ARRAY[]::${columnType(field)}`
        : unsupported(`non-empty list default on ${field.name}`);
    }
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (typeof value === 'string')
      return `'${value}'::${field.kind === 'enum' ? enumDbName.get(field.type) : 'text'}`;
    return unsupported(`default ${JSON.stringify(value)} on ${field.name}`);
  };

  const columns: string[] = [];
  const foreignKeys: string[] = [];
  for (const model of datamodel.models) {
    const table = tableOf.get(model.name);
    for (const field of model.fields) {
      if (field.kind === 'object') {
        const from = field.relationFromFields ?? [];
        if (from.length === 0) continue;
        const target = modelOf.get(field.type) ?? unsupported(`relation target ${field.type}`);
        const fromColumns = from.map((f) => column(model, f));
        const required = from.every((f) => model.fields.find((x) => x.name === f)?.isRequired);
        const onDelete = field.relationOnDelete ?? (required ? 'Restrict' : 'SetNull');
        const onUpdate = field.relationOnUpdate ?? 'Cascade';
        foreignKeys.push(
          `${defaultName(`${table}`, fromColumns, 'fkey')}: ${table}(${fromColumns.join(', ')}) -> ` +
            `${tableOf.get(target.name)}(${(field.relationToFields ?? []).map((f) => column(target, f)).join(', ')}) ` +
            `ON DELETE ${REFERENTIAL_ACTIONS[onDelete]} ON UPDATE ${REFERENTIAL_ACTIONS[onUpdate]}`,
        );
        continue;
      }
      const nullable = !field.isRequired || field.isList;
      const dflt = columnDefault(field);
      columns.push(
        `${table}.${field.dbName ?? field.name} ${columnType(field)}${nullable ? '' : ' NOT NULL'}` +
          (dflt === null ? '' : ` DEFAULT ${dflt}`),
      );
    }
  }

  const indexes = datamodel.indexes.map((index) => {
    const model = modelOf.get(index.model) ?? unsupported(`index on ${index.model}`);
    const table = `${tableOf.get(model.name)}`;
    const cols = index.fields.map((f) => {
      if (f.sortOrder === 'desc' || f.length !== undefined || f.operatorClass !== undefined) {
        unsupported(`index field options on ${model.name}.${f.name}`);
      }
      return column(model, f.name);
    });
    const list = `(${cols.join(', ')})`;
    switch (index.type) {
      case 'id':
        return `PRIMARY KEY ${index.dbName ?? `${table}_pkey`} ON ${table} USING btree ${list}`;
      case 'unique':
        return `UNIQUE ${index.dbName ?? defaultName(table, cols, 'key')} ON ${table} USING btree ${list}`;
      case 'normal':
        return `INDEX ${index.dbName ?? defaultName(table, cols, 'idx')} ON ${table} USING ${(index.algorithm ?? 'BTree').toLowerCase()} ${list}`;
      default:
        return unsupported(`index type ${index.type}`);
    }
  });

  return {
    tables: [...tableOf.values()].sort(),
    enums: datamodel.enums
      .map((e) => `${e.dbName ?? e.name} (${e.values.map((v) => v.dbName ?? v.name).join(', ')})`)
      .sort(),
    columns: columns.sort(),
    indexes: indexes.sort(),
    foreignKeys: foreignKeys.sort(),
  };
}

export async function actualShape(db: Database): Promise<Shape> {
  const tables = await db.query<{ name: string }>`
    SELECT table_name::text AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`;

  const enums = await db.query<{ name: string; labels: string[] }>`
    SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' GROUP BY t.typname`;

  const columns = await db.query<{
    table_name: string;
    column_name: string;
    udt_name: string;
    is_nullable: string;
    column_default: string | null;
    datetime_precision: number | null;
  }>`
    SELECT table_name::text, column_name::text, udt_name::text, is_nullable::text, column_default::text,
           datetime_precision::int
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`;

  const indexes = await db.query<{
    name: string;
    table: string;
    is_unique: boolean;
    is_primary: boolean;
    method: string;
    columns: string[];
  }>`
    SELECT i.relname::text AS name, t.relname::text AS table, ix.indisunique AS is_unique,
           ix.indisprimary AS is_primary, am.amname::text AS method,
           ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord) AS columns
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'`;

  const foreignKeys = await db.query<{
    name: string;
    table: string;
    ref_table: string;
    on_delete: string;
    on_update: string;
    columns: string[];
    ref_columns: string[];
  }>`
    SELECT c.conname::text AS name, t.relname::text AS table, r.relname::text AS ref_table,
           c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update,
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_class r ON r.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE c.contype = 'f' AND n.nspname = 'public'`;

  const renderType = (udt: string, precision: number | null): string => {
    if (udt.startsWith('_')) return `${udt.slice(1)}[]`;
    return udt === 'timestamp' || udt === 'timestamptz' ? `${udt}(${precision})` : udt;
  };

  return {
    tables: tables.map((t) => t.name).sort(),
    enums: enums.map((e) => `${e.name} (${e.labels.join(', ')})`).sort(),
    columns: columns
      .map(
        (c) =>
          `${c.table_name}.${c.column_name} ${renderType(c.udt_name, c.datetime_precision)}` +
          `${c.is_nullable === 'NO' ? ' NOT NULL' : ''}${c.column_default === null ? '' : ` DEFAULT ${c.column_default}`}`,
      )
      .sort(),
    indexes: indexes
      .map((i) => {
        const kind = i.is_primary ? 'PRIMARY KEY' : i.is_unique ? 'UNIQUE' : 'INDEX';
        return `${kind} ${i.name} ON ${i.table} USING ${i.method} (${i.columns.join(', ')})`;
      })
      .sort(),
    foreignKeys: foreignKeys
      .map(
        (f) =>
          `${f.name}: ${f.table}(${f.columns.join(', ')}) -> ${f.ref_table}(${f.ref_columns.join(', ')}) ` +
          `ON DELETE ${PG_REFERENTIAL_ACTIONS[f.on_delete]} ON UPDATE ${PG_REFERENTIAL_ACTIONS[f.on_update]}`,
      )
      .sort(),
  };
}
