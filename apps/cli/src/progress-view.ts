// One line describing a run's progress: a bar, epoch, step/total, loss, images/s and ETA.
import { formatDuration, formatNumber } from './format.js';
import type { RunState } from './run-follower.js';

const BAR_WIDTH = 24;

/** `[#########...............]` for a fraction in [0, 1]. */
export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function totalEpochs(state: RunState): number | undefined {
  const optim = state.run.spec.optim as { epochs?: unknown } | undefined;
  return typeof optim?.epochs === 'number' ? optim.epochs : undefined;
}

interface Where {
  epoch: number | null;
  step: number | null;
  totalSteps: number | null;
  fraction: number | null;
  etaSeconds: number | null;
}

/**
 * The freshest position: the run's progress, unless its metric points are further along (progress reaches the
 * server throttled); then the ETA comes from the step rate the points show.
 */
export function currentPosition(state: RunState): Where {
  const { progress } = state.run;
  const reported: Where = {
    epoch: progress.epoch,
    step: progress.step,
    totalSteps: progress.total_steps,
    fraction: progress.fraction,
    etaSeconds: progress.eta_seconds,
  };
  const { latest, origin } = state;
  if (latest === undefined || (progress.step !== null && progress.step >= latest.step)) return reported;
  const total = progress.total_steps;
  const rate =
    origin !== undefined && latest.step > origin.step && latest.time > origin.time
      ? (latest.step - origin.step) / ((latest.time - origin.time) / 1000)
      : null;
  return {
    epoch: Math.max(progress.epoch ?? 0, latest.epoch ?? 0) || null,
    step: latest.step,
    totalSteps: total,
    fraction: total !== null && total > 0 ? Math.min(1, latest.step / total) : progress.fraction,
    etaSeconds: total !== null && rate !== null ? Math.max(0, total - latest.step) / rate : null,
  };
}

export function progressLine(state: RunState): string {
  const { run, metrics } = state;
  if (run.status === 'queued') {
    return `queued    waiting for a worker${run.attempt > 0 ? ` (attempt ${run.attempt + 1})` : ''}`;
  }
  const where = currentPosition(state);
  const parts = [run.status.padEnd(9)];
  const fraction = where.fraction ?? (run.status === 'succeeded' ? 1 : 0);
  parts.push(progressBar(fraction), `${String(Math.floor(fraction * 100)).padStart(3)}%`);
  if (where.epoch !== null) {
    const epochs = totalEpochs(state);
    parts.push(`epoch ${where.epoch}${epochs === undefined ? '' : `/${epochs}`}`);
  }
  if (where.step !== null)
    parts.push(`step ${where.step}${where.totalSteps === null ? '' : `/${where.totalSteps}`}`);
  if (metrics.loss !== undefined) parts.push(`loss ${formatNumber(metrics.loss)}`);
  if (metrics.images_per_sec !== undefined && metrics.images_per_sec !== null) {
    parts.push(`${Math.round(metrics.images_per_sec)} img/s`);
  }
  if (run.status === 'running' && where.etaSeconds !== null)
    parts.push(`ETA ${formatDuration(where.etaSeconds)}`);
  return parts.join('  ');
}
