// How many torch.distributed ranks a run has and which kind of device they need: the single place that reads
// runtime.device, runtime.gpus and runtime.processes together (spec rules, the worker's scheduler, the API).

/** The fields of `runtime` that decide a run's ranks. */
export interface RuntimeDevices {
  device: 'auto' | 'cpu' | 'cuda';
  gpus: number;
  processes: number;
}

/** What a run needs of a worker. */
export interface DeviceDemand {
  /** torch.distributed ranks, one device slot each (1 for a single-process run). */
  ranks: number;
  /** `gpu`: only GPU slots will do; `cpu`: runs on the CPU whatever the slot; `any`: CUDA when the slot has a GPU. */
  kind: 'gpu' | 'cpu' | 'any';
}

/** The run's ranks: runtime.gpus on GPUs, runtime.processes on the CPU (at most one of them is above 1). */
export function rankCount(runtime: Pick<RuntimeDevices, 'gpus' | 'processes'>): number {
  return Math.max(runtime.gpus, runtime.processes);
}

/** See DeviceDemand. Several GPUs, or device cuda, need GPUs; several CPU processes, or device cpu, the CPU. */
export function deviceDemand(runtime: RuntimeDevices): DeviceDemand {
  const ranks = rankCount(runtime);
  if (runtime.device === 'cuda' || runtime.gpus > 1) return { ranks, kind: 'gpu' };
  if (runtime.device === 'cpu' || runtime.processes > 1) return { ranks, kind: 'cpu' };
  return { ranks, kind: 'any' };
}
