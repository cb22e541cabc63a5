// Regression runs: a CI pipeline's request to run a suite and compare it with a baseline, its candidate runs
// (created with the regression in one transaction) and its verdict (stored once).
import type { Prisma, PrismaClient } from '../client.js';
import { InvalidInputError } from '../errors.js';
import { afterPageToken, keysetPage } from '../pagination.js';
import {
  type JsonObject,
  REGRESSION_VERDICTS,
  type RegressionRun,
  type RegressionVerdict,
  toRegressionRun,
} from '../rows.js';
import { optionalString, requireInt, requireJsonObject, requireOneOf, requireString } from '../validate.js';
import { type CreateBaselineInput, insertBaselineVersion } from './baselines.js';
import { type BulkRunResult, type CreateRunInput, insertOrReuseRuns } from './runs.js';

/** A candidate run; its spec hash is derived from the cell's hash and the regression id (see candidateHash). */
export type CandidateRunInput = Omit<CreateRunInput, 'gridId' | 'cellIndex'>;

export interface CreateRegressionRunInput {
  suiteName: string;
  suite: JsonObject;
  baselineName: string;
  /** The baseline version to compare against; null when the suite has no such baseline. */
  baselineVersion: number | null;
  promoteIfMissing?: boolean;
  commit?: string | null;
  branch?: string | null;
  ciUrl?: string | null;
  candidates: CandidateRunInput[];
  /**
   * The spec hash stored for a candidate, from its own hash and the new regression's id: candidates are fresh
   * runs, never deduplicated against earlier ones.
   */
  candidateHash: (specHash: string, regressionId: string) => string;
}

export interface CreatedRegressionRun {
  regression: RegressionRun;
  /** In candidate order; every run is new (`created: true`) and must be enqueued. */
  runs: BulkRunResult[];
}

export interface RegressionVerdictInput {
  verdict: RegressionVerdict;
  report: JsonObject;
  /** Stored as the compared (or promoted) baseline version; unchanged when omitted. */
  baselineVersion?: number | null;
  /** Creates version 1 of the regression's baseline in the same transaction as the verdict. */
  promote?: Omit<CreateBaselineInput, 'name' | 'suiteName'>;
}

export interface ListRegressionRunsQuery {
  suiteName?: string;
  /** 1..100, default 20. */
  pageSize?: number;
  pageToken?: string;
}

export interface RegressionRunPage {
  regressions: RegressionRun[];
  nextPageToken: string | null;
}

const MAX_PAGE_SIZE = 100;

export class RegressionsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Creates the regression and its candidate runs atomically: either all rows are written or none. */
  async createRegressionRun(input: CreateRegressionRunInput): Promise<CreatedRegressionRun> {
    const data = {
      suiteName: requireString(input.suiteName, 'suiteName', 200),
      suite: requireJsonObject(input.suite, 'suite'),
      baselineName: requireString(input.baselineName, 'baselineName', 200),
      baselineVersion:
        input.baselineVersion === null ? null : requireInt(input.baselineVersion, 'baselineVersion', 1),
      promoteIfMissing: input.promoteIfMissing ?? false,
      commit: optionalString(input.commit, 'commit', 200),
      branch: optionalString(input.branch, 'branch', 500),
      ciUrl: optionalString(input.ciUrl, 'ciUrl', 2000),
    };
    if (!Array.isArray(input.candidates)) throw new InvalidInputError('candidates', 'expected an array');
    return this.prisma.$transaction(async (tx) => {
      const created = await tx.regressionRun.create({ data });
      const runs = await insertOrReuseRuns(
        tx,
        input.candidates.map((run) => ({ ...run, specHash: input.candidateHash(run.specHash, created.id) })),
        'candidates',
      );
      const row = await tx.regressionRun.update({
        where: { id: created.id },
        data: { candidateRunIds: runs.map((r) => r.run.id) },
      });
      return { regression: toRegressionRun(row), runs };
    });
  }

  async getRegressionRun(id: string): Promise<RegressionRun | null> {
    const row = await this.prisma.regressionRun.findUnique({ where: { id } });
    return row === null ? null : toRegressionRun(row);
  }

  /**
   * Stores the verdict unless one is already stored (UPDATE … WHERE verdict IS NULL, so concurrent callers
   * store exactly one) and returns the regression as stored. With `promote`, the baseline's version 1 is
   * created in the same transaction; BaselineExistsError (and nothing written) when it exists by then.
   */
  async storeVerdict(id: string, input: RegressionVerdictInput): Promise<RegressionRun | null> {
    const data: Prisma.RegressionRunUpdateManyMutationInput = {
      verdict: requireOneOf(input.verdict, REGRESSION_VERDICTS, 'verdict'),
      report: requireJsonObject(input.report, 'report'),
      finishedAt: new Date(),
    };
    if (input.baselineVersion !== undefined) data.baselineVersion = input.baselineVersion;
    return this.prisma.$transaction(async (tx) => {
      const [row] = await tx.regressionRun.updateManyAndReturn({ where: { id, verdict: null }, data });
      if (row === undefined) {
        const current = await tx.regressionRun.findUnique({ where: { id } });
        return current === null ? null : toRegressionRun(current);
      }
      if (input.promote !== undefined) {
        await insertBaselineVersion(
          tx,
          { ...input.promote, name: row.baselineName, suiteName: row.suiteName },
          { firstOnly: true },
        );
      }
      return toRegressionRun(row);
    });
  }

  /** Newest first, optionally of one suite; keyset-paginated by (created_at, id). */
  async listRegressionRuns(query: ListRegressionRunsQuery = {}): Promise<RegressionRunPage> {
    const pageSize = requireInt(query.pageSize ?? 20, 'pageSize', 1, MAX_PAGE_SIZE);
    const where: Prisma.RegressionRunWhereInput[] = [];
    if (query.suiteName !== undefined)
      where.push({ suiteName: requireString(query.suiteName, 'suiteName', 200) });
    if (query.pageToken !== undefined) where.push(afterPageToken(query.pageToken));
    const rows = await this.prisma.regressionRun.findMany({
      where: { AND: where },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageSize + 1,
    });
    const { page, nextPageToken } = keysetPage(rows, pageSize);
    return { regressions: page.map(toRegressionRun), nextPageToken };
  }

  /** The suite's regressions that have a verdict, oldest first (the latest `limit` of them). */
  async finishedRegressionRuns(suiteName: string, limit = 1000): Promise<RegressionRun[]> {
    const rows = await this.prisma.regressionRun.findMany({
      where: { suiteName: requireString(suiteName, 'suiteName', 200), verdict: { not: null } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: requireInt(limit, 'limit', 1, 10_000),
    });
    return rows.reverse().map(toRegressionRun);
  }
}
