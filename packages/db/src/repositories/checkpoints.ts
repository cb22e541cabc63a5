// Checkpoints: where each saved training state lives and how to verify it.
import type { PrismaClient } from '../client.js';
import { lockCurrentAttempt } from '../fence.js';
import { type Checkpoint, toCheckpoint } from '../rows.js';
import {
  requireByteCount,
  requireInt,
  requireNonNegativeInt,
  requireSha256,
  requireString,
} from '../validate.js';

export interface CheckpointInput {
  epoch: number;
  step: number;
  /** The artifact store key (relative to $SWAVLAB_ARTIFACTS); stored as given. */
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
    const sha256 = requireSha256(input.sha256, 'sha256');
    const fields = { epoch, path, sha256, bytes: BigInt(requireByteCount(input.bytes, 'bytes')) };
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

  /** The run's checkpoint at `step`, or null. */
  async getCheckpoint(runId: string, step: number): Promise<Checkpoint | null> {
    const row = await this.prisma.checkpoint.findUnique({
      where: { runId_step: { runId, step: requireNonNegativeInt(step, 'step') } },
    });
    return row === null ? null : toCheckpoint(row);
  }

  /**
   * Keeps the run's `keepLast` newest checkpoints and deletes the rows of the others (as the attempt holding
   * `token`); returns the deleted ones, whose files the caller removes from the artifact store.
   */
  async pruneCheckpoints(runId: string, token: string, keepLast: number): Promise<Checkpoint[]> {
    const keep = requireInt(keepLast, 'keepLast', 1, 1_000_000);
    return this.prisma.$transaction(async (tx) => {
      await lockCurrentAttempt(tx, runId, token);
      const old = await tx.checkpoint.findMany({ where: { runId }, orderBy: { step: 'desc' }, skip: keep });
      if (old.length > 0) await tx.checkpoint.deleteMany({ where: { id: { in: old.map((row) => row.id) } } });
      return old.map(toCheckpoint);
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
