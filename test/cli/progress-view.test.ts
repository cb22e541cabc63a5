// The progress line of `swavlab watch`: the run's progress reaches the server throttled, so the position and
// ETA come from the streamed metric points when those are further along.
import { describe, expect, it } from 'vitest';
import { currentPosition, progressBar, progressLine } from '../../apps/cli/src/progress-view.js';
import { observePoint, type RunState } from '../../apps/cli/src/run-follower.js';
import type { Run } from '../../apps/cli/src/wire.js';

const STARTED = Date.parse('2026-01-01T00:00:00.000Z');

function state(progress: Partial<Run['progress']>): RunState {
  const started = new Date(STARTED).toISOString();
  const run: Run = {
    id: 'r1',
    name: null,
    status: 'running',
    spec: { optim: { epochs: 10 } },
    spec_hash: 'h',
    seed: 1,
    tags: [],
    priority: 100,
    grid_id: null,
    cell_index: null,
    axis_values: null,
    attempt: 1,
    cancel_requested: false,
    progress: { epoch: 1, step: 10, total_steps: 100, eta_seconds: 90, fraction: 0.1, ...progress },
    timings: {
      created_at: started,
      queued_at: started,
      started_at: started,
      finished_at: null,
      updated_at: started,
      duration_seconds: null,
    },
    error: null,
    device: 'cpu',
    worker_host: 'test',
    final_metrics: null,
    dataset: null,
  };
  return { run, metrics: { loss: 5.25, images_per_sec: 240.4 } };
}

const at = (seconds: number) => new Date(STARTED + seconds * 1000).toISOString();

describe('currentPosition', () => {
  it("uses the run's progress while no metric point is further along", () => {
    const s = state({});
    observePoint(s, { step: 10, epoch: 1, time: at(10) });
    expect(currentPosition(s)).toEqual({
      epoch: 1,
      step: 10,
      totalSteps: 100,
      fraction: 0.1,
      etaSeconds: 90,
    });
  });

  it('takes the newest point and the step rate the points show when the progress lags', () => {
    const s = state({});
    // 2 steps per second between the first and the newest point: 50 steps to go take 25 s.
    for (const [step, seconds] of [
      [20, 10],
      [50, 25],
      [30, 15],
    ] as const) {
      observePoint(s, { step, epoch: Math.ceil(step / 10), time: at(seconds) });
    }
    expect(currentPosition(s)).toEqual({
      epoch: 5,
      step: 50,
      totalSteps: 100,
      fraction: 0.5,
      etaSeconds: 25,
    });
    expect(progressLine(s)).toBe(
      `running    ${progressBar(0.5)}   50%  epoch 5/10  step 50/100  loss 5.25  240 img/s  ETA 25s`,
    );
  });

  it('ignores points recorded before the current attempt started', () => {
    const s = state({});
    observePoint(s, { step: 80, epoch: 8, time: new Date(STARTED - 60_000).toISOString() });
    expect(s.latest).toBeUndefined();
    expect(currentPosition(s).step).toBe(10);
  });

  it('says a queued run waits for a worker', () => {
    const s = state({});
    s.run = { ...s.run, status: 'queued', attempt: 0 };
    expect(progressLine(s)).toBe('queued    waiting for a worker');
  });
});
