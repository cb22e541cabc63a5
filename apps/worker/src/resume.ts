// Which checkpoint a new attempt resumes from: the latest one whose file is still there and intact, else an
// earlier one, else none (a fresh start). A checkpoint on a lost volume or a torn copy must not fail the retry.
import type { Checkpoint, Database } from '@swavlab/db';
import { fileSha256, resolveStoredPath } from './artifacts.js';
import type { Logger } from './logger.js';

export interface ResumePoint {
  checkpoint: Checkpoint;
  /** The checkpoint file, absolute. */
  file: string;
}

/** Why a checkpoint cannot be resumed from, or null when it can. */
async function unusable(file: string, checkpoint: Checkpoint): Promise<string | null> {
  let actual: string;
  try {
    actual = await fileSha256(file);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'the file is missing'
      : `the file cannot be read (${(error as Error).message})`;
  }
  return actual === checkpoint.sha256
    ? null
    : `sha256 ${actual} differs from the recorded ${checkpoint.sha256}`;
}

/**
 * The newest usable checkpoint, starting with `latest` (what the claim offered), then the run's older ones;
 * each one skipped is logged as a warning, and so is falling back to a fresh start.
 */
export async function chooseResumePoint(
  db: Database,
  runId: string,
  latest: Checkpoint | null,
  artifactsDir: string,
  logger: Logger,
): Promise<ResumePoint | null> {
  if (latest === null) return null;
  const older = (await db.checkpoints.listCheckpoints(runId))
    .filter((checkpoint) => checkpoint.step < latest.step)
    .reverse();
  for (const checkpoint of [latest, ...older]) {
    const file = resolveStoredPath(artifactsDir, checkpoint.path);
    const reason = await unusable(file, checkpoint);
    if (reason === null) return { checkpoint, file };
    logger.warn('checkpoint not usable for resume, trying an earlier one', {
      runId,
      step: checkpoint.step,
      file,
      reason,
    });
  }
  logger.warn('no usable checkpoint: the run starts from scratch', { runId });
  return null;
}
