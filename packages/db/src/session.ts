// One database session (a single connection) over either driver, with just what the migrator needs:
// parameterised queries, multi-statement scripts, and transactions on that same connection.
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';

export interface SqlExecutor {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of several statements (simple query protocol, no parameters). */
  exec(script: string): Promise<void>;
}

export interface SqlSession extends SqlExecutor {
  /** Runs `fn` between BEGIN and COMMIT on this session; rolls back and rethrows when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/** Lends a session for the duration of `fn`. */
export type SessionProvider = <T>(fn: (session: SqlSession) => Promise<T>) => Promise<T>;

/** Sessions on dedicated connections checked out of a pg pool. */
export function postgresSessions(pool: pg.Pool): SessionProvider {
  return async (fn) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    const executor: SqlExecutor = {
      query: async <Row>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as Row[],
      exec: async (script) => {
        await client.query(script);
      },
    };
    try {
      return await fn({
        ...executor,
        transaction: async (body) => {
          await client.query('BEGIN');
          try {
            const result = await body(executor);
            await client.query('COMMIT');
            return result;
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
        },
      });
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A connection that saw an error may still hold session state (an advisory lock): discard it.
      client.release(broken);
    }
  };
}

function pgliteExecutor(db: PGlite | Transaction): SqlExecutor {
  return {
    query: async <Row>(sql: string, params?: unknown[]) => (await db.query<Row>(sql, params)).rows,
    exec: async (script) => {
      await db.exec(script);
    },
  };
}

/** PGlite is a single session; its transaction() holds PGlite's mutex so no other query interleaves. */
export function pgliteSessions(db: PGlite): SessionProvider {
  return async (fn) =>
    fn({ ...pgliteExecutor(db), transaction: (body) => db.transaction((tx) => body(pgliteExecutor(tx))) });
}
