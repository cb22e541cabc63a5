// Persists one attempt's trainer events through the fencing token, in order, in batches: metric points are
// buffered and written every flush interval (or once enough are buffered), progress is written at the same
// cadence (latest wins), checkpoints, exports, evaluations and the dataset report are written as they come (after
// the points before them). A checkpoint or export is recorded only once the artifact store holds it; checkpoints beyond the spec's
// keep_last are then removed, rows and files.
import { ArtifactCorrupt, ArtifactMissing, type ArtifactStore } from '@swavlab/artifacts';
import type { BridgeEvent } from '@swavlab/bridge';
import { type Database, InvalidInputError, type MetricPointInput, StaleAttemptError } from '@swavlab/db';
import { artifactKey } from './artifacts.js';
import type { Logger } from './logger.js';
import type { JobMetrics } from './metrics.js';
import { parseTrainerEvent } from './trainer-events.js';

export interface ProgressReport {
  epoch: number;
  step: number;
  totalSteps: number;
  etaSeconds: number | null;
}

/** A collapse warning as the run's final metrics list it (`warnings`). */
export interface CollapseNote {
  type: 'collapse';
  epoch: number;
  step: number;
  message: string;
  advice: string[];
}

/** Stored as a metric point (value 1 at the step it fired) so that the warning shows while the run is going. */
export const COLLAPSE_WARNING_METRIC = 'collapse_warning';

export interface EventSinkOptions {
  db: Database;
  runId: string;
  token: string;
  attempt: number;
  /** Where checkpoints and exports are stored. */
  store: ArtifactStore;
  /** The folder the trainer's files are under; their keys are relative to it (artifacts.ts). */
  base: string;
  /** checkpoint.keep_last of the run's spec. */
  keepLast: number;
  logger: Logger;
  /** Step times and persisted records, for the worker's /metrics. */
  metrics?: JobMetrics;
  flushIntervalMs: number;
  flushMaxPoints: number;
  /** After each progress write, for live views (job.updateProgress). */
  onProgress?: (progress: ProgressReport) => void;
  /** The run row says a cancel was requested (seen on a progress write). */
  onCancelRequested: () => void;
  /** A write failed for good (StaleAttemptError, or the database stayed unreachable): the attempt must stop. */
  onFailure: (error: Error) => void;
}

// Waits between tries of a failing write; a database that stays away this long (~10 s) fails the attempt.
const RETRY_DELAYS_MS = [250, 1_000, 3_000, 6_000];

function permanent(error: unknown): boolean {
  return (
    error instanceof StaleAttemptError ||
    error instanceof InvalidInputError ||
    error instanceof ArtifactCorrupt
  );
}

export class EventSink {
  readonly warnings: CollapseNote[] = [];
  /** Events received, and metric points handed to the database. */
  readonly counts = { events: 0, points: 0 };

  readonly #options: EventSinkOptions;
  #points: MetricPointInput[] = [];
  #progress: ProgressReport | undefined;
  #chain: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;
  readonly #timer: NodeJS.Timeout;
  // Evaluations point at the checkpoint of their step (the final evaluation follows the final checkpoint).
  readonly #checkpointIds = new Map<number, string>();
  /** The previous progress event's step and arrival time (ms), for step times. */
  #lastProgress: { step: number; at: number } | undefined;

  constructor(options: EventSinkOptions) {
    this.#options = options;
    this.#timer = setInterval(() => this.#tick(), options.flushIntervalMs);
    this.#timer.unref();
  }

