// Checkpoints: where each saved training state lives and how to verify it.
import type { PrismaClient } from '../client.js';
import { InvalidInputError } from '../errors.js';
import { lockCurrentAttempt } from '../fence.js';
import { type Checkpoint, toCheckpoint } from '../rows.js';
import { requireNonNegativeInt, requireString } from '../validate.js';

export interface CheckpointInput {
  epoch: number;
  step: number;
  /** Relative to $SWAVLAB_ARTIFACTS or absolute; stored as given. */
  path: string;
  sha256: string;
  bytes: number;
}

export class CheckpointsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Records a checkpoint of the attempt holding `token`. (run, step) is unique; a second checkpoint at the same
   * step (a resumed attempt saving again, or a re-delivered event) overwrites the row, because the file on
   * disk is the one written last.
   */
  async addCheckpoint(runId: string, token: string, input: CheckpointInput): Promise<Checkpoint> {
    const epoch = requireNonNegativeInt(input.epoch, 'epoch');
    const step = requireNonNegativeInt(input.step, 'step');
    const path = requireString(input.path, 'path', 4096);
    if (typeof input.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(input.sha256)) {
      throw new InvalidInputError('sha256', 'expected 64 lowercase hex characters');
    }
    if (typeof input.bytes !== 'number' || !Number.isSafeInteger(input.bytes) || input.bytes < 0) {
      throw new InvalidInputError(
        'bytes',
        `expected a non-negative integer, got ${JSON.stringify(input.bytes)}`,
      );
    }
    const fields = { epoch, path, sha256: input.sha256, bytes: BigInt(input.bytes) };
    return this.prisma.$transaction(async (tx) => {
      const attempt = await lockCurrentAttempt(tx, runId, token);
      const row = await tx.checkpoint.upsert({
        where: { runId_step: { runId, step } },
        create: { runId, step, attempt, ...fields },
        update: { attempt, ...fields, createdAt: new Date() },
      });
      return toCheckpoint(row);
    });
  }

  /** By step, oldest first. */
  async listCheckpoints(runId: string): Promise<Checkpoint[]> {
    const rows = await this.prisma.checkpoint.findMany({ where: { runId }, orderBy: { step: 'asc' } });
    return rows.map(toCheckpoint);
  }

  /** The checkpoint with the highest step, which a retry resumes from; null when there is none. */
  async latestCheckpoint(runId: string): Promise<Checkpoint | null> {
    const row = await this.prisma.checkpoint.findFirst({ where: { runId }, orderBy: { step: 'desc' } });
    return row === null ? null : toCheckpoint(row);
  }
}
