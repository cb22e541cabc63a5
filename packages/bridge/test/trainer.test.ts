import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BridgeEvent, findPython, PythonError, startJob } from '@swavlab/bridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from './helpers.js';

// The real entry point, packages/trainer's swavlab.bridge, on a spec small enough for seconds of CPU.
const TINY_SPEC = {
  model: { arch: 'tiny', small_stem: true, hidden_mlp: 64, feat_dim: 16 },
  data: { num_images: 64, image_size: 16 },
  swav: { prototypes: 10, crops: '2x16', queue_length: 0 },
  optim: { batch_size: 16, epochs: 1, warmup_epochs: 0 },
  runtime: { workers: 0 },
  eval: { knn: null, linear: null },
};

const outRoot = mkdtempSync(join(tmpdir(), 'swavlab-bridge-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

function runTrainer(spec: object, outDir: string, onEvent?: (event: BridgeEvent) => void) {
  const events: BridgeEvent[] = [];
  const job = startJob({
    specJson: JSON.stringify(spec),
    pythonBin: PYTHON,
    runOptions: { outDir },
    onEvent: (event) => {
      events.push(event);
      onEvent?.(event);
    },
  });
  return { job, events };
}

// Not skipped without torch: a machine that cannot run the trainer must fail here, not pass by skipping it.
describe('swavlab.bridge through the bridge', () => {
  beforeAll(async () => {
    await findPython({ env: { ...process.env, PYTHON_BIN: PYTHON } });
  });

  it('trains a tiny run: events in order, a checkpoint on disk, a succeeded result', async () => {
    const outDir = join(outRoot, 'tiny');
    const { job, events } = runTrainer(TINY_SPEC, outDir);
    const result = await job.result;
    expect(result).toMatchObject({ status: 'succeeded', error: null, epochs_completed: 1 });
    const checkpoint = result.last_checkpoint as { path: string };
    expect(checkpoint.path.startsWith(outDir)).toBe(true);
    expect(existsSync(checkpoint.path)).toBe(true);
    const types = events.map((event) => event.type);
    // What the run reads is reported while it is set up, then it reports running.
    expect(types.slice(0, 2)).toEqual(['dataset', 'status']);
    expect(events[1]).toMatchObject({ status: 'running' });
    // Metric points arrive one by one or, when several were logged since the last delivery, as a batch.
    expect(types.some((type) => type === 'metrics' || type === 'metrics_batch')).toBe(true);
    expect(types).toContain('checkpoint');
    expect(events.at(-1)).toMatchObject({ type: 'status' });
  });

  it('cancels a longer run cooperatively: it checkpoints and returns canceled', async () => {
    const spec = { ...TINY_SPEC, optim: { ...TINY_SPEC.optim, epochs: 200 } };
    let cancel = () => {};
    const { job } = runTrainer(spec, join(outRoot, 'cancel'), (event) => {
      if (event.type === 'metrics' || event.type === 'metrics_batch') cancel();
    });
    cancel = () => job.cancel();
    const result = await job.result;
    expect(result.status).toBe('canceled');
    expect(result.epochs_completed).toBeLessThan(200);
    const checkpoint = result.last_checkpoint as { path: string } | null;
    expect(checkpoint !== null && existsSync(checkpoint.path)).toBe(true);
  });

  it('reports an invalid spec as PythonError of kind spec, with the fields', async () => {
    const spec = { ...TINY_SPEC, swav: { ...TINY_SPEC.swav, prototypes: 1 } };
    const { job } = runTrainer(spec, join(outRoot, 'invalid'));
    const error = await job.result.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ errorKind: 'spec', result: { error: { kind: 'spec' } } });
    expect(JSON.stringify((error as PythonError).result?.error)).toContain('swav.prototypes');
  });
});