  /** The error that stopped persistence, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Takes one event from the bridge; never throws (the bridge kills the job when its callback throws). */
  push(event: BridgeEvent): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.counts.events += 1;
    const { logger, runId, attempt } = this.#options;
    let parsed: ReturnType<typeof parseTrainerEvent>;
    try {
      parsed = parseTrainerEvent(event);
    } catch (error) {
      logger.warn('malformed trainer event dropped', { runId, attempt, error });
      return;
    }
    if (parsed === null) {
      logger.debug('trainer event of an unknown type ignored', { runId, attempt, type: event.type });
      return;
    }
    logger.debug('trainer event', { runId, attempt, event: parsed });
    // Steps around a checkpoint or an evaluation include their time: not a step time.
    if (parsed.type === 'checkpoint' || parsed.type === 'eval' || parsed.type === 'artifact') {
      this.#lastProgress = undefined;
    }
    switch (parsed.type) {
      case 'metrics':
      case 'metrics_batch': {
        for (const point of parsed.type === 'metrics' ? [parsed] : parsed.points) {
          for (const [name, value] of Object.entries(point.values)) {
            this.#points.push({ name, step: point.step, epoch: point.epoch, value: value ?? Number.NaN });
          }
        }
        if (this.#points.length >= this.#options.flushMaxPoints) this.#writePoints();
        break;
      }
      case 'progress':
        this.#progress = parsed;
        this.#timeSteps(parsed.step);
        break;
      case 'checkpoint': {
        this.#writePoints();
        const key = this.#keyOf(parsed.path);
        if (key === undefined) break;
        this.#enqueue('checkpoint', async () => {
          if (!(await this.#stored(key, parsed.path, parsed.sha256))) return 0;
          const row = await this.#options.db.checkpoints.addCheckpoint(runId, this.#options.token, {
            ...parsed,
            path: key,
          });
          this.#checkpointIds.set(row.step, row.id);
          await this.#prune();
          return 1;
        });
        break;
      }
      case 'artifact': {
        this.#writePoints();
        const key = this.#keyOf(parsed.path);
        if (key === undefined) break;
        this.#enqueue('artifact', async () => {
          if (!(await this.#stored(key, parsed.path, parsed.sha256))) return 0;
          const { name, sha256, bytes, step } = parsed;
          await this.#options.db.artifacts.recordArtifact(runId, this.#options.token, {
            name,
            path: key,
            sha256,
            bytes,
            step,
          });
          return 1;
        });
        break;
      }
      case 'eval': {
        this.#writePoints();
        const { epoch, step } = parsed;
        for (const [name, value] of Object.entries(parsed.values)) {
          this.#enqueue('eval', async () => {
            await this.#options.db.evaluations.addEvaluation(runId, this.#options.token, {
              name,
              value: value ?? Number.NaN,
              split: 'test',
              epoch,
              step,
              checkpointId: this.#checkpointIds.get(step) ?? null,
            });
            return 1;
          });
        }
        break;
      }
      case 'collapse_warning': {
        const { epoch, step, message, advice } = parsed;
        this.warnings.push({ type: 'collapse', epoch, step, message, advice });
        this.#points.push({ name: COLLAPSE_WARNING_METRIC, step, epoch, value: 1 });
        logger.warn('the run looks collapsed', { runId, attempt, step, message, advice });
        break;
      }
      case 'dataset': {
        const { dataset } = parsed;
        this.#enqueue('dataset', async () => {
          await this.#options.db.runs.recordDataset(runId, this.#options.token, dataset);
          return 1;
        });
        break;
      }
      case 'eval_progress': {
        const { evaluation, epoch, epochs, values } = parsed;
        logger.info('evaluation progress', { runId, attempt, evaluation, epoch, epochs, values });
        break;
      }
      case 'diverged':
        logger.warn('the run diverged', { runId, attempt, step: parsed.step, message: parsed.message });
        break;
      case 'status':
        break;
    }
  }

  /**
   * Writes everything still buffered and stops the timer; rejects with the error that stopped persistence
   * (StaleAttemptError when a newer attempt owns the run).
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.#closed) {
      this.#writePoints();
      this.#writeProgress();
      this.#closed = true;
    }
    await this.#chain;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The store key of a file the trainer wrote; a file outside its folders stops the attempt. */
  #keyOf(path: string): string | undefined {
    try {
      return artifactKey(this.#options.base, path);
    } catch (error) {
      this.#fail(error as Error);
      return undefined;
    }
  }

  /**
   * Puts the file into the artifact store (uploads it, for object storage); false when the trainer already
   * replaced and deleted it (keep_last), in which case there is nothing to record.
   */
  async #stored(key: string, file: string, sha256: string): Promise<boolean> {
    const { store, logger, runId, attempt } = this.#options;
    try {
      const started = Date.now();
      const { bytes } = await store.put(key, file, sha256);
      logger.debug('artifact stored', {
        runId,
        attempt,
        key,
        bytes,
        store: store.location,
        ms: Date.now() - started,
      });
      return true;
    } catch (error) {
      if (!(error instanceof ArtifactMissing)) throw error;
      logger.warn('a file was gone before it could be stored; a newer one replaced it', { runId, key });
      return false;
    }
  }

  /** Keeps the run's keep_last newest checkpoints: older rows are deleted, then their files. */
  async #prune(): Promise<void> {
    const { db, store, logger, runId, token, keepLast } = this.#options;
    for (const old of await db.checkpoints.pruneCheckpoints(runId, token, keepLast)) {
      await store
        .delete(old.path)
        .catch((error: unknown) =>
          logger.warn('cannot delete an old checkpoint', { runId, key: old.path, error }),
        );
    }
  }

  #tick(): void {
    this.#writePoints();
    this.#writeProgress();
  }

  #writePoints(): void {
    if (this.#points.length === 0) return;
    const batch = this.#points;
    this.#points = [];
    this.#enqueue('metrics', async () => {
      await this.#options.db.metrics.appendMetrics(this.#options.runId, this.#options.token, batch);
      this.counts.points += batch.length;
      return batch.length;
    });
  }

  #writeProgress(): void {
    const progress = this.#progress;
    if (progress === undefined) return;
    this.#progress = undefined;
    this.#enqueue('progress', async () => {
      const run = await this.#options.db.runs.updateProgress(
        this.#options.runId,
        this.#options.token,
        progress,
      );
      this.#options.onProgress?.(progress);
      if (run.cancelRequested) this.#options.onCancelRequested();
      return 1;
    });
  }

  /** The mean time of the steps since the previous progress event (they arrive at most a few per second). */
  #timeSteps(step: number): void {
    const now = performance.now();
    const last = this.#lastProgress;
    this.#lastProgress = { step, at: now };
    if (last !== undefined && step > last.step) {
      this.#options.metrics?.stepTime((now - last.at) / 1000 / (step - last.step), step - last.step);
    }
  }

  /**
   * Chains a write after the previous ones, retrying transient failures; the first lasting failure stops all.
   * `write` returns how many records of event `type` it stored.
   */
  #enqueue(type: string, write: () => Promise<number>): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#failure !== undefined) return;
      for (let attempt = 0; ; attempt += 1) {
        try {
          const stored = await write();
          this.#options.metrics?.persisted(type, stored);
          return;
        } catch (error) {
          const delay = RETRY_DELAYS_MS[attempt];
          if (permanent(error) || delay === undefined) {
            this.#fail(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          this.#options.logger.warn('database write failed, retrying', {
            runId: this.#options.runId,
            attempt: this.#options.attempt,
            retryInMs: delay,
            error,
          });
          await new Promise((resume) => setTimeout(resume, delay));
        }
      }
    });
  }

  #fail(error: Error): void {
    this.#failure = error;
    this.#points = [];
    this.#progress = undefined;
    this.#options.onFailure(error);
  }
}
