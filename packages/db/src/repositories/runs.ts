// Runs: creation with deduplication by spec hash, the attempt lifecycle (claim, progress, finish, requeue)
// guarded by fencing tokens, cancellation, and keyset-paginated listing.
import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient, type Queryable } from '../client.js';
import { InvalidInputError } from '../errors.js';
import { ACTIVE_STATUSES, lockCurrentAttempt, staleAttempt } from '../fence.js';
import { afterPageToken, keysetPage } from '../pagination.js';
import {
  type Checkpoint,
  ERROR_KINDS,
  type ErrorKind,
  type JsonObject,
  RUN_STATUSES,
  type Run,
  type RunStatus,
  toCheckpoint,
  toRun,
} from '../rows.js';
import { ulid } from '../ulid.js';
import {
  optionalFinite,
  optionalString,
  requireInt,
  requireJsonObject,
  requireNonNegativeInt,
  requireOneOf,
  requireString,
  requireStringArray,
} from '../validate.js';

export interface CreateRunInput {
  spec: JsonObject;
  /** sha256 of the canonical spec (packages/spec); the run's identity. */
  specHash: string;
  seed: number;
  name?: string | null;
  tags?: string[];
  priority?: number;
  gridId?: string;
  cellIndex?: number;
  axisValues?: JsonObject;
}

export interface CreateRunResult {
  run: Run;
  /**
   * True when the caller must enqueue the run: it was inserted, or an earlier failed/canceled run with the same
   * spec hash was reset to queued. False when a queued, running or succeeded run with that hash already exists.
   */
  created: boolean;
}

export interface ClaimedRun {
  run: Run;
  /** The new attempt's fencing token; every later write of this attempt must carry it. */
  token: string;
  /** The checkpoint this attempt resumes from (the latest one), or null to start from scratch. */
  resumeFrom: Checkpoint | null;
}

export interface ProgressUpdate {
  epoch?: number | null;
  step?: number | null;
  totalSteps?: number | null;
  etaSeconds?: number | null;
}

export type RunOutcome =
  | { status: 'succeeded'; finalMetrics?: JsonObject }
  | { status: 'canceled'; finalMetrics?: JsonObject }
  | {
      status: 'failed';
      error: { kind: ErrorKind; message: string; traceback?: string | null };
      finalMetrics?: JsonObject;
    };

export interface ListRunsQuery {
  status?: RunStatus | RunStatus[];
  gridId?: string;
  tag?: string;
  /** 1..500, default 50. */
  pageSize?: number;
  pageToken?: string;
}

export interface ScanRunsQuery {
  statuses: RunStatus[];
  afterId?: string;
  limit?: number;
  updatedBefore?: Date;
}

export interface RunPage {
  runs: Run[];
  /** Pass back as pageToken for the next page; null on the last page. */
  nextPageToken: string | null;
}

const MAX_PAGE_SIZE = 500;

/** What a failed or canceled run looks like again once it is queued anew. */
export function resetToQueued(): Prisma.RunUpdateManyMutationInput {
  return {
    status: 'queued',
    cancelRequested: false,
    fencingToken: null,
    errorKind: null,
    errorMessage: null,
    errorTraceback: null,
    progressEpoch: null,
    progressStep: null,
    totalSteps: null,
    etaSeconds: null,
    device: null,
    workerHost: null,
    queuedAt: new Date(),
    startedAt: null,
    finishedAt: null,
    finalMetrics: Prisma.DbNull,
  };
}

function validateCreateRun(input: CreateRunInput, path: string): Prisma.RunCreateManyInput {
  const hasGrid = input.gridId !== undefined;
  if (hasGrid !== (input.cellIndex !== undefined)) {
    throw new InvalidInputError(`${path}.cellIndex`, 'gridId and cellIndex go together');
  }
  return {
    spec: requireJsonObject(input.spec, `${path}.spec`),
    specHash: requireString(input.specHash, `${path}.specHash`, 200),
    seed: requireInt(input.seed, `${path}.seed`),
    name: optionalString(input.name, `${path}.name`, 500),
    tags: requireStringArray(input.tags ?? [], `${path}.tags`),
    priority: requireInt(input.priority ?? 0, `${path}.priority`),
    gridId: hasGrid ? requireString(input.gridId, `${path}.gridId`, 200) : null,
    cellIndex: hasGrid ? requireNonNegativeInt(input.cellIndex, `${path}.cellIndex`) : null,
    axisValues:
      input.axisValues === undefined
        ? Prisma.DbNull
        : requireJsonObject(input.axisValues, `${path}.axisValues`),
  };
}

