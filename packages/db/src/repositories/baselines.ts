// Baselines: versioned reference metrics of a regression suite that regression runs are compared against.
import type { PrismaClient, Queryable } from '../client.js';
import { type Baseline, type JsonObject, toBaseline } from '../rows.js';
import { requireInt, requireJsonObject, requireString, requireStringArray } from '../validate.js';

export interface CreateBaselineInput {
  name: string;
  suiteName: string;
  runIds: string[];
  metrics: JsonObject;
}

/** A baseline that should have been version 1 already exists (it was created while a regression ran). */
export class BaselineExistsError extends Error {
  override readonly name = 'BaselineExistsError';
  constructor(
    readonly suiteName: string,
    readonly baselineName: string,
    readonly version: number,
  ) {
    super(`baseline ${baselineName} of suite ${suiteName} already exists (version ${version})`);
  }
}

/**
 * Inserts the next version of a suite's named baseline; must run inside a transaction. Versions are numbered
 * under a transaction-scoped advisory lock per (suite, name), so concurrent creations get distinct numbers.
 * With `firstOnly`, throws BaselineExistsError instead of creating version 2 or later.
 */
export async function insertBaselineVersion(
  tx: Queryable,
  input: CreateBaselineInput,
  options: { firstOnly?: boolean } = {},
): Promise<Baseline> {
  const data = {
    name: requireString(input.name, 'name', 200),
    suiteName: requireString(input.suiteName, 'suiteName', 200),
    runIds: requireStringArray(input.runIds, 'runIds'),
    metrics: requireJsonObject(input.metrics, 'metrics'),
  };
  const key = `swavlab.baseline:${JSON.stringify([data.suiteName, data.name])}`;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
  const latest = await tx.baseline.findFirst({
    where: { suiteName: data.suiteName, name: data.name },
    orderBy: { version: 'desc' },
  });
  if (latest !== null && options.firstOnly) {
    throw new BaselineExistsError(data.suiteName, data.name, latest.version);
  }
  const row = await tx.baseline.create({ data: { ...data, version: (latest?.version ?? 0) + 1 } });
  return toBaseline(row);
}

export class BaselinesRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores a new version of the suite's named baseline (1 for the first). */
  async createBaseline(input: CreateBaselineInput): Promise<Baseline> {
    return this.prisma.$transaction((tx) => insertBaselineVersion(tx, input));
  }

  /** The given version of a suite's baseline, or its latest version when `version` is omitted. */
  async getBaseline(suiteName: string, name: string, version?: number): Promise<Baseline | null> {
    const where = { suiteName, name };
    const row =
      version === undefined
        ? await this.prisma.baseline.findFirst({ where, orderBy: { version: 'desc' } })
        : await this.prisma.baseline.findUnique({
            where: {
              suiteName_name_version: { ...where, version: requireInt(version, 'version', 1) },
            },
          });
    return row === null ? null : toBaseline(row);
  }
}
