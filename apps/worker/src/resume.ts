// Which checkpoint a new attempt resumes from: the latest one whose stored file is intact, else an earlier one,
// else none (a fresh start). On a host that lacks the file, the artifact store downloads it first. A checkpoint
// on a lost volume or a torn copy must not fail the retry; an unreachable store does (the job is retried).
import { ArtifactCorrupt, ArtifactMissing, type ArtifactStore } from '@swavlab/artifacts';
import type { Checkpoint, Database } from '@swavlab/db';
import { localPathOf } from './artifacts.js';
import type { Logger } from './logger.js';

export interface ResumePoint {
  checkpoint: Checkpoint;
  /** The checkpoint file on this host, absolute. */
  file: string;
}

export interface ResumeSource {
  store: ArtifactStore;
  /** The folder local copies go in (see artifacts.ts). */
  base: string;
}

/**
 * The newest usable checkpoint, starting with `latest` (what the claim offered), then the run's older ones;
 * each one skipped is logged as a warning, and so is falling back to a fresh start.
 */
export async function chooseResumePoint(
  db: Database,
  runId: string,
  latest: Checkpoint | null,
  { store, base }: ResumeSource,
  logger: Logger,
): Promise<ResumePoint | null> {
  if (latest === null) return null;
  const older = (await db.checkpoints.listCheckpoints(runId))
    .filter((checkpoint) => checkpoint.step < latest.step)
    .reverse();
  for (const checkpoint of [latest, ...older]) {
    try {
      const file = await store.fetch(checkpoint.path, checkpoint.sha256, localPathOf(base, checkpoint.path));
      return { checkpoint, file };
    } catch (error) {
      if (!(error instanceof ArtifactMissing || error instanceof ArtifactCorrupt)) throw error;
      logger.warn('checkpoint not usable for resume, trying an earlier one', {
        runId,
        step: checkpoint.step,
        key: checkpoint.path,
        store: store.location,
        reason: error.message,
      });
    }
  }
  logger.warn('no usable checkpoint: the run starts from scratch', { runId });
  return null;
}