/**
 * Inserts the runs whose spec hash is new in one statement (a grid may bring 10,000: row by row through Prisma
 * that takes seconds); returns their hashes.
 */
async function insertNewRuns(
  db: Queryable,
  data: readonly Prisma.RunCreateManyInput[],
): Promise<Set<string>> {
  const records = data.map((row) => ({
    id: ulid(),
    name: row.name ?? null,
    spec: row.spec,
    spec_hash: row.specHash,
    grid_id: row.gridId ?? null,
    cell_index: row.cellIndex ?? null,
    axis_values: row.axisValues === Prisma.DbNull ? null : row.axisValues,
    seed: row.seed,
    priority: row.priority ?? 0,
    tags: row.tags ?? [],
  }));
  // An ISO string cast to `timestamp` is the UTC wall time, which is how Prisma stores its own dates.
  const now = new Date().toISOString();
  const rows = await db.$queryRaw<{ spec_hash: string }[]>`
    INSERT INTO runs (id, name, spec, spec_hash, grid_id, cell_index, axis_values, seed, priority, tags,
                      created_at, queued_at, updated_at)
    SELECT r.id, r.name, r.spec, r.spec_hash, r.grid_id, r.cell_index, r.axis_values, r.seed, r.priority,
           ARRAY(SELECT jsonb_array_elements_text(r.tags)), ${now}::timestamp, ${now}::timestamp, ${now}::timestamp
    FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS r(
      id text, name text, spec jsonb, spec_hash text, grid_id text, cell_index int, axis_values jsonb, seed int,
      priority int, tags jsonb)
    ON CONFLICT DO NOTHING
    RETURNING spec_hash`;
  return new Set(rows.map((row) => row.spec_hash));
}

/** Existing runs that belong to no grid are adopted by the grid being created (one statement). */
async function adoptIntoGrid(db: Queryable, rows: readonly Prisma.RunCreateManyInput[]): Promise<void> {
  const cells = rows
    .filter((row) => row.gridId)
    .map((row) => ({
      spec_hash: row.specHash,
      grid_id: row.gridId,
      cell_index: row.cellIndex,
      axis_values: row.axisValues === Prisma.DbNull ? null : row.axisValues,
    }));
  if (cells.length === 0) return;
  await db.$executeRaw`
    UPDATE runs SET grid_id = r.grid_id, cell_index = r.cell_index, axis_values = r.axis_values,
                    updated_at = ${new Date().toISOString()}::timestamp
    FROM jsonb_to_recordset(${JSON.stringify(cells)}::jsonb) AS r(spec_hash text, grid_id text, cell_index int,
                                                              axis_values jsonb)
    WHERE runs.spec_hash = r.spec_hash AND runs.grid_id IS NULL`;
}

/** What a bulk insert returns per run: enough to enqueue it and to list it, without its spec. */
export interface RunRef {
  id: string;
  specHash: string;
  status: RunStatus;
  priority: number;
}

export interface BulkRunResult {
  run: RunRef;
  /** As CreateRunResult.created. */
  created: boolean;
  /** This call inserted the row (so no queue job can exist for it yet). */
  inserted: boolean;
}

// Statements of at most this many runs: each JSON document sent stays small enough to build without stalling the
// event loop for long.
const BULK_CHUNK = 1000;

/**
 * Inserts runs whose spec hash is new, resets failed/canceled runs with the same hash to queued, and returns
 * the existing run otherwise; results are in input order. Runs on any client so that createGrid can call it
 * inside its transaction. A reused run that belongs to no grid is adopted by the grid being created. A few
 * multi-row statements per thousand runs.
 */
