import { cellKey, expandSuite, type Issue, RegressionSuite } from '@swavlab/spec';
import { describe, expect, it } from 'vitest';

const tinySpec = {
  model: { arch: 'tiny', small_stem: true },
  data: { num_images: 64, image_size: 16 },
  swav: { crops: '2x16', prototypes: 10 },
  optim: { epochs: 1, batch_size: 16, warmup_epochs: 0 },
  eval: { knn: { k: [20] }, linear: null },
};

const suite = {
  name: 'tiny-synthetic',
  spec: tinySpec,
  axes: { 'swav.prototypes': [30, 60] },
  seeds: [1, 2, 3],
  metrics: [
    { name: 'knn_top1@20', direction: 'max', tolerance: { kind: 'absolute', value: 0.02 } },
    { name: 'loss', direction: 'min', tolerance: { kind: 'relative', value: 0.05 } },
    { name: 'knn_top1@20', direction: 'max', tolerance: { kind: 'statistical', alpha: 0.05, min_effect: 0 } },
  ],
};

function errorsOf(input: unknown): Issue[] {
  const result = expandSuite(input);
  if (result.ok) throw new Error('expected the suite to be rejected');
  return result.errors;
}

function withChange(path: (s: typeof suite) => void): unknown {
  const copy = structuredClone(suite);
  path(copy);
  return copy;
}

describe('RegressionSuite', () => {
  it('expands the contract example into axes × seeds validated cells', () => {
    const result = expandSuite(suite);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.cells).toHaveLength(6);
    expect(result.cells.map((c) => [c.axisValues['swav.prototypes'], c.seed])).toEqual([
      [30, 1],
      [30, 2],
      [30, 3],
      [60, 1],
      [60, 2],
      [60, 3],
    ]);
    expect(result.cells.every((c) => c.spec.model.arch === 'tiny')).toBe(true);
    expect(result.suite.metrics[2]?.tolerance).toEqual({ kind: 'statistical', alpha: 0.05, min_effect: 0 });
  });

  it('defaults the axes to none (one cell per seed, cell {}) and the statistical tolerance', () => {
    const parsed = RegressionSuite.parse({
      name: 's',
      spec: tinySpec,
      seeds: [7],
      metrics: [{ name: 'loss', direction: 'min', tolerance: { kind: 'statistical' } }],
    });
    expect(parsed.axes).toEqual({});
    expect(parsed.metrics[0]?.tolerance).toEqual({ kind: 'statistical', alpha: 0.05, min_effect: 0 });
    const result = expandSuite(parsed);
    expect(result.ok && result.cells.map((c) => cellKey(c.axisValues))).toEqual(['{}']);
  });

  it('names the field of each invalid tolerance', () => {
    const errors = errorsOf(
      withChange((s) => {
        (s.metrics[1] as { tolerance: unknown }).tolerance = { kind: 'relative', value: -0.1 };
        (s.metrics[2] as { tolerance: unknown }).tolerance = { kind: 'statistical', alpha: 1.5 };
        (s.metrics[0] as { tolerance: unknown }).tolerance = { kind: 'percent', value: 1 };
      }),
    );
    expect(errors).toEqual([
      {
        path: 'metrics[0].tolerance.kind',
        message: 'must be one of "absolute", "relative", "statistical"; got string "percent"',
      },
      { path: 'metrics[1].tolerance.value', message: 'must be >= 0; got -0.1' },
      { path: 'metrics[2].tolerance.alpha', message: 'must be < 1; got 1.5' },
    ]);
  });

  it('requires a tolerance kind, a direction and a known metric name', () => {
    const errors = errorsOf(
      withChange((s) => {
        s.metrics[0] = { name: 'knn_top5', tolerance: {} } as never;
      }),
    );
    expect(errors.map((e) => e.path)).toEqual([
      'metrics[0].name',
      'metrics[0].direction',
      'metrics[0].tolerance.kind',
    ]);
    expect(errors[2]?.message).toBe('is required');
  });

  it('rejects bad names, duplicate or too many seeds, unknown fields', () => {
    expect(errorsOf({ ...suite, name: 'has space' })[0]?.path).toBe('name');
    expect(errorsOf({ ...suite, seeds: [1, 2, 1] })).toEqual([
      { path: 'seeds[2]', message: 'duplicates entry [0]' },
    ]);
    expect(errorsOf({ ...suite, seeds: [...Array(11).keys()] })[0]?.path).toBe('seeds');
    expect(errorsOf({ ...suite, seeds: [] })[0]?.message).toMatch(/at least 1/);
    expect(errorsOf({ ...suite, metric: [] })[0]?.message).toMatch(/unknown field "metric".*"metrics"/);
  });

  it('allows at most 16 cells without seeds', () => {
    const errors = errorsOf({
      ...suite,
      axes: { 'swav.prototypes': [10, 20, 30, 40, 50], 'swav.sinkhorn_iterations': [1, 2, 3, 4] },
    });
    expect(errors).toEqual([
      { path: 'axes', message: 'the axes give 20 cells (without seeds); a suite may have at most 16' },
    ]);
  });

  it('reports errors of the expanded cells under spec (not the grid’s base)', () => {
    const errors = errorsOf({
      ...suite,
      spec: { ...tinySpec, swav: { crops: '2x16', crops_for_assign: [5] } },
    });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.path.startsWith('cells[') || e.path.startsWith('spec'))).toBe(true);
    expect(errors[0]?.message).toMatch(/crops_for_assign|crop/);
    const nullKnn = errorsOf({
      ...suite,
      spec: { ...tinySpec, eval: { knn: null } },
      axes: { 'eval.knn.k': [[20], [5]] },
    });
    expect(nullKnn).toEqual([
      { path: 'axes["eval.knn.k"]', message: 'cannot vary "eval.knn.k": spec.eval.knn is null' },
    ]);
  });

  it('rejects a metric the runs never report', () => {
    expect(errorsOf({ ...suite, spec: { ...tinySpec, eval: { knn: { k: [200] }, linear: null } } })).toEqual([
      { path: 'metrics[0].name', message: 'knn_top1@20 is never evaluated: spec.eval.knn.k is [200]' },
      { path: 'metrics[2].name', message: 'knn_top1@20 is never evaluated: spec.eval.knn.k is [200]' },
    ]);
    const linear = errorsOf({
      ...suite,
      metrics: [{ name: 'linear_top1', direction: 'max', tolerance: { kind: 'absolute', value: 0 } }],
    });
    expect(linear).toEqual([
      { path: 'metrics[0].name', message: 'linear_top1 is never evaluated: spec.eval.linear is null' },
    ]);
  });
});
