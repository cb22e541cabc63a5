import { fileURLToPath } from 'node:url';
import { type BridgeEvent, type JobOptions, type RunningJob, startJob } from '@swavlab/bridge';
import { listLiveProcesses, type ProcStat } from '../src/processes.js';

/** Debian's interpreter, the one with torch on this machine (docs/contributing.md). */
export const PYTHON = '/usr/bin/python3';
export const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface WatchedJob {
  job: RunningJob;
  events: BridgeEvent[];
  /** Resolves with the first event of that type. */
  eventOfType(type: string): Promise<BridgeEvent>;
}

/** Start fixtures/fixture_bridge.py's `run` on a scenario, recording events. */
export function startFixture(spec: Record<string, unknown>, options: Partial<JobOptions> = {}): WatchedJob {
  const events: BridgeEvent[] = [];
  const waiters: { type: string; resolve: (event: BridgeEvent) => void }[] = [];
  const job = startJob({
    specJson: JSON.stringify(spec),
    pythonBin: PYTHON,
    module: 'fixture_bridge',
    pythonPath: [FIXTURES_DIR],
    killGraceMs: 1_000,
    ...options,
    onEvent: (event) => {
      events.push(event);
      for (const waiter of waiters.filter((w) => w.type === event.type)) waiter.resolve(event);
      options.onEvent?.(event);
    },
  });
  const eventOfType = (type: string): Promise<BridgeEvent> => {
    const seen = events.find((event) => event.type === type);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ type, resolve }));
  };
  return { job, events, eventOfType };
}

/** Live (non-zombie) processes whose process group is one of `pgids`, or whose parent is `parent`. */
export function liveProcesses({ pgids = [], parent }: { pgids?: number[]; parent?: number }): ProcStat[] {
  return listLiveProcesses().filter((stat) => pgids.includes(stat.pgid) || stat.ppid === parent);
}

/** Milliseconds taken by `promise` to settle, and how it settled. */
export async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}