export async function insertOrReuseRuns(
  db: Queryable,
  inputs: readonly CreateRunInput[],
  path: string,
  /** The index of inputs[0] in error paths, for a caller that passes a long list in chunks. */
  offset = 0,
): Promise<BulkRunResult[]> {
  const data = inputs.map((input, i) => validateCreateRun(input, `${path}[${offset + i}]`));
  const firstIndex = new Map<string, number>();
  data.forEach((row, i) => {
    const seen = firstIndex.get(row.specHash);
    if (seen !== undefined) {
      throw new InvalidInputError(
        `${path}[${offset + i}].specHash`,
        `same spec hash as ${path}[${offset + seen}]`,
      );
    }
    firstIndex.set(row.specHash, i);
  });

  const results = new Map<string, BulkRunResult>();
  for (let start = 0; start < data.length; start += BULK_CHUNK) {
    const chunk = data.slice(start, start + BULK_CHUNK);
    const inserted = await insertNewRuns(db, chunk);
    const existing = chunk.filter((row) => !inserted.has(row.specHash));
    let requeued = new Set<string>();
    if (existing.length > 0) {
      const hashes = existing.map((row) => row.specHash);
      const reset = await db.run.updateManyAndReturn({
        where: { specHash: { in: hashes }, status: { in: ['failed', 'canceled'] } },
        data: resetToQueued(),
        select: { specHash: true },
      });
      requeued = new Set(reset.map((row) => row.specHash));
      await adoptIntoGrid(db, existing);
    }
    const rows = await db.run.findMany({
      where: { specHash: { in: chunk.map((row) => row.specHash) } },
      select: { id: true, specHash: true, status: true, priority: true },
    });
    for (const run of rows) {
      const isNew = inserted.has(run.specHash);
      results.set(run.specHash, { run, created: isNew || requeued.has(run.specHash), inserted: isNew });
    }
  }

  return data.map((row, i) => {
    const result = results.get(row.specHash);
    if (result === undefined) {
      // ON CONFLICT DO NOTHING also skips a row whose (grid_id, cell_index) is taken by another spec.
      throw new InvalidInputError(
        `${path}[${offset + i}].cellIndex`,
        `grid ${row.gridId} already has a run at this cell`,
      );
    }
    return result;
  });
}

