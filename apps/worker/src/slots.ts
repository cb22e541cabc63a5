// Device slots: one concurrent job per slot, each pinned to its GPU through CUDA_VISIBLE_DEVICES (BullMQ has
// no notion of resources, so the worker's concurrency is the number of slots and each job takes one).
import { execFile } from 'node:child_process';

/** Where one job runs. */
export interface Slot {
  index: number;
  /** Recorded on the run: `cuda:<physical GPU id>` or `cpu`. */
  device: string;
  /** Environment of the job's process tree (CUDA_VISIBLE_DEVICES). */
  env: Record<string, string>;
}

const NVIDIA_SMI_TIMEOUT_MS = 10_000;

/**
 * GPU ids this worker may use: the entries of CUDA_VISIBLE_DEVICES when it is set (empty = none), else one per
 * line of `nvidia-smi -L`; none when nvidia-smi is missing or fails.
 */
export async function detectGpus(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined) {
    return visible
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '' && id !== '-1');
  }
  const listing = await new Promise<string>((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: NVIDIA_SMI_TIMEOUT_MS }, (error, stdout) =>
      resolve(error ? '' : stdout),
    );
  });
  return [...listing.matchAll(/^GPU (\d+):/gm)].map((match) => match[1] ?? '').filter((id) => id !== '');
}

/**
 * `count` slots (default: one per GPU, else 1). With GPUs, slot i is pinned to GPU i modulo their number (more
 * slots than GPUs share them); without, slots run on the CPU with no GPU visible.
 */
export function planSlots(gpus: readonly string[], count?: number): Slot[] {
  const total = count ?? Math.max(1, gpus.length);
  if (!Number.isInteger(total) || total < 1) {
    throw new RangeError(`SWAVLAB_SLOTS: expected an integer >= 1, got ${count}`);
  }
  return Array.from({ length: total }, (_, index) => {
    const gpu = gpus.length === 0 ? undefined : gpus[index % gpus.length];
    return gpu === undefined
      ? { index, device: 'cpu', env: { CUDA_VISIBLE_DEVICES: '' } }
      : { index, device: `cuda:${gpu}`, env: { CUDA_VISIBLE_DEVICES: gpu } };
  });
}

/** Hands out free slots; the worker's concurrency equals the pool size, so one is free for every job. */
export class SlotPool {
  readonly #free: Slot[];

  constructor(readonly slots: readonly Slot[]) {
    this.#free = [...slots];
  }

  acquire(): Slot {
    const slot = this.#free.shift();
    if (slot === undefined) throw new Error(`all ${this.slots.length} device slots are busy`);
    return slot;
  }

  release(slot: Slot): void {
    if (!this.#free.includes(slot)) this.#free.push(slot);
    this.#free.sort((a, b) => a.index - b.index);
  }
}
