// The database for commands that work on it directly (`swavlab token`, `swavlab migrate`): PostgreSQL at
// DATABASE_URL, else the embedded one in $SWAVLAB_HOME/db, whose home is locked meanwhile (it serves one process).
import type { Database } from '@swavlab/db';
import { resolveHome } from './home.js';
import { lockHome } from './home-lock.js';

export interface WithDatabaseOptions {
  /** Apply pending migrations on opening (default true); `swavlab migrate` applies them itself for the report. */
  migrate?: boolean;
}

/** Opens the database for `what`, runs `body`, closes it. */
export async function withDatabase<T>(
  what: string,
  body: (db: Database) => Promise<T>,
  { migrate = true }: WithDatabaseOptions = {},
): Promise<T> {
  const { openDatabase } = await import('@swavlab/db');
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const home = resolveHome(process.env);
  const lock = databaseUrl === undefined ? await lockHome(home, what) : undefined;
  try {
    const db = await openDatabase({
      home,
      migrate,
      ...(databaseUrl === undefined ? {} : { url: databaseUrl }),
    });
    try {
      return await body(db);
    } finally {
      await db.close();
    }
  } finally {
    lock?.release();
  }
}
