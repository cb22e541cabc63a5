// Prisma's own schema engine: the WASM build that the Prisma CLI bundles, loaded here directly because the
// CLI's `migrate diff` wants a native engine that cannot be downloaded offline. Given a driver adapter on a
// live database, it answers with the SQL Prisma would generate to make that database match schema.prisma.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as engine from '@prisma/schema-engine-wasm/schema_engine_bg';

// @types/node 20 does not declare the WebAssembly global; just what is used below.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
};

let loaded: Promise<typeof engine.SchemaEngine> | undefined;

function loadEngine(): Promise<typeof engine.SchemaEngine> {
  loaded ??= (async () => {
    const glue = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const module = new WebAssembly.Module(readFileSync(join(dirname(glue), 'schema_engine_bg.wasm')));
    const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': engine });
    engine.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return engine.SchemaEngine;
  })();
  return loaded;
}

/** The migration SQL Prisma would write to take the adapter's database to `schema`; empty when in sync. */
export async function prismaMigrationDiff(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  schema: string,
): Promise<string> {
  const SchemaEngine = await loadEngine();
  const files = [{ path: 'schema.prisma', content: schema }];
  const instance = await SchemaEngine.new(
    { datamodels: [['schema.prisma', schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
  try {
    const result = await instance.diff({
      from: { tag: 'schemaDatasource', files, configDir: process.cwd() },
      to: { tag: 'schemaDatamodel', files },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.exitCode === 0 ? '' : (result.stdout ?? '');
  } finally {
    instance.free();
  }
}
