// Evaluation requests: evaluations of a run's checkpoint asked for after the fact. Each delivery of the queue job
// claims the request (new attempt, new fencing token), records the results it computes in `evaluations` (where run
// pages, grids and search read them) and ends the request; writes of a superseded attempt are refused.
import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient, Queryable } from '../client.js';
import { InvalidInputError, StaleEvaluationError } from '../errors.js';
import {
  ERROR_KINDS,
  type ErrorKind,
  EVALUATION_STATUSES,
  type Evaluation,
  type EvaluationRequest,
  type EvaluationStatus,
  type JsonObject,
  toEvaluation,
  toEvaluationRequest,
} from '../rows.js';
import {
  measuredValue,
  optionalString,
  requireInt,
  requireJsonObject,
  requireNonNegativeInt,
  requireOneOf,
  requireString,
} from '../validate.js';

export interface CreateEvaluationRequestInput {
  runId: string;
  /** The eval section to evaluate, defaults applied (validated by the caller with @swavlab/spec). */
  eval: JsonObject;
  /** The step of the run's checkpoint to evaluate; the checkpoint must exist when the request is created. */
  checkpointStep: number;
}

export interface ClaimedEvaluation {
  request: EvaluationRequest;
  /** The new attempt's fencing token; every later write of this attempt must carry it. */
  token: string;
}

/** One result of the evaluation, stored in `evaluations` at the checkpoint's step (split `test`). */
export interface RequestedResultInput {
  name: string;
  value: number;
  epoch: number;
  step: number;
}

export interface ScanRequestsQuery {
  statuses: EvaluationStatus[];
  afterId?: string;
  /** 1..1000, default 500. */
  limit?: number;
  /** Only requests not written since. */
  updatedBefore?: Date;
}

export type EvaluationOutcome =
  | { status: 'succeeded'; results: JsonObject }
  | { status: 'failed'; error: { kind: ErrorKind; message: string; traceback?: string | null } };

/** The split requested evaluations are stored under, as the trainer's own evaluations are. */
const RESULT_SPLIT = 'test';

/** Statuses a request does not leave on its own. */
const FINISHED = ['succeeded', 'failed'] as const;

/** Explains why a token-guarded write matched no row; only used to word the StaleEvaluationError. */
async function staleEvaluation(db: Queryable, id: string, token: string): Promise<StaleEvaluationError> {
  const row = await db.evaluationRequest.findUnique({
    where: { id },
    select: { fencingToken: true, attempt: true, status: true },
  });
  if (row === null) return new StaleEvaluationError(id, 'the request does not exist');
  if (row.fencingToken !== token) return new StaleEvaluationError(id, `superseded by attempt ${row.attempt}`);
  return new StaleEvaluationError(id, `the request is already ${row.status}`);
}

/** Share-locks the request row while `token` is its running attempt's; returns its run id. */
async function lockRunningAttempt(tx: Queryable, id: string, token: string): Promise<string> {
  requireString(token, 'token', 200);
  const rows = await tx.$queryRaw<{ run_id: string }[]>`
    SELECT run_id FROM evaluation_requests
    WHERE id = ${id} AND fencing_token = ${token} AND status = 'running'
    FOR SHARE`;
  const row = rows[0];
  if (row === undefined) throw await staleEvaluation(tx, id, token);
  return row.run_id;
}

