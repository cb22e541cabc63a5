// Cancel requests for the runs this worker holds, from any host: Redis pub/sub (immediate) and, because pub/sub
// is fire-and-forget (a worker that is reconnecting misses messages), a poll of the runs' cancel flag.
import type { Database } from '@swavlab/db';
import { subscribeCancels } from '@swavlab/queue';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export interface CancelListenerOptions {
  db: Database;
  /** A connection of its own: it enters subscriber mode. */
  subscriber: Redis;
  /** How often the database flag of every watched run is read. */
  pollMs: number;
  logger: Logger;
  channel?: string;
}

export class CancelListener {
  readonly #options: CancelListenerOptions;
  readonly #watched = new Map<string, () => void>();
  #unsubscribe: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(options: CancelListenerOptions) {
    this.#options = options;
  }

  /** Subscribes to the cancel channel and starts polling. */
  async start(): Promise<void> {
    const { subscriber, logger, channel } = this.#options;
    this.#unsubscribe = await subscribeCancels(subscriber, (runId) => this.#fire(runId, 'pub/sub'), {
      ...(channel === undefined ? {} : { channel }),
      onInvalid: (text) => logger.warn('malformed cancel message ignored', { text: text.slice(0, 200) }),
    });
    this.#timer = setInterval(() => void this.#poll(), this.#options.pollMs);
    this.#timer.unref();
  }

  /** Calls `onCancel` (once) when `runId` is asked to cancel; returns the function that stops watching. */
  watch(runId: string, onCancel: () => void): () => void {
    this.#watched.set(runId, onCancel);
    return () => {
      if (this.#watched.get(runId) === onCancel) this.#watched.delete(runId);
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#watched.clear();
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.();
  }

  #fire(runId: string, via: string): void {
    const onCancel = this.#watched.get(runId);
    if (onCancel === undefined) return;
    this.#watched.delete(runId);
    this.#options.logger.info('cancel requested', { runId, via });
    onCancel();
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#watched.size === 0) return;
    this.#polling = true;
    try {
      for (const runId of [...this.#watched.keys()]) {
        const run = await this.#options.db.runs.getRun(runId);
        if (run?.cancelRequested) this.#fire(runId, 'database');
      }
    } catch (error) {
      this.#options.logger.warn('cannot read cancel flags', { error });
    } finally {
      this.#polling = false;
    }
  }
}
