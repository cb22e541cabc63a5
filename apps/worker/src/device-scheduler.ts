// Which of the worker's device slots a run gets, and when. BullMQ has no notion of resources: it hands this
// worker up to one job per slot, and each job then asks the scheduler for as many slots as its run has ranks.
// Jobs are served in arrival order, but a job that does not fit yet lets later jobs that fit run first
// (no head-of-line blocking) until it has waited `reserveAfterMs`; from then on it holds a reservation: no
// later job starts before it, so the slots that running jobs free up go to it (no starvation). A job therefore
// starts at the latest `reserveAfterMs` plus the remaining time of the jobs running when its reservation began.
import type { DeviceDemand } from '@swavlab/spec';
import type { Slot } from './slots.js';

/** Slots given to one run, and how its process tree sees them. */
export interface Reservation {
  readonly slots: readonly Slot[];
  /** Recorded on the run: `cpu`, `cpu×4`, `cuda:3` or `cuda:0,1`. */
  readonly device: string;
  /** Environment of the run's process tree: CUDA_VISIBLE_DEVICES lists its GPUs ('' for a CPU run). */
  readonly env: Record<string, string>;
}

export interface DeviceSchedulerOptions {
  /** How long a job that does not fit may be overtaken by later jobs that do (SWAVLAB_RESERVE_AFTER_MS). */
  reserveAfterMs: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** A job waits for this many of these slots and never fits the worker: ask another worker, or fail it. */
export class NeverFits extends Error {
  override readonly name = 'NeverFits';
}

/** The wait was given up (cancel, shutdown). */
export class WaitAborted extends Error {
  override readonly name = 'WaitAborted';
}

interface Waiter {
  demand: DeviceDemand;
  since: number;
  grant: (reservation: Reservation) => void;
  refuse: (error: Error) => void;
}

function describeDevices(demand: DeviceDemand, slots: readonly Slot[]): string {
  if (demand.kind === 'cpu' || slots.every((slot) => slot.gpu === undefined)) {
    return slots.length === 1 ? 'cpu' : `cpu×${slots.length}`;
  }
  return `cuda:${slots.map((slot) => slot.gpu).join(',')}`;
}

export class DeviceScheduler {
  readonly #slots: readonly Slot[];
  readonly #free: Set<Slot>;
  readonly #waiters: Waiter[] = [];
  readonly #reserveAfterMs: number;
  readonly #now: () => number;

  constructor(slots: readonly Slot[], options: DeviceSchedulerOptions) {
    this.#slots = slots;
    this.#free = new Set(slots);
    this.#reserveAfterMs = options.reserveAfterMs;
    this.#now = options.now ?? Date.now;
  }

  /** The most ranks of `kind` this worker can ever give one run: distinct GPUs for `gpu`, else every slot. */
  capacity(kind: DeviceDemand['kind']): number {
    if (kind !== 'gpu') return this.#slots.length;
    return new Set(this.#slots.flatMap((slot) => (slot.gpu === undefined ? [] : [slot.gpu]))).size;
  }

  /** Ranks running now. */
  get busy(): number {
    return this.#slots.length - this.#free.size;
  }

  /** Jobs waiting for slots. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Slots for `demand`, as soon as the rules above allow. Rejects with NeverFits when this worker could never
   * hold it, and with WaitAborted when `signal` aborts first.
   */
  acquire(demand: DeviceDemand, signal?: AbortSignal): Promise<Reservation> {
    const capacity = this.capacity(demand.kind);
    if (demand.ranks > capacity) {
      const what = demand.kind === 'gpu' ? 'GPUs' : 'device slots';
      return Promise.reject(
        new NeverFits(`the run needs ${demand.ranks} ${what}; this worker has ${capacity}`),
      );
    }
    if (signal?.aborted) return Promise.reject(new WaitAborted('the wait for device slots was aborted'));
    return new Promise<Reservation>((grant, refuse) => {
      const waiter: Waiter = { demand, since: this.#now(), grant, refuse };
      this.#waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#waiters.indexOf(waiter);
          if (index < 0) return;
          this.#waiters.splice(index, 1);
          refuse(new WaitAborted('the wait for device slots was aborted'));
          this.#dispatch();
        },
        { once: true },
      );
      this.#dispatch();
    });
  }

  /** Give a run's slots back (once it has ended). */
  release(reservation: Reservation): void {
    for (const slot of reservation.slots) this.#free.add(slot);
    this.#dispatch();
  }

  #dispatch(): void {
    const now = this.#now();
    for (let i = 0; i < this.#waiters.length; ) {
      const waiter = this.#waiters[i] as Waiter;
      const slots = this.#pick(waiter.demand);
      if (slots !== undefined) {
        this.#waiters.splice(i, 1);
        for (const slot of slots) this.#free.delete(slot);
        waiter.grant(this.#reservation(waiter.demand, slots));
        continue;
      }
      if (now - waiter.since >= this.#reserveAfterMs) return; // reserved: nobody behind it may start
      i += 1;
    }
  }

  /** Free slots for `demand` (distinct GPUs for a GPU run, lowest indices first), or undefined. */
  #pick(demand: DeviceDemand): Slot[] | undefined {
    const free = [...this.#free].sort((a, b) => a.index - b.index);
    if (demand.kind !== 'gpu') return free.length >= demand.ranks ? free.slice(0, demand.ranks) : undefined;
    const byGpu = new Map<string, Slot>();
    for (const slot of free) if (slot.gpu !== undefined && !byGpu.has(slot.gpu)) byGpu.set(slot.gpu, slot);
    const picked = [...byGpu.values()].slice(0, demand.ranks);
    return picked.length === demand.ranks ? picked : undefined;
  }

  #reservation(demand: DeviceDemand, slots: Slot[]): Reservation {
    const gpus =
      demand.kind === 'cpu' ? [] : slots.flatMap((slot) => (slot.gpu === undefined ? [] : [slot.gpu]));
    return {
      slots,
      device: describeDevices(demand, slots),
      env: { CUDA_VISIBLE_DEVICES: gpus.join(',') },
    };
  }
}
