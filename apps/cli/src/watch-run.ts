// `swavlab watch` and `submit --watch`: a live progress line until the run ends, then a one-line outcome; the
// exit code is the run's outcome (0 succeeded, 1 failed or canceled).
import { EXIT, type ExitCode } from './errors.js';
import { formatDuration, formatMetricValue } from './format.js';
import type { ApiClient } from './http-client.js';
import { progressLine } from './progress-view.js';
import { followRun } from './run-follower.js';
import { StatusLine } from './status-line.js';
import type { RunDetail } from './wire.js';

const RANDOM_INIT = 'random_init_';

/**
 * `knn_top1@20 41.3% (random init 30.2%), linear_fast_top1 50.0%` from a finished run's evaluations (latest value
 * per name); the random-init baseline goes beside the k-NN result it belongs to.
 */
export function evaluationSummary(run: RunDetail): string {
  const latest = new Map<string, number | null>();
  for (const evaluation of run.evaluations) latest.set(evaluation.name, evaluation.value);
  return [...latest]
    .filter(([name]) => !name.startsWith(RANDOM_INIT))
    .map(([name, value]) => {
      const text = `${name} ${formatMetricValue(name, value)}`;
      const baseline = `${RANDOM_INIT}${name}`;
      return latest.has(baseline)
        ? `${text} (random init ${formatMetricValue(baseline, latest.get(baseline))})`
        : text;
    })
    .join(', ');
}

export function outcomeLine(run: RunDetail): string {
  const took = formatDuration(run.timings.duration_seconds);
  if (run.status === 'succeeded') {
    const evals = evaluationSummary(run);
    return `run ${run.id} succeeded in ${took}${evals === '' ? '' : `: ${evals}`}`;
  }
  if (run.status === 'failed') {
    const error = run.error;
    return `run ${run.id} failed${error ? ` (${error.kind}): ${error.message}` : ''}`;
  }
  return `run ${run.id} ${run.status} after ${took}`;
}

export function outcomeCode(run: RunDetail): ExitCode {
  return run.status === 'succeeded' ? EXIT.ok : EXIT.failure;
}

/** Follows run `id` with a progress line (or JSON lines with `json`) and returns its outcome's exit code. */
export async function watchRun(client: ApiClient, id: string, json: boolean): Promise<ExitCode> {
  const line = new StatusLine();
  const interrupt = () => {
    line.finish();
    process.stderr.write(`stopped watching; run ${id} goes on (\`swavlab cancel ${id}\` cancels it)\n`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', interrupt);
  try {
    const final = await followRun(client, id, {
      onUpdate: (state) => {
        if (json) {
          process.stdout.write(
            `${JSON.stringify({ status: state.run.status, progress: state.run.progress, metrics: state.metrics })}\n`,
          );
        } else {
          line.update(progressLine(state));
        }
      },
    });
    line.finish();
    if (json) process.stdout.write(`${JSON.stringify(final)}\n`);
    else process.stdout.write(`${outcomeLine(final)}\n`);
    return outcomeCode(final);
  } finally {
    process.off('SIGINT', interrupt);
  }
}
