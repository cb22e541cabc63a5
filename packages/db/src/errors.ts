/** A write carried a fencing token that is no longer the run's current one (a newer attempt owns the run). */
export class StaleAttemptError extends Error {
  override readonly name = 'StaleAttemptError';
  constructor(
    readonly runId: string,
    readonly reason: string,
  ) {
    super(`run ${runId}: write rejected, this attempt is no longer current (${reason})`);
  }
}

/** Bad input to a repository call; `path` names the offending field. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** A grid was changed (cells added) between reading it and writing to it, or it no longer exists. */
export class GridChangedError extends Error {
  override readonly name = 'GridChangedError';
  constructor(readonly gridId: string) {
    super(`grid ${gridId} changed (or was deleted) while cells were being added to it`);
  }
}

/** The migration history in the database cannot be reconciled with the migrations folder. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly migrationName?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A write of an evaluation request's attempt whose fencing token is no longer current (a newer attempt runs it). */
export class StaleEvaluationError extends Error {
  override readonly name = 'StaleEvaluationError';
  constructor(
    readonly requestId: string,
    readonly reason: string,
  ) {
    super(`evaluation ${requestId}: write rejected, this attempt is no longer current (${reason})`);
  }
}
