// Device slots: what a worker owns. A slot holds one rank of a run: a GPU (through CUDA_VISIBLE_DEVICES) or,
// on a host without GPUs, a share of the CPU. The DeviceScheduler hands them out to runs.
import { execFile } from 'node:child_process';

/** One device slot of the worker. */
export interface Slot {
  index: number;
  /** `cuda:<physical GPU id>` or `cpu`. */
  device: string;
  /** The physical GPU id of a GPU slot. */
  gpu?: string;
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
    return gpu === undefined ? { index, device: 'cpu' } : { index, device: `cuda:${gpu}`, gpu };
  });
}
