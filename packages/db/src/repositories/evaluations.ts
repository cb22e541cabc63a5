// Evaluations: kNN and linear-probe results on the frozen backbone during and at the end of a run.
import type { PrismaClient } from '../client.js';
import { lockCurrentAttempt } from '../fence.js';
import { type Evaluation, toEvaluation } from '../rows.js';
import { measuredValue, optionalString, requireNonNegativeInt, requireString } from '../validate.js';

export interface EvaluationInput {
  name: string;
  value: number;
  split: string;
  epoch: number;
  step: number;
  checkpointId?: string | null;
}

export interface AddedEvaluation {
  evaluation: Evaluation;
  /** False when this (name, split, step) was already recorded: a re-delivered result is not stored twice. */
  created: boolean;
}

export class EvaluationsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Records a result of the attempt holding `token`; (run, name, split, step) is unique. */
  async addEvaluation(runId: string, token: string, input: EvaluationInput): Promise<AddedEvaluation> {
    const key = {
      runId,
      name: requireString(input.name, 'name', 200),
      split: requireString(input.split, 'split', 100),
      step: requireNonNegativeInt(input.step, 'step'),
    };
    const data = {
      ...key,
      value: measuredValue(input.value, 'value'),
      epoch: requireNonNegativeInt(input.epoch, 'epoch'),
      checkpointId: optionalString(input.checkpointId, 'checkpointId', 200),
    };
    return this.prisma.$transaction(async (tx) => {
      await lockCurrentAttempt(tx, runId, token);
      const [inserted] = await tx.evaluation.createManyAndReturn({ data: [data], skipDuplicates: true });
      if (inserted !== undefined) return { evaluation: toEvaluation(inserted), created: true };
      const existing = await tx.evaluation.findUniqueOrThrow({ where: { runId_name_split_step: key } });
      return { evaluation: toEvaluation(existing), created: false };
    });
  }

  /** By step, then name. */
  async listEvaluations(runId: string): Promise<Evaluation[]> {
    const rows = await this.prisma.evaluation.findMany({
      where: { runId },
      orderBy: [{ step: 'asc' }, { name: 'asc' }, { split: 'asc' }],
    });
    return rows.map(toEvaluation);
  }
}
