import {
  expandGrid,
  expandGridInSlices,
  formatPath,
  type GridCell,
  getAtPath,
  type Issue,
  MAX_GRID_CELLS,
  parseCrops,
} from '@swavlab/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomSource, shuffleKeys } from './arbitraries.js';

function cellsOf(grid: unknown): GridCell[] {
  const result = expandGrid(grid);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.cells;
}

function errorsOf(grid: unknown): Issue[] {
  const result = expandGrid(grid);
  if (result.ok) throw new Error('expected the grid to be rejected');
  return result.errors;
}

const tinyBase = {
  model: { arch: 'tiny', small_stem: true },
  data: { image_size: 32 },
  optim: { epochs: 20 },
};

const ablation = {
  name: 'prototypes-x-iterations-x-crops',
  base: tinyBase,
  axes: {
    'swav.prototypes': [30, 100, 300],
    'swav.sinkhorn_iterations': [1, 3, 10],
    'swav.crops': ['2x32+4x16', '2x32'],
  },
  seeds: [1, 2, 3],
  tags: ['ablation'],
};

describe('expandGrid: the acceptance grid', () => {
  it('expands 3 prototypes × 3 iterations × 2 crop settings × 3 seeds into 54 distinct specs', () => {
    const cells = cellsOf(ablation);
    expect(cells).toHaveLength(54);
    expect(new Set(cells.map((c) => c.hash)).size).toBe(54);
    expect(cells.map((c) => c.index)).toEqual([...Array(54).keys()]);
    for (const cell of cells) {
      expect(cell.spec.seed).toBe(cell.seed);
      expect(cell.spec.swav.prototypes).toBe(cell.axisValues['swav.prototypes']);
      expect(cell.spec.swav.sinkhorn_iterations).toBe(cell.axisValues['swav.sinkhorn_iterations']);
      expect(cell.spec.swav.crops).toEqual(parseCrops(cell.axisValues['swav.crops'] as string));
      expect(cell.spec.model.arch).toBe('tiny');
    }
  });

  it('gives the same cells in the same order when the keys come in another order', () => {
    const reordered = {
      seeds: [1, 2, 3],
      axes: {
        'swav.crops': ['2x32+4x16', '2x32'],
        'swav.sinkhorn_iterations': [1, 3, 10],
        'swav.prototypes': [30, 100, 300],
      },
      base: { optim: { epochs: 20 }, data: { image_size: 32 }, model: { small_stem: true, arch: 'tiny' } },
      tags: ['ablation'],
      name: 'prototypes-x-iterations-x-crops',
    };
    const hashes = cellsOf(ablation).map((c) => c.hash);
    expect(cellsOf(reordered).map((c) => c.hash)).toEqual(hashes);
    for (const seed of [1, 2, 3]) {
      expect(cellsOf(shuffleKeys(ablation, randomSource(seed))).map((c) => c.hash)).toEqual(hashes);
    }
  });
});

