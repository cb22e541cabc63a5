// Submit-time refusal of runs no worker could ever hold (more ranks than any live worker has slots or GPUs), so
// that a researcher learns it at once instead of from a run that fails when a worker picks it up. Only what the
// live workers announce counts: with none announced (workers not started yet, or Redis unable to say) nothing is
// refused here, and the worker that claims the run decides.
import {
  describeWorkers,
  largestCapacity,
  liveWorkers,
  type WorkerCapacity,
  workersKey,
} from '@swavlab/queue';
import { deviceDemand, type ExperimentSpec, type Issue } from '@swavlab/spec';
import type { AppContext } from './context.js';
import { ProblemError } from './problem.js';

async function announcedWorkers(ctx: AppContext): Promise<WorkerCapacity[]> {
  if (ctx.redis.status !== 'ready') return [];
  try {
    return await liveWorkers(ctx.redis, workersKey(ctx.config.queuePrefix));
  } catch {
    return [];
  }
}

/** Throws 422 `unschedulable` naming the field of each spec (by `prefix`) that asks for more than any worker has. */
export async function requireCapacity(
  ctx: AppContext,
  specs: readonly { spec: Pick<ExperimentSpec, 'runtime'>; prefix: string }[],
): Promise<void> {
  const workers = await announcedWorkers(ctx);
  if (workers.length === 0) return;
  const issues: Issue[] = [];
  const reported = new Set<string>();
  for (const { spec, prefix } of specs) {
    const demand = deviceDemand(spec.runtime);
    const most = largestCapacity(workers, demand.kind);
    const key = `${demand.kind}:${demand.ranks}`;
    if (demand.ranks <= most || reported.has(key)) continue;
    reported.add(key);
    const field = demand.kind === 'gpu' && spec.runtime.gpus > 1 ? 'runtime.gpus' : 'runtime.processes';
    const what = demand.kind === 'gpu' ? 'GPUs' : 'device slots';
    issues.push({
      path: `${prefix}${field}`,
      message: `asks for ${demand.ranks} ranks but the most ${what} a live worker has is ${most} (${describeWorkers(workers)})`,
    });
  }
  if (issues.length > 0) {
    throw new ProblemError(
      422,
      'unschedulable',
      'no live worker can hold the run: start a worker with more slots (SWAVLAB_SLOTS) or GPUs, or ask for fewer ranks',
      issues,
    );
  }
}
