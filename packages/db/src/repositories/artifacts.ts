// Exported files of a run besides its checkpoints (the backbone), one row per run and name.
import type { PrismaClient } from '../client.js';
import { lockCurrentAttempt } from '../fence.js';
import { type Artifact, toArtifact } from '../rows.js';
import { requireByteCount, requireNonNegativeInt, requireSha256, requireString } from '../validate.js';

export interface ArtifactInput {
  /** `backbone`. */
  name: string;
  /** The artifact store key. */
  path: string;
  sha256: string;
  bytes: number;
  /** The training step it was exported at. */
  step: number;
}

export class ArtifactsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Records (or replaces) the run's artifact `name`, as the attempt holding `token`; call once it is stored. */
  async recordArtifact(runId: string, token: string, input: ArtifactInput): Promise<Artifact> {
    const name = requireString(input.name, 'name', 100);
    const fields = {
      path: requireString(input.path, 'path', 4096),
      sha256: requireSha256(input.sha256, 'sha256'),
      bytes: BigInt(requireByteCount(input.bytes, 'bytes')),
      step: requireNonNegativeInt(input.step, 'step'),
    };
    return this.prisma.$transaction(async (tx) => {
      await lockCurrentAttempt(tx, runId, token);
      const row = await tx.artifact.upsert({
        where: { runId_name: { runId, name } },
        create: { runId, name, ...fields },
        update: { ...fields, createdAt: new Date() },
      });
      return toArtifact(row);
    });
  }

  /** The run's artifact `name`, or null. */
  async getArtifact(runId: string, name: string): Promise<Artifact | null> {
    const row = await this.prisma.artifact.findUnique({ where: { runId_name: { runId, name } } });
    return row === null ? null : toArtifact(row);
  }
}