describe('expandGrid: order and defaults', () => {
  it('takes axes in sorted path order, the first slowest, seeds fastest', () => {
    const cells = cellsOf({
      base: {},
      axes: { 'swav.sinkhorn_iterations': [5, 7], 'optim.base_lr': [1, 2] },
      seeds: [8, 9],
    });
    expect(
      cells.map((c) => [c.axisValues['optim.base_lr'], c.axisValues['swav.sinkhorn_iterations'], c.seed]),
    ).toEqual([
      [1, 5, 8],
      [1, 5, 9],
      [1, 7, 8],
      [1, 7, 9],
      [2, 5, 8],
      [2, 5, 9],
      [2, 7, 8],
      [2, 7, 9],
    ]);
  });

  it("defaults the seeds to the base spec's seed and the metric to knn_top1@20 (max)", () => {
    const result = expandGrid({ base: { seed: 7 }, axes: { 'swav.prototypes': [10, 20] } });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.cells.map((c) => c.seed)).toEqual([7, 7]);
    expect(result.grid.metric).toEqual({ name: 'knn_top1@20', goal: 'max' });
    expect(cellsOf({ base: {}, axes: {} }).map((c) => c.seed)).toEqual([31]);
  });

  it('lets an axis supply what the base alone lacks', () => {
    const cells = cellsOf({ base: { data: { source: 'folder' } }, axes: { 'data.path': ['a', 'b'] } });
    expect(cells.map((c) => c.spec.data.path)).toEqual(['a', 'b']);
  });

  it("fills every cell from the base's recipe, under the base's fields and the axis values", () => {
    const cells = cellsOf({
      base: { recipe: 'small-data', model: { arch: 'tiny' }, data: { source: 'synthetic' } },
      axes: { 'swav.crops': ['2x40(0.3-1)', '2x32(0.3-1)+4x16(0.15-0.4)'] },
    });
    for (const cell of cells) {
      expect(cell.spec.swav.prototypes).toBe(64); // the recipe's, not the default 3000
      expect(cell.spec.swav.epsilon).toBe(0.015);
      expect(cell.spec.optim.optimizer).toBe('sgd');
      expect(cell.spec.data.augment.blur_p).toBe(0);
      expect(cell.spec.model.arch).toBe('tiny'); // the base's own field wins over the recipe's resnet18
      expect(cell.spec.data.source).toBe('synthetic');
    }
    expect(cells.map((cell) => cell.spec.swav.crops.length)).toEqual([1, 2]);
  });

  it('varies the augmentations like any field, each cell with its own hash', () => {
    const cells = cellsOf({
      base: {},
      axes: { 'data.augment.jitter_strength': [0, 0.5, 1], 'data.augment.grayscale_p': [0, 1] },
    });
    // Axes in sorted path order, the first slowest: grayscale_p, then jitter_strength.
    expect(cells.map((c) => [c.spec.data.augment.grayscale_p, c.spec.data.augment.jitter_strength])).toEqual([
      [0, 0],
      [0, 0.5],
      [0, 1],
      [1, 0],
      [1, 0.5],
      [1, 1],
    ]);
    expect(cells.every((c) => c.spec.data.augment.flip_p === 0.5)).toBe(true);
    expect(new Set(cells.map((c) => c.hash)).size).toBe(6);
    const bad = expandGrid({ base: {}, axes: { 'data.augment.blur_p': [0.5, 1.5] } });
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toContain('data.augment.blur_p');
  });

  it('does not let one cell change another or the input', () => {
    const grid = { base: { swav: { crops_for_assign: [0, 1] } }, axes: { 'eval.knn.k': [[20], [5, 10]] } };
    const before = JSON.stringify(grid);
    const cells = cellsOf(grid);
    cells[0]?.spec.swav.crops_for_assign.push(3);
    expect(cells[1]?.spec.swav.crops_for_assign).toEqual([0, 1]);
    expect(JSON.stringify(grid)).toBe(before);
  });

  it('expands to the product of the axis lengths times the seeds', () => {
    const pool: Record<string, fc.Arbitrary<unknown>> = {
      'swav.prototypes': fc.integer({ min: 2, max: 5000 }),
      'swav.epsilon': fc.double({ min: 0.001, max: 1, noNaN: true }),
      'swav.assignment': fc.constantFrom('soft', 'hard'),
      'optim.batch_size': fc.integer({ min: 1, max: 512 }),
      'eval.knn.k': fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3 }),
      'model.small_stem': fc.boolean(),
    };
    const axes = fc.subarray(Object.keys(pool)).chain((paths) =>
      fc.record(
        Object.fromEntries(
          paths.map((p) => [
            p,
            fc.uniqueArray(pool[p] as fc.Arbitrary<unknown>, {
              minLength: 1,
              maxLength: 3,
              selector: (v) => JSON.stringify(v),
            }),
          ]),
        ),
      ),
    );
    const seeds = fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(axes, seeds, (gridAxes, gridSeeds) => {
        const cells = cellsOf({ base: {}, axes: gridAxes, seeds: gridSeeds });
        const expected = Object.values(gridAxes).reduce((n, values) => n * values.length, gridSeeds.length);
        expect(cells).toHaveLength(expected);
        expect(new Set(cells.map((c) => c.hash)).size).toBe(expected);
        for (const cell of cells) {
          for (const [path, value] of Object.entries(cell.axisValues))
            expect(getAtPath(cell.spec, path)).toEqual(value);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('expandGrid: rejections', () => {
  it('rejects more than 10,000 cells before materialising any', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 2);
    // 1000^5 × 2 cells: building them would not finish, so this also proves the count comes first.
    const axes = Object.fromEntries(
      [
        'swav.prototypes',
        'swav.queue_start_epoch',
        'optim.epochs',
        'eval.every_epochs',
        'model.feat_dim',
      ].map((p) => [p, values]),
    );
    const errors = errorsOf({ base: {}, axes, seeds: [1, 2] });
    expect(errors).toEqual([
      {
        path: 'axes',
        message: expect.stringContaining('= 2,000,000,000,000,000 cells; at most 10,000 are allowed'),
      },
    ]);
    expect(errors[0]?.message).toContain('swav.prototypes (1000) × ');
    expect(errors[0]?.message).toContain('seeds (2)');
  });

  it('accepts exactly 10,000 cells and rejects 10,001', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i + 2);
    expect(
      cellsOf({ base: {}, axes: { 'swav.prototypes': values(1000), 'swav.queue_start_epoch': values(10) } }),
    ).toHaveLength(MAX_GRID_CELLS);
    expect(
      errorsOf({
        base: {},
        axes: { 'swav.prototypes': values(1000), 'swav.queue_start_epoch': values(10) },
        seeds: [1, 2],
      }),
    ).toEqual([{ path: 'axes', message: expect.stringContaining('= 20,000 cells') }]);
  });

  it('names the failing cell, its axis values and seed, and the failing field', () => {
    const errors = errorsOf({ base: {}, axes: { 'swav.prototypes': [1, 10] }, seeds: [1, 2] });
    expect(errors).toEqual([
      {
        path: 'cells[0].swav.prototypes',
        message: 'in cell (swav.prototypes=1, seed=1): must be >= 2; got 1',
      },
      {
        path: 'cells[1].swav.prototypes',
        message: 'in cell (swav.prototypes=1, seed=2): must be >= 2; got 1',
      },
    ]);
  });

  it('reports cross-field failures that only some combinations have', () => {
    const errors = errorsOf({
      base: {},
      axes: { 'swav.queue_length': [0, 3840], 'optim.batch_size': [64, 100] },
    });
    expect(errors).toEqual([
      {
        path: 'cells[3].swav.queue_length',
        message:
          'in cell (optim.batch_size=100, swav.queue_length=3840, seed=31): must be a multiple of batch_size × ranks (100 × 1 = 100); got 3840',
      },
    ]);
  });

  it('caps the list when every cell fails and says how many were left out', () => {
    const errors = errorsOf({
      base: {},
      axes: { 'swav.prototypes': Array.from({ length: 1000 }, (_, i) => -i) },
    });
    expect(errors).toHaveLength(51);
    expect(errors.at(-1)).toEqual({
      path: 'cells',
      message: '950 more issues not listed; 1000 of 1000 cells are invalid',
    });
  });

  it('rejects cells that describe the same spec', () => {
    const structured = parseCrops('2x224+6x96');
    expect(errorsOf({ base: {}, axes: { 'swav.crops': ['2x224+6x96', structured] } })).toEqual([
      {
        path: 'cells[1]',
        message: expect.stringMatching(/^in cell \(swav.crops=.*seed=31\): is the same spec as cells\[0\]$/),
      },
    ]);
  });

  it.each([
    ['swav.protoypes', 'unknown spec path "swav.protoypes" (did you mean "swav.prototypes"?)'],
    ['optim.lr', 'unknown spec path "optim.lr"'],
    ['seed', 'seed is not an axis; list the seeds in "seeds"'],
    ['tags', '"tags" is metadata, not part of the spec; it cannot be an axis'],
    ['name', '"name" is metadata, not part of the spec; it cannot be an axis'],
    ['swav', '"swav" is a section; an axis varies one field, such as "swav.prototypes"'],
    ['eval.knn', '"eval.knn" is a section; an axis varies one field, such as "eval.knn.k"'],
    ['swav.crops.0', 'unknown spec path "swav.crops.0" (did you mean "swav.crops"?)'],
    ['swav..prototypes', 'unknown spec path "swav..prototypes" (did you mean "swav.prototypes"?)'],
    ['.seed', 'unknown spec path ".seed"'],
    ['', 'unknown spec path ""'],
    ['data.sorce', 'unknown spec path "data.sorce" (did you mean "data.source"?)'],
  ])('rejects the axis path %j naming it', (path, message) => {
    expect(errorsOf({ base: {}, axes: { [path]: [1] } })).toEqual([
      { path: formatPath(['axes', path]), message },
    ]);
  });

  it('checks the axis values and the seeds', () => {
    expect(errorsOf({ base: {}, axes: { 'swav.prototypes': [] } })).toEqual([
      { path: 'axes["swav.prototypes"]', message: 'must have at least 1 entry; got 0' },
    ]);
    expect(
      errorsOf({ base: {}, axes: { 'swav.prototypes': Array.from({ length: 1001 }, (_, i) => i + 2) } }),
    ).toEqual([{ path: 'axes["swav.prototypes"]', message: 'must have at most 1000 entries; got 1001' }]);
    expect(errorsOf({ base: {}, axes: { 'swav.crops': ['2x32', '2x16', '2x32'] } })).toEqual([
      { path: 'axes["swav.crops"][2]', message: 'duplicates entry [0]' },
    ]);
    expect(errorsOf({ base: {}, axes: {}, seeds: [1, 1] })).toEqual([
      { path: 'seeds[1]', message: 'duplicates entry [0]' },
    ]);
    expect(errorsOf({ base: {}, axes: {}, seeds: [] })).toEqual([
      { path: 'seeds', message: 'must have at least 1 entry; got 0' },
    ]);
    expect(errorsOf({ base: {}, axes: {}, seeds: [-1] })).toEqual([
      { path: 'seeds[0]', message: 'must be >= 0; got -1' },
    ]);
  });

  it('checks the base spec field by field, with its path', () => {
    expect(errorsOf({ base: { swav: { protoypes: 3 } }, axes: {} })).toEqual([
      { path: 'base.swav.protoypes', message: 'unknown field "protoypes" (did you mean "prototypes"?)' },
    ]);
    expect(errorsOf({ axes: {} })).toEqual([{ path: 'base', message: 'is required' }]);
  });

  it('refuses an axis below a section the base switched off', () => {
    expect(errorsOf({ base: { eval: { knn: null } }, axes: { 'eval.knn.k': [[1], [2]] } })).toEqual([
      { path: 'axes["eval.knn.k"]', message: 'cannot vary "eval.knn.k": base.eval.knn is null' },
    ]);
  });

  it('checks the grid itself strictly, metric included', () => {
    expect(errorsOf({ base: {}, axes: {}, metric: { name: 'knn_top1@x', goal: 'up' }, extra: 1 })).toEqual(
      expect.arrayContaining([
        { path: 'extra', message: 'unknown field "extra"' },
        {
          path: 'metric.name',
          message: expect.stringMatching(/^must be a metric name: knn_top1@<k>, linear_top1/),
        },
        { path: 'metric.goal', message: 'must be one of "max", "min"; got string "up"' },
      ]),
    );
    expect(cellsOf({ base: {}, axes: {}, metric: { name: 'linear_top1', goal: 'max' } })).toHaveLength(1);
    expect(cellsOf({ base: {}, axes: {}, metric: { name: 'loss', goal: 'min' } })).toHaveLength(1);
  });
});

