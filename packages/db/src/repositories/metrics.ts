// Metric points: training curves, written in batches by the current attempt and read back as series.
//
// Idempotency: (run_id, name, step) is the primary key and a batch is inserted with ON CONFLICT DO NOTHING,
// so a re-delivered batch (at-least-once IPC or retry of a write) adds nothing. Points recorded by a dead
// attempt after the checkpoint a new attempt resumes from are deleted by RunsRepository.claimRun, so the
// resumed attempt's values replace them instead of being skipped.
import type { PrismaClient } from '../client.js';
import { InvalidInputError } from '../errors.js';
import { lockCurrentAttempt } from '../fence.js';
import { type MetricPoint, toMetricPoint } from '../rows.js';
import { measuredValue, requireNonNegativeInt, requireString } from '../validate.js';

export interface MetricPointInput {
  name: string;
  step: number;
  epoch?: number | null;
  /** Non-finite values are stored as NaN. */
  value: number;
  time?: Date;
}

interface MetricPointRow {
  run_id: string;
  name: string;
  step: number;
  epoch: number | null;
  value: number;
  time: Date;
}

function pointOfRow(row: MetricPointRow): MetricPoint {
  return {
    runId: row.run_id,
    name: row.name,
    step: row.step,
    epoch: row.epoch,
    value: row.value,
    time: row.time,
  };
}

/** At most this many points per call, to keep one INSERT's parameter count well below PostgreSQL's limit. */
const MAX_BATCH = 5_000;

function pointTime(value: Date | undefined, path: string): Date {
  if (value === undefined) return new Date();
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new InvalidInputError(path, 'expected a valid Date');
  return value;
}

export class MetricsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Inserts a batch for the attempt holding `token`; returns how many points were new. */
  async appendMetrics(runId: string, token: string, points: readonly MetricPointInput[]): Promise<number> {
    if (!Array.isArray(points)) throw new InvalidInputError('points', 'expected an array');
    if (points.length > MAX_BATCH)
      throw new InvalidInputError('points', `at most ${MAX_BATCH} points per batch`);
    const data = points.map((p, i) => ({
      name: requireString(p.name, `points[${i}].name`, 200),
      step: requireNonNegativeInt(p.step, `points[${i}].step`),
      epoch:
        p.epoch === undefined || p.epoch === null
          ? null
          : requireNonNegativeInt(p.epoch, `points[${i}].epoch`),
      value: measuredValue(p.value, `points[${i}].value`),
      time: pointTime(p.time, `points[${i}].time`),
    }));
    return this.prisma.$transaction(async (tx) => {
      await lockCurrentAttempt(tx, runId, token);
      if (data.length === 0) return 0;
      // One row of arrays unnested in SQL: five parameters whatever the batch size, several times faster than
      // createMany's parameter per field. Values travel as text so that NaN survives every driver adapter;
      // times as UTC ISO strings, which is how Prisma stores a DateTime in a timestamp column.
      return tx.$executeRaw`
        INSERT INTO metric_points (run_id, name, step, epoch, value, time)
        SELECT ${runId}, p.name, p.step, p.epoch, p.value::float8, p.time::timestamp(3)
        FROM unnest(
          ${data.map((p) => p.name)}::text[],
          ${data.map((p) => p.step)}::int[],
          ${data.map((p) => p.epoch)}::int[],
          ${data.map((p) => String(p.value))}::text[],
          ${data.map((p) => p.time.toISOString())}::text[]
        ) AS p(name, step, epoch, value, time)
        ON CONFLICT DO NOTHING`;
    });
  }

  /** The whole series of one metric, by step. */
  async metricSeries(runId: string, name: string): Promise<MetricPoint[]> {
    const rows = await this.prisma.metricPoint.findMany({ where: { runId, name }, orderBy: { step: 'asc' } });
    return rows.map(toMetricPoint);
  }

  /**
   * The points of a run after `cursor` (metric name → the last step already seen; -1 or absent: none), in (step,
   * name) order so that each metric's part is a prefix of its new points; at most `limit`.
   */
  async pointsAfter(
    runId: string,
    cursor: Readonly<Record<string, number>>,
    limit: number,
  ): Promise<MetricPoint[]> {
    const rows = await this.prisma.$queryRaw<MetricPointRow[]>`
      SELECT run_id, name, step, epoch, value, time FROM metric_points
      WHERE run_id = ${runId}
        AND step > COALESCE((${JSON.stringify(cursor)}::jsonb ->> name)::int, -1)
      ORDER BY step, name
      LIMIT ${limit}`;
    return rows.map(pointOfRow);
  }

  /** The latest point (highest step) of every metric of a run, by name. */
  async latestMetrics(runId: string): Promise<MetricPoint[]> {
    // DISTINCT ON in SQL: Prisma's `distinct` would fetch the whole run's points and filter them in memory.
    const rows = await this.prisma.$queryRaw<MetricPointRow[]>`
      SELECT DISTINCT ON (name) run_id, name, step, epoch, value, time
      FROM metric_points WHERE run_id = ${runId}
      ORDER BY name, step DESC`;
    return rows.map(pointOfRow);
  }
}
