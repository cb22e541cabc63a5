import type { WorkerOptions } from 'bullmq';

/**
 * Lock and stall settings for workers of multi-hour runs (docs/queue.md). The worker adds `connection`,
 * `prefix` and `concurrency` (one per device slot).
 */
export const defaultWorkerOptions = {
  /**
   * 3 min. How long a job's lock lives without renewal. Minutes, not hours: when a worker dies, its
   * job is taken over after about this long instead of sitting in `active` for the length of a run.
   */
  lockDuration: 180_000,
  /** 1 min. Renewal period, well below lockDuration so that two missed renewals still keep the lock. */
  lockRenewTime: 60_000,
  /**
   * A job whose lock expired (stalled) goes back to waiting once and resumes from its checkpoint; a
   * second stall fails it, so a run that kills its worker cannot take down every host in turn.
   */
  maxStalledCount: 1,
  /** 1 min. How often each worker looks for stalled jobs. */
  stalledInterval: 60_000,
} as const satisfies Partial<WorkerOptions>;
