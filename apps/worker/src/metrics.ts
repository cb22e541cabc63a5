// The worker's Prometheus metrics (served on /metrics by http-server.ts): what it runs and holds, read at scrape
// time, and what it did, counted as it happens: step times from the trainer's progress events, events
// persisted, jobs finished and failures by kind. Names and labels are listed in README.md ("Metrics").
import type { ErrorKind } from '@swavlab/db';
import { Counter, Histogram, renderGauge, renderProcessMetrics } from '@swavlab/telemetry';

export const QUEUE_KINDS = ['pretrain', 'evaluate'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** What the worker holds at scrape time. */
export interface WorkerLoad {
  running: Record<QueueKind, number>;
  /** Jobs fetched from the queue that wait for device slots (active in BullMQ, not started). */
  waitingForSlots: number;
  slotsTotal: number;
  slotsBusy: number;
}

/** What a job reports while it runs (RunJob → EventSink). */
export interface JobMetrics {
  /** `steps` training steps took `seconds` each on average. */
  stepTime(seconds: number, steps: number): void;
  /** `count` records of a trainer event type were written to the database. */
  persisted(type: string, count: number): void;
}

/** How a delivery ended, as far as the metrics tell it. */
export interface JobEnd {
  kind: string;
  errorKind?: ErrorKind;
}

// Seconds per step: from tiny CPU models (~10 ms) to big GPU batches (seconds).
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class WorkerMetrics implements JobMetrics {
  readonly #stepSeconds = new Histogram(
    'swavlab_worker_step_seconds',
    "Training step time in seconds, measured between the trainer's progress events (one observation per step).",
    STEP_BUCKETS,
  );
  readonly #persisted = new Counter(
    'swavlab_worker_events_persisted_total',
    'Trainer events written to the database, by type (metrics counts metric points).',
  );
  readonly #finished = new Counter(
    'swavlab_worker_jobs_finished_total',
    'Deliveries this worker ended, by queue and outcome (finished, failed, requeued, retry, skipped, rejected, superseded).',
  );
  readonly #failures = new Counter(
    'swavlab_worker_failures_total',
    'Failed deliveries by queue and error kind (spec, diverged, crashed, infrastructure; a retried infrastructure failure counts too).',
  );

  stepTime(seconds: number, steps: number): void {
    if (Number.isFinite(seconds) && seconds >= 0 && steps > 0) this.#stepSeconds.observe({}, seconds, steps);
  }

  persisted(type: string, count: number): void {
    if (count > 0) this.#persisted.inc({ type }, count);
  }

  jobEnded(queue: QueueKind, end: JobEnd): void {
    this.#finished.inc({ queue, outcome: end.kind });
    if (end.kind === 'failed') this.#failures.inc({ queue, kind: end.errorKind ?? 'infrastructure' });
    if (end.kind === 'retry') this.#failures.inc({ queue, kind: 'infrastructure' });
  }

  render(load: WorkerLoad): string {
    return [
      renderGauge(
        'swavlab_worker_jobs_running',
        'Jobs running on this worker (device slots granted), by queue.',
        QUEUE_KINDS.map((queue) => ({ labels: { queue }, value: load.running[queue] })),
      ),
      renderGauge(
        'swavlab_worker_jobs_waiting_for_slots',
        'Jobs this worker took from the queue that wait for device slots.',
        [{ labels: {}, value: load.waitingForSlots }],
      ),
      renderGauge('swavlab_worker_slots', 'Device slots of this worker (SWAVLAB_SLOTS).', [
        { labels: {}, value: load.slotsTotal },
      ]),
      renderGauge('swavlab_worker_slots_busy', 'Device slots held by running jobs (one per rank).', [
        { labels: {}, value: load.slotsBusy },
      ]),
      this.#stepSeconds.render(),
      this.#persisted.render(),
      this.#finished.render(),
      this.#failures.render(),
      renderProcessMetrics(),
    ].join('');
  }
}
