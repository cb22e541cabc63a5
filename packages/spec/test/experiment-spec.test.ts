import { type Issue, parseExperimentSpec, setAtPath } from '@swavlab/spec';
import { describe, expect, it } from 'vitest';

function errorsOf(input: unknown): Issue[] {
  const result = parseExperimentSpec(input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return result.errors;
}

function accepts(input: unknown): void {
  const result = parseExperimentSpec(input);
  expect(result.ok ? [] : result.errors).toEqual([]);
}

/** An input with `value` at the dotted `path` (sections created as needed). */
function withField(
  path: string,
  value: unknown,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  return setAtPath(base, path, value);
}

describe('defaults', () => {
  it("are the paper's settings", () => {
    const result = parseExperimentSpec({});
    expect(result).toEqual({
      ok: true,
      spec: {
        tags: [],
        seed: 31,
        data: {
          source: 'synthetic',
          num_images: 4096,
          num_classes: 10,
          image_size: 32,
          test_fraction: 0.2,
          augment: { flip_p: 0.5, jitter_strength: 1, jitter_p: 0.8, grayscale_p: 0.2, blur_p: 0.5 },
        },
        model: { arch: 'resnet50', small_stem: false, hidden_mlp: 2048, feat_dim: 128 },
        swav: {
          prototypes: 3000,
          temperature: 0.1,
          epsilon: 0.05,
          sinkhorn_iterations: 3,
          assignment: 'soft',
          prototypes_mode: 'learned',
          freeze_prototypes_iters: 313,
          queue_length: 0,
          queue_start_epoch: 15,
          crops: [
            { count: 2, size: 224, min_scale: 0.14, max_scale: 1 },
            { count: 6, size: 96, min_scale: 0.05, max_scale: 0.14 },
          ],
          crops_for_assign: [0, 1],
        },
        optim: {
          optimizer: 'lars',
          base_lr: 4.8,
          final_lr: 0.0048,
          warmup_epochs: 10,
          start_warmup: 0.3,
          weight_decay: 1e-6,
          momentum: 0.9,
          batch_size: 64,
          epochs: 100,
        },
        runtime: {
          device: 'auto',
          gpus: 1,
          processes: 1,
          precision: 'fp32',
          sync_bn: true,
          workers: 4,
          threads: 0,
        },
        checkpoint: { every_epochs: 1, keep_last: 2 },
        eval: {
          every_epochs: 0,
          knn: { k: [20, 200], temperature: 0.07 },
          linear: { protocol: 'fast', epochs: 100, lr: 0.3, batch_size: 256, weight_decay: 1e-6 },
          semisup: null,
        },
      },
    });
  });

  it('fill a partly given section and keep the given fields', () => {
    const result = parseExperimentSpec({ swav: { prototypes: 300 }, eval: { knn: { k: [5] } } });
    if (!result.ok) throw new Error('rejected');
    expect(result.spec.swav.prototypes).toBe(300);
    expect(result.spec.swav.epsilon).toBe(0.05);
    expect(result.spec.eval.knn).toEqual({ k: [5], temperature: 0.07 });
  });

  it('do not share arrays between parsed specs', () => {
    const a = parseExperimentSpec({});
    const b = parseExperimentSpec({});
    if (!a.ok || !b.ok) throw new Error('rejected');
    a.spec.swav.crops_for_assign.push(5);
    a.spec.tags.push('x');
    expect(b.spec.swav.crops_for_assign).toEqual([0, 1]);
    expect(b.spec.tags).toEqual([]);
  });

  it('let null switch off an evaluation', () => {
    const result = parseExperimentSpec({ eval: { knn: null, linear: null } });
    expect(result.ok && result.spec.eval).toEqual({
      every_epochs: 0,
      semisup: null,
      knn: null,
      linear: null,
    });
  });

  it('canonicalise crop notation to the structured form', () => {
    const result = parseExperimentSpec({ swav: { crops: '2x32(0.2-1)+4x16' } });
    expect(result.ok && result.spec.swav.crops).toEqual([
      { count: 2, size: 32, min_scale: 0.2, max_scale: 1 },
      { count: 4, size: 16, min_scale: 0.05, max_scale: 0.14 },
    ]);
  });
});

describe('strictness', () => {
  it.each([
    [{ protoypes: 3000 }, 'protoypes', 'unknown field "protoypes"'],
    [
      { swav: { protoypes: 3000 } },
      'swav.protoypes',
      'unknown field "protoypes" (did you mean "prototypes"?)',
    ],
    [{ optim: { lr: 1 } }, 'optim.lr', 'unknown field "lr"'],
    [{ eval: { knn: { kk: [1] } } }, 'eval.knn.kk', 'unknown field "kk" (did you mean "k"?)'],
    [
      { swav: { crops: [{ count: 2, size: 224, min_scale: 0.1, max_scale: 1, scale: 1 }] } },
      'swav.crops[0].scale',
      'unknown field "scale"',
    ],
    [
      { data: { source: 'synthetic', sourc: 'x' } },
      'data.sourc',
      'unknown field "sourc" (did you mean "source"?)',
    ],
  ])('rejects an unknown key in %j', (input, path, message) => {
    expect(errorsOf(input)).toEqual([{ path, message }]);
  });

  it('reports every unknown key, not only the first', () => {
    expect(
      errorsOf({ a: 1, swav: { b: 2 } })
        .map((e) => e.path)
        .sort(),
    ).toEqual(['a', 'swav.b']);
  });

  it.each([
    ['seed', '31', 'expected a number; got string "31"'],
    ['seed', 1.5, 'must be an integer; got 1.5'],
    ['swav.temperature', Number.POSITIVE_INFINITY, 'must be a finite number; got Infinity'],
    ['swav.temperature', Number.NaN, 'must be a finite number; got NaN'],
    ['model.small_stem', 'yes', 'expected a boolean (true or false); got string "yes"'],
    ['model', [], 'expected an object; got an array'],
    ['swav.assignment', 'sof', 'must be one of "soft", "hard"; got string "sof"'],
    ['swav.crops', 5, 'expected a string or an array; got 5'],
    ['tags', ['ok', 'not ok'], 'must match /^[A-Za-z0-9_.:/-]+$/; got string "not ok"'],
    ['name', '', 'must not be empty'],
  ])('rejects %s = %j with a clear message', (path, value, message) => {
    const errors = errorsOf(withField(path, value));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toBe(message);
    expect(errors[0]?.path).toBe(path === 'tags' ? 'tags[1]' : path);
  });

  it('rejects a document that is not an object', () => {
    expect(errorsOf('hello')).toEqual([{ path: '', message: 'expected an object; got string "hello"' }]);
    expect(errorsOf(null)).toEqual([{ path: '', message: 'expected an object; got null' }]);
  });
});

/** [path, lowest valid, highest valid, just below, just above] as the schema states them (undefined: no bound there). */
const LIMITS: [string, unknown, unknown, unknown, unknown][] = [
  ['seed', 0, 2 ** 31 - 1, -1, 2 ** 31],
  ['data.num_images', 16, 10_000_000, 15, 10_000_001],
  ['data.num_classes', 2, 1000, 1, 1001],
  ['data.image_size', 8, 1024, 7, 1025],
  ['data.test_fraction', 1e-9, 0.9, 0, 0.9000001],
  ['model.hidden_mlp', 0, 16384, -1, 16385],
  ['model.feat_dim', 2, 4096, 1, 4097],
  ['swav.prototypes', 2, 200_000, 1, 200_001],
  ['swav.temperature', 0.001, 10, 0.000999, 10.000001],
  ['swav.epsilon', 0.001, 10, 0.000999, 10.000001],
  ['swav.sinkhorn_iterations', 1, 1000, 0, 1001],
  ['swav.freeze_prototypes_iters', 0, 10_000_000, -1, 10_000_001],
  ['swav.queue_length', 0, 960_000, -1, 1_000_064],
  ['swav.queue_start_epoch', 0, 10000, -1, 10001],
  ['optim.base_lr', 1e-6, 100, 9e-7, 100.5],
  ['optim.final_lr', 0, 100, -1e-9, 100.5],
  ['optim.warmup_epochs', 0, 100, -1, undefined],
  ['optim.start_warmup', 0, 100, -0.1, 100.5],
  ['optim.weight_decay', 0, 1, -1e-9, 1.1],
  ['optim.momentum', 0, 0.999, -0.1, 1],
  ['optim.batch_size', 1, 65536, 0, 65537],
  ['optim.epochs', 0, 10000, -1, 10001],
  ['runtime.gpus', 1, 64, 0, 65],
  ['runtime.processes', 1, 64, 0, 65],
  ['runtime.workers', 0, 64, -1, 65],
  ['runtime.threads', 0, 256, -1, 257],
  ['checkpoint.every_epochs', 0, 10000, -1, 10001],
  ['checkpoint.keep_last', 1, 1000, 0, 1001],
  ['eval.every_epochs', 0, 10000, -1, 10001],
  ['eval.knn.temperature', 0.001, 10, 0.0009, 10.5],
  ['eval.linear.epochs', 1, 10000, 0, 10001],
  ['eval.linear.lr', 1e-6, 100, 9e-7, 100.5],
  ['eval.linear.batch_size', 1, 65536, 0, 65537],
  ['eval.linear.weight_decay', 0, 1, -1e-9, 1.5],
  ['eval.semisup.epochs', 1, 10000, 0, 10001],
  ['eval.semisup.lr_trunk', 1e-6, 100, 9e-7, 100.5],
  ['eval.semisup.weight_decay', 0, 1, -1e-9, 1.5],
];

describe('field limits', () => {
  it.each(LIMITS)('%s accepts its bounds and rejects values beyond them', (path, low, high, below, above) => {
    accepts(withField(path, low));
    accepts(withField(path, high));
    const belowErrors = errorsOf(withField(path, below));
    expect(belowErrors.map((e) => e.path)).toEqual([path]);
    expect(belowErrors[0]?.message).toMatch(new RegExp(`^must be >=? .*; got ${below}$`));
    if (above !== undefined) {
      const aboveErrors = errorsOf(withField(path, above));
      expect(aboveErrors.map((e) => e.path)).toEqual([path]);
      expect(aboveErrors[0]?.message).toMatch(new RegExp(`^must be <=? .*; got ${above}$`));
    }
  });

  it.each([
    ['swav.crops_for_assign', [], 'must have at least 1 entry; got 0'],
    ['swav.crops', [], 'must have at least 1 entry; got 0'],
    ['eval.knn.k', [], 'must have at least 1 entry; got 0'],
    ['eval.knn.k', Array.from({ length: 17 }, (_, i) => i + 1), 'must have at most 16 entries; got 17'],
    ['tags', Array.from({ length: 33 }, (_, i) => `t${i}`), 'must have at most 32 entries; got 33'],
    ['name', 'n'.repeat(201), 'must be at most 200 characters long'],
  ])('%s = %j is rejected: %s', (path, value, message) => {
    expect(errorsOf(withField(path, value))).toEqual([{ path, message }]);
  });

  it('checks each element of an array and each field of a crop group', () => {
    expect(errorsOf(withField('eval.knn.k', [20, 0, 10001]))).toEqual([
      { path: 'eval.knn.k[1]', message: 'must be >= 1; got 0' },
      { path: 'eval.knn.k[2]', message: 'must be <= 10000; got 10001' },
    ]);
    expect(
      errorsOf(withField('swav.crops', [{ count: 2, size: 224, min_scale: 0.5, max_scale: 0.2 }])),
    ).toEqual([{ path: 'swav.crops[0].min_scale', message: 'must be < max_scale (0.2); got 0.5' }]);
    expect(errorsOf(withField('swav.crops', [{ count: 2, size: 224, max_scale: 1 }]))).toEqual([
      { path: 'swav.crops[0].min_scale', message: 'is required' },
    ]);
  });

  it('reports a malformed crop notation at swav.crops with what is wrong and where', () => {
    expect(errorsOf(withField('swav.crops', '2x224+'))).toEqual([
      {
        path: 'swav.crops',
        message:
          'invalid crop notation "2x224+": expected a crop count (digits) at character 7, found the end of the notation',
      },
    ]);
  });
});

describe('cross-field rules', () => {
  it('requires data.path for folder sources', () => {
    expect(errorsOf({ data: { source: 'folder' } })).toEqual([
      { path: 'data.path', message: 'is required when data.source is "folder"' },
    ]);
    accepts({ data: { source: 'folder', path: 'imagenet/train' } });
  });

  it('forbids data.path for other sources, including the default one', () => {
    for (const data of [{ path: 'x' }, { source: 'digits', path: 'x' }]) {
      expect(errorsOf({ data })).toEqual([
        {
          path: 'data.path',
          message: expect.stringMatching(
            /^is only allowed when data.source is one of folder, imagefolder, cifar10/,
          ),
        },
      ]);
    }
  });

  it('requires data.path for every directory source', () => {
    for (const source of ['imagefolder', 'cifar10', 'cifar100', 'stl10']) {
      expect(errorsOf({ data: { source } })).toEqual([
        { path: 'data.path', message: `is required when data.source is "${source}"` },
      ]);
      accepts({ data: { source, path: 'ds' } });
    }
  });

  it('allows a class subset for imagefolder only, listed once and in one place', () => {
    accepts({ data: { source: 'imagefolder', path: 'in', classes: ['n01', 'n02'] } });
    accepts({ data: { source: 'imagefolder', path: 'in', classes_file: 'in100.txt' } });
    expect(errorsOf({ data: { source: 'cifar10', path: 'c', classes: ['a', 'b'] } })).toEqual([
      {
        path: 'data.classes',
        message: 'is only allowed when data.source is "imagefolder"; data.source is "cifar10"',
      },
    ]);
    expect(
      errorsOf({ data: { source: 'imagefolder', path: 'in', classes: ['a', 'b', 'a'], classes_file: 'f' } }),
    ).toEqual([
      {
        path: 'data.classes_file',
        message: 'cannot be combined with data.classes; list the classes in one place',
      },
      { path: 'data.classes[2]', message: 'duplicates data.classes[0] ("a")' },
    ]);
    for (const name of ['..', '.', 'a/b', 'a\\b']) {
      expect(errorsOf({ data: { source: 'imagefolder', path: 'in', classes: [name, 'x'] } })).toEqual([
        { path: 'data.classes[0]', message: 'must be a folder name (no "/", "\\", NUL, "." or "..")' },
      ]);
    }
  });

  it('lets an evaluation-only run (0 epochs) keep the warm-up default', () => {
    accepts({ optim: { epochs: 0 } });
  });

  it('takes the semi-supervised fractions of the paper and increasing decay epochs', () => {
    const result = parseExperimentSpec({ eval: { semisup: {} } });
    expect(result.ok && result.spec.eval.semisup).toEqual({
      fraction: 0.1,
      epochs: 20,
      batch_size: 256,
      lr_trunk: null,
      lr_head: null,
      decay_epochs: [12, 16],
      gamma: 0.2,
      weight_decay: 0,
    });
    expect(errorsOf({ eval: { semisup: { fraction: 0.5 } } }).map((e) => e.path)).toEqual([
      'eval.semisup.fraction',
    ]);
    expect(errorsOf({ eval: { semisup: { decay_epochs: [12, 12] } } })).toEqual([
      {
        path: 'eval.semisup.decay_epochs[1]',
        message: 'must be greater than the previous entry (12); list the epochs in increasing order',
      },
    ]);
  });

  it('requires crops_for_assign indices inside the flattened crop list', () => {
    expect(errorsOf({ swav: { crops: '2x32+2x16', crops_for_assign: [0, 4, 3] } })).toEqual([
      {
        path: 'swav.crops_for_assign[1]',
        message: 'index 4 is out of range: swav.crops defines 4 crops (valid indices 0..3)',
      },
    ]);
    // The default crops_for_assign [0, 1] needs at least two crops, which the crops rule guarantees.
    accepts({ swav: { crops: '2x32', crops_for_assign: [1, 0] } });
  });

  it('requires distinct crops_for_assign indices', () => {
    expect(errorsOf({ swav: { crops_for_assign: [0, 1, 2, 1] } })).toEqual([
      {
        path: 'swav.crops_for_assign[3]',
        message: 'duplicates swav.crops_for_assign[1] (1); indices must be distinct',
      },
    ]);
  });

  it('requires at least two crops in total', () => {
    expect(errorsOf({ swav: { crops: [{ count: 1, size: 224, min_scale: 0.14, max_scale: 1 }] } })).toEqual([
      {
        path: 'swav.crops',
        message: 'must define at least 2 crops in total (SwAV swaps codes between views); got 1',
      },
    ]);
  });

  it('requires queue_length to be a multiple of batch_size × ranks', () => {
    expect(errorsOf({ swav: { queue_length: 100 } })).toEqual([
      {
        path: 'swav.queue_length',
        message: 'must be a multiple of batch_size × ranks (64 × 1 = 64); got 100',
      },
    ]);
    expect(
      errorsOf({ swav: { queue_length: 3840 }, optim: { batch_size: 64 }, runtime: { gpus: 7 } }),
    ).toEqual([
      {
        path: 'swav.queue_length',
        message: 'must be a multiple of batch_size × ranks (64 × 7 = 448); got 3840',
      },
    ]);
    expect(
      errorsOf({ swav: { queue_length: 192 }, optim: { batch_size: 64 }, runtime: { processes: 2 } }),
    ).toEqual([
      {
        path: 'swav.queue_length',
        message: 'must be a multiple of batch_size × ranks (64 × 2 = 128); got 192',
      },
    ]);
    accepts({ swav: { queue_length: 3840 }, optim: { batch_size: 64 }, runtime: { gpus: 2 } });
    accepts({ swav: { queue_length: 256 }, optim: { batch_size: 64 }, runtime: { processes: 4 } });
    accepts({ swav: { queue_length: 0 }, optim: { batch_size: 7 } });
  });

  it('keeps GPU ranks and CPU processes apart', () => {
    expect(errorsOf({ runtime: { gpus: 2, processes: 2 } })).toEqual([
      {
        path: 'runtime.processes',
        message:
          'cannot be combined with runtime.gpus 2: a run has one rank per GPU or one per CPU process, not both',
      },
    ]);
    expect(errorsOf({ runtime: { device: 'cpu', gpus: 2 } })).toEqual([
      {
        path: 'runtime.gpus',
        message:
          'needs GPUs but runtime.device is "cpu"; for several CPU processes set runtime.processes instead',
      },
    ]);
    expect(errorsOf({ runtime: { device: 'cuda', processes: 2 } })).toEqual([
      {
        path: 'runtime.processes',
        message:
          'is for CPU runs but runtime.device is "cuda"; a CUDA run has one process per GPU (runtime.gpus)',
      },
    ]);
    accepts({ runtime: { device: 'cpu', processes: 4 } });
    accepts({ runtime: { device: 'auto', processes: 4 } });
    accepts({ runtime: { device: 'auto', gpus: 8 } });
  });

  it('refuses fp16 where it cannot run: on the CPU', () => {
    const fp16 = { path: 'runtime.precision', message: 'fp16 needs a CUDA device; use bf16 or fp32 on CPU' };
    expect(errorsOf({ runtime: { device: 'cpu', precision: 'fp16' } })).toEqual([fp16]);
    expect(errorsOf({ runtime: { processes: 2, precision: 'fp16' } })).toEqual([fp16]);
    accepts({ runtime: { device: 'cpu', precision: 'bf16' } });
    accepts({ runtime: { device: 'auto', precision: 'fp16' } });
    accepts({ runtime: { device: 'cuda', gpus: 2, precision: 'fp16' } });
  });

  it('requires warmup_epochs <= epochs', () => {
    expect(errorsOf({ optim: { epochs: 5 } })).toEqual([
      { path: 'optim.warmup_epochs', message: 'must be <= optim.epochs (5); got 10' },
    ]);
    accepts({ optim: { epochs: 5, warmup_epochs: 5 } });
  });

  it('reports every broken rule at once', () => {
    const errors = errorsOf({
      data: { source: 'folder' },
      swav: { queue_length: 100, crops_for_assign: [0, 8] },
      optim: { warmup_epochs: 200 },
    });
    expect(errors.map((e) => e.path).sort()).toEqual([
      'data.path',
      'optim.warmup_epochs',
      'swav.crops_for_assign[1]',
      'swav.queue_length',
    ]);
  });
});
