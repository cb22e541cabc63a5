// Regression runs: a CI pipeline's request to run a suite and compare it with a baseline, and its verdict.
import type { Prisma, PrismaClient } from '../client.js';
import {
  type JsonObject,
  REGRESSION_VERDICTS,
  type RegressionRun,
  type RegressionVerdict,
  toRegressionRun,
} from '../rows.js';
import {
  optionalString,
  requireJsonObject,
  requireOneOf,
  requireString,
  requireStringArray,
} from '../validate.js';

export interface CreateRegressionRunInput {
  suiteName: string;
  suite: JsonObject;
  baselineName: string;
  commit?: string | null;
  branch?: string | null;
  ciUrl?: string | null;
  candidateRunIds?: string[];
}

export interface RegressionRunUpdate {
  candidateRunIds?: string[];
  verdict?: RegressionVerdict;
  report?: JsonObject;
  /** Sets finished_at; a verdict is final once set together with this. */
  finished?: boolean;
}

export class RegressionsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async createRegressionRun(input: CreateRegressionRunInput): Promise<RegressionRun> {
    const row = await this.prisma.regressionRun.create({
      data: {
        suiteName: requireString(input.suiteName, 'suiteName', 200),
        suite: requireJsonObject(input.suite, 'suite'),
        baselineName: requireString(input.baselineName, 'baselineName', 200),
        commit: optionalString(input.commit, 'commit', 200),
        branch: optionalString(input.branch, 'branch', 500),
        ciUrl: optionalString(input.ciUrl, 'ciUrl', 2000),
        candidateRunIds: requireStringArray(input.candidateRunIds ?? [], 'candidateRunIds'),
      },
    });
    return toRegressionRun(row);
  }

  async getRegressionRun(id: string): Promise<RegressionRun | null> {
    const row = await this.prisma.regressionRun.findUnique({ where: { id } });
    return row === null ? null : toRegressionRun(row);
  }

  /** Null when no regression run has this id. */
  async updateRegressionRun(id: string, update: RegressionRunUpdate): Promise<RegressionRun | null> {
    const data: Prisma.RegressionRunUpdateManyMutationInput = {};
    if (update.candidateRunIds !== undefined) {
      data.candidateRunIds = requireStringArray(update.candidateRunIds, 'candidateRunIds');
    }
    if (update.verdict !== undefined)
      data.verdict = requireOneOf(update.verdict, REGRESSION_VERDICTS, 'verdict');
    if (update.report !== undefined) data.report = requireJsonObject(update.report, 'report');
    if (update.finished === true) data.finishedAt = new Date();
    const [row] = await this.prisma.regressionRun.updateManyAndReturn({ where: { id }, data });
    return row === undefined ? null : toRegressionRun(row);
  }
}
