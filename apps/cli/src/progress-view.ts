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

export function progressLine(state: RunState): string {
  const { run, metrics } = state;
  const { progress } = run;
  if (run.status === 'queued') {
    return `queued    waiting for a worker${run.attempt > 0 ? ` (attempt ${run.attempt + 1})` : ''}`;
  }
  const parts = [run.status.padEnd(9)];
  const fraction = progress.fraction ?? (run.status === 'succeeded' ? 1 : 0);
  parts.push(progressBar(fraction), `${String(Math.floor(fraction * 100)).padStart(3)}%`);
  if (progress.epoch !== null) {
    const epochs = totalEpochs(state);
    parts.push(`epoch ${progress.epoch}${epochs === undefined ? '' : `/${epochs}`}`);
  }
  if (progress.step !== null) {
    parts.push(`step ${progress.step}${progress.total_steps === null ? '' : `/${progress.total_steps}`}`);
  }
  if (metrics.loss !== undefined) parts.push(`loss ${formatNumber(metrics.loss)}`);
  if (metrics.images_per_sec !== undefined && metrics.images_per_sec !== null) {
    parts.push(`${Math.round(metrics.images_per_sec)} img/s`);
  }
  if (run.status === 'running' && progress.eta_seconds !== null)
    parts.push(`ETA ${formatDuration(progress.eta_seconds)}`);
  return parts.join('  ');
}