/** Repository of runs. Writes that carry a fencing token match it in the statement's WHERE clause. */
export class RunsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Creates a run, or returns the run that already has this spec hash (see CreateRunResult.created). */
  async createRun(input: CreateRunInput): Promise<CreateRunResult> {
    return this.prisma.$transaction(async (tx) => {
      const [result] = await insertOrReuseRuns(tx, [input], 'run');
      if (result === undefined) throw new Error('insertOrReuseRuns returned no result for one input');
      const row = await tx.run.findUniqueOrThrow({ where: { id: result.run.id } });
      return { run: toRun(row), created: result.created };
    });
  }

  async getRun(id: string): Promise<Run | null> {
    const row = await this.prisma.run.findUnique({ where: { id } });
    return row === null ? null : toRun(row);
  }

  /** How many runs are in each status (every status, 0 included). */
  async countByStatus(): Promise<Record<RunStatus, number>> {
    const groups = await this.prisma.run.groupBy({ by: ['status'], _count: { _all: true } });
    const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
    for (const group of groups) counts[group.status] = group._count._all;
    return counts;
  }

  /** Spec hash → id of the existing runs with these spec hashes (looked up 1,000 at a time). */
  async idsBySpecHash(hashes: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let start = 0; start < hashes.length; start += 1000) {
      const rows = await this.prisma.run.findMany({
        where: { specHash: { in: hashes.slice(start, start + 1000) } },
        select: { id: true, specHash: true },
      });
      for (const row of rows) found.set(row.specHash, row.id);
    }
    return found;
  }

  /** The runs with these ids, in the order of `ids`, in one query; ids that do not exist are left out. */
  async getRuns(ids: readonly string[]): Promise<Run[]> {
    const rows = await this.prisma.run.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, toRun(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * Starts a new attempt: status running, attempt + 1, a new fencing token. Records written by earlier
   * attempts after the checkpoint this attempt resumes from are discarded, so that the resumed attempt's
   * metrics and evaluations replace them. Returns null when the run does not exist, is terminal, or was asked
   * to cancel (a run left in `stopping` by a lost attempt becomes canceled here).
   */
  async claimRun(id: string, worker: { workerHost: string; device: string }): Promise<ClaimedRun | null> {
    const workerHost = requireString(worker.workerHost, 'workerHost', 500);
    const device = requireString(worker.device, 'device', 200);
    return this.prisma.$transaction(async (tx) => {
      const token = randomUUID();
      const [row] = await tx.run.updateManyAndReturn({
        where: { id, status: { in: ['queued', 'running'] }, cancelRequested: false },
        data: {
          status: 'running',
          attempt: { increment: 1 },
          fencingToken: token,
          startedAt: new Date(),
          finishedAt: null,
          workerHost,
          device,
        },
      });
      if (row === undefined) {
        await tx.run.updateMany({
          where: { id, status: 'stopping' },
          data: { status: 'canceled', fencingToken: null, finishedAt: new Date() },
        });
        return null;
      }
      const resumeFrom = await tx.checkpoint.findFirst({ where: { runId: id }, orderBy: { step: 'desc' } });
      const after = resumeFrom?.step ?? -1;
      await tx.metricPoint.deleteMany({ where: { runId: id, step: { gt: after } } });
      await tx.evaluation.deleteMany({ where: { runId: id, step: { gt: after } } });
      return { run: toRun(row), token, resumeFrom: resumeFrom === null ? null : toCheckpoint(resumeFrom) };
    });
  }

  /**
   * Discards what earlier attempts recorded after `step` (metric points, evaluations, checkpoints), for an attempt
   * that resumes from an older checkpoint than its claim offered (the newer files were missing or corrupt) or
   * from scratch (`step` -1): the points it recomputes replace them instead of being skipped as duplicates.
   */
  async discardAfterStep(id: string, token: string, step: number): Promise<void> {
    if (!Number.isSafeInteger(step) || step < -1) {
      throw new InvalidInputError('step', `expected an integer >= -1, got ${JSON.stringify(step)}`);
    }
    await this.prisma.$transaction(async (tx) => {
      await lockCurrentAttempt(tx, id, token);
      await tx.metricPoint.deleteMany({ where: { runId: id, step: { gt: step } } });
      await tx.evaluation.deleteMany({ where: { runId: id, step: { gt: step } } });
      await tx.checkpoint.deleteMany({ where: { runId: id, step: { gt: step } } });
    });
  }

  /** Records progress; the returned run tells the attempt whether a cancel was requested. */
  async updateProgress(id: string, token: string, progress: ProgressUpdate): Promise<Run> {
    const data: Prisma.RunUpdateManyMutationInput = {};
    if (progress.epoch !== undefined) data.progressEpoch = nullableCount(progress.epoch, 'progress.epoch');
    if (progress.step !== undefined) data.progressStep = nullableCount(progress.step, 'progress.step');
    if (progress.totalSteps !== undefined) {
      data.totalSteps = nullableCount(progress.totalSteps, 'progress.totalSteps');
    }
    if (progress.etaSeconds !== undefined)
      data.etaSeconds = optionalFinite(progress.etaSeconds, 'progress.etaSeconds');
    return this.writeAsAttempt(id, token, data);
  }

  /**
   * Stores the dataset the attempt holding `token` trains and evaluates on (the trainer's `dataset` event: image
   * counts per split, classes, skipped files). A later attempt reports it again and replaces it.
   */
  async recordDataset(id: string, token: string, dataset: JsonObject): Promise<Run> {
    return this.writeAsAttempt(id, token, { dataset: requireJsonObject(dataset, 'dataset') });
  }

  /** Ends the attempt with a terminal status. */
  async finishRun(id: string, token: string, outcome: RunOutcome): Promise<Run> {
    const status = requireOneOf(
      outcome.status,
      ['succeeded', 'failed', 'canceled'] as const,
      'outcome.status',
    );
    const data: Prisma.RunUpdateManyMutationInput = { status, finishedAt: new Date(), etaSeconds: null };
    if (outcome.finalMetrics !== undefined) {
      data.finalMetrics = requireJsonObject(outcome.finalMetrics, 'outcome.finalMetrics');
    }
    if (outcome.status === 'failed') {
      if (typeof outcome.error !== 'object' || outcome.error === null) {
        throw new InvalidInputError('outcome.error', 'a failed run needs an error {kind, message}');
      }
      data.errorKind = requireOneOf(outcome.error.kind, ERROR_KINDS, 'outcome.error.kind');
      data.errorMessage = requireString(outcome.error.message, 'outcome.error.message', 100_000);
      data.errorTraceback = optionalString(outcome.error.traceback, 'outcome.error.traceback', 1_000_000);
    } else if ('error' in outcome) {
      throw new InvalidInputError('outcome.error', `only a failed run carries an error, not a ${status} one`);
    }
    return this.writeAsAttempt(id, token, data);
  }

  /**
   * Hands the run back to the queue (graceful worker shutdown): queued again with no current attempt. A run
   * whose cancel was requested meanwhile becomes canceled instead.
   */
  async requeueRun(id: string, token: string): Promise<Run> {
    requireString(token, 'token', 200);
    const [queued] = await this.prisma.run.updateManyAndReturn({
      where: { id, fencingToken: token, status: 'running', cancelRequested: false },
      data: { status: 'queued', fencingToken: null, queuedAt: new Date(), etaSeconds: null },
    });
    if (queued !== undefined) return toRun(queued);
    const [canceled] = await this.prisma.run.updateManyAndReturn({
      where: { id, fencingToken: token, status: { in: [...ACTIVE_STATUSES] }, cancelRequested: true },
      data: { status: 'canceled', fencingToken: null, finishedAt: new Date(), etaSeconds: null },
    });
    if (canceled !== undefined) return toRun(canceled);
    throw await staleAttempt(this.prisma, id, token);
  }

  /**
   * Asks a run to stop: a queued run is canceled at once, a running one goes to `stopping` until its attempt
   * finishes it. Terminal and already stopping runs are returned unchanged; null when the run does not exist.
   */
  async requestCancel(id: string): Promise<Run | null> {
    const [canceled] = await this.prisma.run.updateManyAndReturn({
      where: { id, status: 'queued' },
      data: { status: 'canceled', cancelRequested: true, fencingToken: null, finishedAt: new Date() },
    });
    if (canceled !== undefined) return toRun(canceled);
    const [stopping] = await this.prisma.run.updateManyAndReturn({
      where: { id, status: 'running' },
      data: { status: 'stopping', cancelRequested: true },
    });
    if (stopping !== undefined) return toRun(stopping);
    return this.getRun(id);
  }

  /**
   * Ends a run whose queue job was given up by the queue itself (it stalled more often than allowed, so no
   * attempt is left to finish it): failed with kind `infrastructure`, or canceled when a cancel was requested.
   * Needs no fencing token because no attempt owns the run any more; a terminal run is left as it is (null).
   */
  async abandonRun(id: string, message: string): Promise<Run | null> {
    const errorMessage = requireString(message, 'message', 100_000);
    const ended = { fencingToken: null, finishedAt: new Date(), etaSeconds: null };
    const [canceled] = await this.prisma.run.updateManyAndReturn({
      where: { id, status: { in: ['queued', ...ACTIVE_STATUSES] }, cancelRequested: true },
      data: { ...ended, status: 'canceled' },
    });
    if (canceled !== undefined) return toRun(canceled);
    const [failed] = await this.prisma.run.updateManyAndReturn({
      where: { id, status: { in: ['queued', ...ACTIVE_STATUSES] } },
      data: { ...ended, status: 'failed', errorKind: 'infrastructure', errorMessage, errorTraceback: null },
    });
    return failed === undefined ? null : toRun(failed);
  }

  /**
   * Runs in `statuses`, in id order after `afterId`, at most `limit` (1..1000, default 500); with `updatedBefore`
   * only those not written since. The reconciler pages through the database with it.
   */
  async scanRuns(query: ScanRunsQuery): Promise<Run[]> {
    const statuses = query.statuses.map((s, i) => requireOneOf(s, RUN_STATUSES, `statuses[${i}]`));
    const rows = await this.prisma.run.findMany({
      where: {
        status: { in: statuses },
        ...(query.afterId === undefined ? {} : { id: { gt: requireString(query.afterId, 'afterId', 200) } }),
        ...(query.updatedBefore === undefined ? {} : { updatedAt: { lt: query.updatedBefore } }),
      },
      orderBy: { id: 'asc' },
      take: requireInt(query.limit ?? 500, 'limit', 1, 1000),
    });
    return rows.map(toRun);
  }

  /**
   * Ends a silent attempt whose queue job is gone (Redis lost it): the run of attempt `attempt`, not written since
   * `updatedBefore`, goes back to queued so that a new attempt resumes it from its latest checkpoint; canceled
   * instead when a cancel was requested. Null when the run has moved on meanwhile (a write, a new claim).
   */
  async requeueSilentRun(id: string, attempt: number, updatedBefore: Date): Promise<Run | null> {
    const silent = {
      id,
      attempt: requireNonNegativeInt(attempt, 'attempt'),
      updatedAt: { lt: updatedBefore },
    };
    const [queued] = await this.prisma.run.updateManyAndReturn({
      where: { ...silent, status: 'running', cancelRequested: false },
      data: { status: 'queued', fencingToken: null, queuedAt: new Date(), etaSeconds: null },
    });
    if (queued !== undefined) return toRun(queued);
    const [canceled] = await this.prisma.run.updateManyAndReturn({
      where: { ...silent, status: { in: [...ACTIVE_STATUSES] }, cancelRequested: true },
      data: { status: 'canceled', fencingToken: null, finishedAt: new Date(), etaSeconds: null },
    });
    return canceled === undefined ? null : toRun(canceled);
  }

  /** Resets a failed or canceled run to queued (POST /v1/runs/{id}/retry); null when it is in another state. */
  async retryRun(id: string): Promise<Run | null> {
    const [row] = await this.prisma.run.updateManyAndReturn({
      where: { id, status: { in: ['failed', 'canceled'] } },
      data: resetToQueued(),
    });
    return row === undefined ? null : toRun(row);
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async listRuns(query: ListRunsQuery = {}): Promise<RunPage> {
    const pageSize = requireInt(query.pageSize ?? 50, 'pageSize', 1, MAX_PAGE_SIZE);
    const where: Prisma.RunWhereInput[] = [];
    if (query.status !== undefined) {
      const statuses = Array.isArray(query.status) ? query.status : [query.status];
      where.push({ status: { in: statuses.map((s, i) => requireOneOf(s, RUN_STATUSES, `status[${i}]`)) } });
    }
    if (query.gridId !== undefined) {
      where.push({ gridCells: { some: { gridId: requireString(query.gridId, 'gridId', 200) } } });
    }
    if (query.tag !== undefined) where.push({ tags: { has: requireString(query.tag, 'tag', 200) } });
    if (query.pageToken !== undefined) where.push(afterPageToken(query.pageToken));
    const rows = await this.prisma.run.findMany({
      where: { AND: where },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageSize + 1,
    });
    const { page, nextPageToken } = keysetPage(rows, pageSize);
    return { runs: page.map(toRun), nextPageToken };
  }

  /** One UPDATE ... WHERE id AND fencing_token AND status IN (running, stopping); StaleAttemptError if none. */
  private async writeAsAttempt(
    id: string,
    token: string,
    data: Prisma.RunUpdateManyMutationInput,
  ): Promise<Run> {
    requireString(token, 'token', 200);
    const [row] = await this.prisma.run.updateManyAndReturn({
      where: { id, fencingToken: token, status: { in: [...ACTIVE_STATUSES] } },
      data,
    });
    if (row === undefined) throw await staleAttempt(this.prisma, id, token);
    return toRun(row);
  }
}

function nullableCount(value: number | null, path: string): number | null {
  return value === null ? null : requireNonNegativeInt(value, path);
}