describe('expandGridInSlices', () => {
  it('gives the result of expandGrid while letting the event loop run every few milliseconds', async () => {
    const grid = {
      base: { optim: { warmup_epochs: 0 } },
      axes: {
        'swav.prototypes': Array.from({ length: 50 }, (_, i) => i + 2),
        'optim.epochs': Array.from({ length: 40 }, (_, i) => i + 1),
      },
    };
    let longestGap = 0;
    const started = performance.now();
    let last = started;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 1);
    const sliced = await expandGridInSlices(grid, 10);
    const finished = performance.now();
    clearInterval(ticker);
    // The gap since the last tick counts too: an expansion that never yields has no tick at all.
    longestGap = Math.max(longestGap, finished - last);
    const elapsed = finished - started;
    const whole = expandGrid(grid);
    expect(sliced.ok && whole.ok).toBe(true);
    if (sliced.ok && whole.ok) {
      expect(sliced.cells.map((cell) => cell.hash)).toEqual(whole.cells.map((cell) => cell.hash));
      expect(sliced.cells).toHaveLength(2000);
    }
    // Timers ran during the expansion: no gap near the time it takes as a whole. Relative to that time, not in
    // milliseconds, so that a machine that other work slows down does not fail it: unsliced, the gap is all of it.
    expect(longestGap).toBeLessThan(elapsed / 2);
  });
});
