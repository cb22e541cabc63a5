// Fencing: every write an attempt makes carries the token its claim received. A claim rotates the token, so
// a write from an older attempt (a worker that lost its lock but kept running) matches nothing and is refused.
import type { Queryable } from './client.js';
import { StaleAttemptError } from './errors.js';
import { requireString } from './validate.js';

/** Statuses in which the current attempt may still write. */
export const ACTIVE_STATUSES = ['running', 'stopping'] as const;

/** Explains why a token-guarded write matched no row; only used to word the StaleAttemptError. */
export async function staleAttempt(db: Queryable, runId: string, token: string): Promise<StaleAttemptError> {
  const run = await db.run.findUnique({
    where: { id: runId },
    select: { fencingToken: true, attempt: true, status: true },
  });
  if (run === null) return new StaleAttemptError(runId, 'the run does not exist');
  if (run.fencingToken !== token) return new StaleAttemptError(runId, `superseded by attempt ${run.attempt}`);
  return new StaleAttemptError(runId, `the run is already ${run.status}`);
}

/**
 * Inside a transaction: share-locks the run row when `token` is its current attempt's, so that a concurrent
 * claim (which rotates the token) waits until this transaction's writes commit; throws StaleAttemptError
 * otherwise. Returns the attempt number the token belongs to.
 */
export async function lockCurrentAttempt(db: Queryable, runId: string, token: string): Promise<number> {
  requireString(runId, 'runId', 200);
  requireString(token, 'token', 200);
  const rows = await db.$queryRaw<{ attempt: number }[]>`
    SELECT attempt FROM runs
    WHERE id = ${runId} AND fencing_token = ${token} AND status IN ('running', 'stopping')
    FOR SHARE`;
  const row = rows[0];
  if (row === undefined) throw await staleAttempt(db, runId, token);
  return row.attempt;
}
