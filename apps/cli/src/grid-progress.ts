// Waits for a set of runs (a grid's cells) to end, printing a line as each one finishes and, on a terminal, an
// aggregate progress bar redrawn in place.
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration, formatMetricValue, formatValue } from './format.js';
import type { ApiClient } from './http-client.js';
import { progressBar } from './progress-view.js';
import { StatusLine } from './status-line.js';
import { isTerminal, type Run, type RunPage } from './wire.js';

export interface WaitOptions {
  /** The metric shown for each finished run. */
  metric: string;
  pollMs?: number;
  /** Stops waiting early (e.g. on SIGINT); the runs seen so far are returned. */
  signal?: AbortSignal;
}

/** `prototypes=30 sinkhorn_iterations=1 seed=1` (last segment of each axis path). */
export function cellLabel(run: Run): string {
  const axes = Object.entries(run.axis_values ?? {}).map(
    ([path, value]) => `${path.split('.').at(-1)}=${formatValue(value)}`,
  );
  return [...axes, `seed=${run.seed}`].join(' ');
}

function finishedLine(run: Run, done: number, total: number, metric: string): string {
  const value = run.final_metrics?.[metric];
  const result =
    run.status === 'succeeded'
      ? typeof value === 'number'
        ? `${metric} ${formatMetricValue(metric, value)}`
        : `no ${metric}`
      : run.error
        ? `${run.error.kind}: ${run.error.message.split('\n')[0]}`
        : '';
  const counter = `[${String(done).padStart(String(total).length)}/${total}]`;
  return `  ${counter} ${run.status.padEnd(9)} ${cellLabel(run).padEnd(44)} ${result}  (${formatDuration(run.timings.duration_seconds)})`;
}

function aggregate(runs: readonly Run[], total: number, elapsedSeconds: number): string {
  const count = (status: Run['status']) => runs.filter((run) => run.status === status).length;
  const done = runs.filter((run) => isTerminal(run.status)).length;
  const running = runs.filter((run) => run.status === 'running' || run.status === 'stopping');
  const partial = running.reduce((sum, run) => sum + (run.progress.fraction ?? 0), 0);
  return [
    progressBar((done + partial) / total),
    `${done}/${total} done`,
    `${running.length} running`,
    `${count('queued')} queued`,
    `elapsed ${formatDuration(elapsedSeconds)}`,
  ].join('  ');
}

/** Polls the runs until every one is succeeded, failed or canceled (or `signal` aborts); returns them. */
export async function waitForRuns(
  client: ApiClient,
  runIds: readonly string[],
  options: WaitOptions,
): Promise<Run[]> {
  const line = new StatusLine();
  const started = Date.now();
  const reported = new Set<string>();
  // The search grammar takes at most 100 values per IN list.
  const queries: string[] = [];
  for (let i = 0; i < runIds.length; i += 100) {
    queries.push(
      `id IN (${runIds
        .slice(i, i + 100)
        .map((id) => `'${id}'`)
        .join(', ')})`,
    );
  }
  let runs: Run[] = [];
  while (!options.signal?.aborted) {
    runs = [];
    for (const q of queries)
      runs.push(...(await client.get<RunPage>('/v1/runs', 'list the runs', { q, page_size: 100 })).runs);
    for (const run of [...runs].sort((a, b) =>
      (a.timings.finished_at ?? '').localeCompare(b.timings.finished_at ?? ''),
    )) {
      if (isTerminal(run.status) && !reported.has(run.id)) {
        reported.add(run.id);
        line.log(finishedLine(run, reported.size, runIds.length, options.metric));
      }
    }
    if (reported.size >= runIds.length) break;
    if (line.isTty) line.update(aggregate(runs, runIds.length, (Date.now() - started) / 1000));
    await sleep(options.pollMs ?? 1_000, undefined, { signal: options.signal }).catch(() => undefined);
  }
  line.finish();
  return runs;
}