export class EvaluationRequestsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores a queued request; the caller enqueues its job (job id = request id). */
  async createRequest(input: CreateEvaluationRequestInput): Promise<EvaluationRequest> {
    const row = await this.prisma.evaluationRequest.create({
      data: {
        runId: requireString(input.runId, 'runId', 200),
        eval: requireJsonObject(input.eval, 'eval'),
        checkpointStep: requireNonNegativeInt(input.checkpointStep, 'checkpointStep'),
      },
    });
    return toEvaluationRequest(row);
  }

  async getRequest(id: string): Promise<EvaluationRequest | null> {
    const row = await this.prisma.evaluationRequest.findUnique({ where: { id } });
    return row === null ? null : toEvaluationRequest(row);
  }

  /** The run's requests, oldest first. */
  async listRequests(runId: string): Promise<EvaluationRequest[]> {
    const rows = await this.prisma.evaluationRequest.findMany({
      where: { runId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(toEvaluationRequest);
  }

  /**
   * Requests in `statuses`, in id order after `afterId`; with `updatedBefore` only those not written since. The
   * reconciler pages through them to queue again what Redis lost.
   */
  async scanRequests(query: ScanRequestsQuery): Promise<EvaluationRequest[]> {
    const statuses = query.statuses.map((s, i) => requireOneOf(s, EVALUATION_STATUSES, `statuses[${i}]`));
    const rows = await this.prisma.evaluationRequest.findMany({
      where: {
        status: { in: statuses },
        ...(query.afterId === undefined ? {} : { id: { gt: requireString(query.afterId, 'afterId', 200) } }),
        ...(query.updatedBefore === undefined ? {} : { updatedAt: { lt: query.updatedBefore } }),
      },
      orderBy: { id: 'asc' },
      take: requireInt(query.limit ?? 500, 'limit', 1, 1000),
    });
    return rows.map(toEvaluationRequest);
  }

  /**
   * Starts a new attempt of a queued request, or of a running one whose worker was lost (a re-delivered job):
   * status running, attempt + 1, a new fencing token. Null when the request is gone or finished.
   */
  async claimRequest(
    id: string,
    worker: { workerHost: string; device: string },
  ): Promise<ClaimedEvaluation | null> {
    const token = randomUUID();
    const [row] = await this.prisma.evaluationRequest.updateManyAndReturn({
      where: { id, status: { in: ['queued', 'running'] } },
      data: {
        status: 'running',
        attempt: { increment: 1 },
        fencingToken: token,
        startedAt: new Date(),
        workerHost: requireString(worker.workerHost, 'workerHost', 500),
        device: requireString(worker.device, 'device', 200),
      },
    });
    return row === undefined ? null : { request: toEvaluationRequest(row), token };
  }

  /**
   * Stores one result of the attempt holding `token` in `evaluations`, linked to the checkpoint of its step.
   * (run, name, split, step) is unique there: a requested evaluation replaces whatever value is stored for the same
   * metric at the same step (the trainer's own, or an earlier request's), because it was asked for explicitly and
   * is the newest.
   */
  async recordResult(id: string, token: string, input: RequestedResultInput): Promise<Evaluation> {
    const name = requireString(input.name, 'name', 200);
    const step = requireNonNegativeInt(input.step, 'step');
    const fields = {
      value: measuredValue(input.value, 'value'),
      epoch: requireNonNegativeInt(input.epoch, 'epoch'),
    };
    return this.prisma.$transaction(async (tx) => {
      const runId = await lockRunningAttempt(tx, id, token);
      const checkpoint = await tx.checkpoint.findUnique({
        where: { runId_step: { runId, step } },
        select: { id: true },
      });
      const key = { runId, name, split: RESULT_SPLIT, step };
      const linked = { ...fields, checkpointId: checkpoint?.id ?? null };
      const row = await tx.evaluation.upsert({
        where: { runId_name_split_step: key },
        create: { ...key, ...linked },
        update: { ...linked, createdAt: new Date() },
      });
      return toEvaluation(row);
    });
  }

  /** Ends the attempt holding `token`: succeeded with the results, or failed with the error. */
  async finishRequest(id: string, token: string, outcome: EvaluationOutcome): Promise<EvaluationRequest> {
    const status = requireOneOf(outcome.status, FINISHED, 'outcome.status');
    const data: Prisma.EvaluationRequestUpdateManyMutationInput = {
      status,
      finishedAt: new Date(),
      fencingToken: null,
    };
    if (outcome.status === 'succeeded') {
      data.results = requireJsonObject(outcome.results, 'outcome.results');
    } else {
      if (typeof outcome.error !== 'object' || outcome.error === null) {
        throw new InvalidInputError('outcome.error', 'a failed evaluation needs an error {kind, message}');
      }
      data.errorKind = requireOneOf(outcome.error.kind, ERROR_KINDS, 'outcome.error.kind');
      data.errorMessage = requireString(outcome.error.message, 'outcome.error.message', 100_000);
      data.errorTraceback = optionalString(outcome.error.traceback, 'outcome.error.traceback', 1_000_000);
    }
    return this.#writeAsAttempt(id, token, data);
  }

  /** Hands the request back to the queue (worker shutdown): queued again with no current attempt. */
  async requeueRequest(id: string, token: string): Promise<EvaluationRequest> {
    return this.#writeAsAttempt(id, token, { status: 'queued', fencingToken: null });
  }

  /**
   * Fails a request whose queue job the queue itself gave up on (it stalled more often than allowed, so no
   * attempt is left to end it): kind `infrastructure`. Null when it is finished or gone.
   */
  async abandonRequest(id: string, message: string): Promise<EvaluationRequest | null> {
    const [row] = await this.prisma.evaluationRequest.updateManyAndReturn({
      where: { id, status: { in: ['queued', 'running'] } },
      data: {
        status: 'failed',
        fencingToken: null,
        finishedAt: new Date(),
        errorKind: 'infrastructure',
        errorMessage: requireString(message, 'message', 100_000),
        errorTraceback: null,
      },
    });
    return row === undefined ? null : toEvaluationRequest(row);
  }

  /** One UPDATE … WHERE id AND fencing_token AND status = running; StaleEvaluationError if none. */
  async #writeAsAttempt(
    id: string,
    token: string,
    data: Prisma.EvaluationRequestUpdateManyMutationInput,
  ): Promise<EvaluationRequest> {
    requireString(token, 'token', 200);
    const [row] = await this.prisma.evaluationRequest.updateManyAndReturn({
      where: { id, fencingToken: token, status: 'running' },
      data,
    });
    if (row === undefined) throw await staleEvaluation(this.prisma, id, token);
    return toEvaluationRequest(row);
  }
}
