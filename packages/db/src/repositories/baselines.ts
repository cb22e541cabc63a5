// Baselines: versioned reference metrics that regression runs are compared against.
import type { PrismaClient } from '../client.js';
import { type Baseline, type JsonObject, toBaseline } from '../rows.js';
import { requireInt, requireJsonObject, requireString, requireStringArray } from '../validate.js';

export interface CreateBaselineInput {
  name: string;
  suiteName: string;
  runIds: string[];
  metrics: JsonObject;
}

export class BaselinesRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Stores a new version of the named baseline (1 for the first). Versions are numbered under a
   * transaction-scoped advisory lock per name, so two concurrent creations get distinct numbers.
   */
  async createBaseline(input: CreateBaselineInput): Promise<Baseline> {
    const data = {
      name: requireString(input.name, 'name', 200),
      suiteName: requireString(input.suiteName, 'suiteName', 200),
      runIds: requireStringArray(input.runIds, 'runIds'),
      metrics: requireJsonObject(input.metrics, 'metrics'),
    };
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`swavlab.baseline:${data.name}`}))`;
      const latest = await tx.baseline.findFirst({
        where: { name: data.name },
        orderBy: { version: 'desc' },
      });
      const row = await tx.baseline.create({ data: { ...data, version: (latest?.version ?? 0) + 1 } });
      return toBaseline(row);
    });
  }

  /** The given version of a baseline, or its latest version when `version` is omitted. */
  async getBaseline(name: string, version?: number): Promise<Baseline | null> {
    const row =
      version === undefined
        ? await this.prisma.baseline.findFirst({ where: { name }, orderBy: { version: 'desc' } })
        : await this.prisma.baseline.findUnique({
            where: { name_version: { name, version: requireInt(version, 'version', 1) } },
          });
    return row === null ? null : toBaseline(row);
  }
}
