import { type CropGroup, defaultScales, type ExperimentSpecInput, totalCrops } from '@swavlab/spec';
import fc from 'fast-check';

/** fast-check generators of valid inputs, shared by the property tests. */

const unitScale = fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true });

/** A (min, max) scale pair with 0 < min < max <= 1. */
const scalePair = fc
  .tuple(unitScale, unitScale)
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

/** Valid structured crop groups; about half the groups use the positional default scales. */
export const cropGroups: fc.Arbitrary<CropGroup[]> = fc
  .array(
    fc.record({
      count: fc.integer({ min: 1, max: 64 }),
      size: fc.integer({ min: 8, max: 1024 }),
      scales: fc.option(scalePair),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((groups) =>
    groups.map(({ count, size, scales }, i) => {
      const [min_scale, max_scale] = scales ?? defaultScales(i);
      return { count, size, min_scale, max_scale };
    }),
  )
  .filter((groups) => totalCrops(groups) >= 2);

const positive = (max: number) => fc.double({ min: 1e-4, max, noNaN: true });
const between = (min: number, max: number) => fc.double({ min, max, noNaN: true });

/**
 * Valid experiment-spec inputs with any subset of fields present. Cross-field rules are respected by
 * construction: the queue is whole global batches, warmup fits in the epochs, assigned crops exist.
 */
export const specInput: fc.Arbitrary<ExperimentSpecInput> = fc
  .record(
    {
      name: fc.string({ minLength: 1, maxLength: 20 }),
      tags: fc.array(fc.stringMatching(/^[a-z0-9_:-]{1,8}$/), { maxLength: 3 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      data: fc.oneof(
        fc.record(
          {
            source: fc.constantFrom('synthetic' as const, 'digits' as const),
            num_images: fc.integer({ min: 16, max: 10_000_000 }),
            num_classes: fc.integer({ min: 2, max: 1000 }),
            image_size: fc.integer({ min: 8, max: 1024 }),
            test_fraction: fc.double({ min: 0.01, max: 0.9, noNaN: true }),
          },
          { requiredKeys: [] },
        ),
        fc.record({
          source: fc.constant('folder' as const),
          path: fc.stringMatching(/^[a-z][a-z0-9/]{0,20}$/),
        }),
      ),
      model: fc.record(
        {
          arch: fc.constantFrom(
            'tiny' as const,
            'resnet18' as const,
            'resnet50' as const,
            'resnet50w2' as const,
          ),
          small_stem: fc.boolean(),
          hidden_mlp: fc.integer({ min: 0, max: 16384 }),
          feat_dim: fc.integer({ min: 2, max: 4096 }),
        },
        { requiredKeys: [] },
      ),
      swav: fc.record(
        {
          prototypes: fc.integer({ min: 2, max: 200_000 }),
          temperature: between(0.001, 10),
          epsilon: between(0.001, 10),
          sinkhorn_iterations: fc.integer({ min: 1, max: 1000 }),
          assignment: fc.constantFrom('soft' as const, 'hard' as const),
          prototypes_mode: fc.constantFrom('learned' as const, 'fixed' as const),
          freeze_prototypes_iters: fc.integer({ min: 0, max: 10_000_000 }),
          queue_start_epoch: fc.integer({ min: 0, max: 1000 }),
          crops: cropGroups,
          crops_for_assign: fc.constantFrom<number[]>([0], [1], [0, 1], [1, 0]),
        },
        { requiredKeys: [] },
      ),
      optim: fc.record(
        {
          optimizer: fc.constantFrom('lars' as const, 'sgd' as const),
          base_lr: positive(100),
          final_lr: fc.double({ min: 0, max: 100, noNaN: true }),
          warmup_epochs: fc.integer({ min: 0, max: 10 }),
          start_warmup: fc.double({ min: 0, max: 10, noNaN: true }),
          weight_decay: fc.double({ min: 0, max: 1, noNaN: true }),
          momentum: fc.double({ min: 0, max: 0.99, noNaN: true }),
          batch_size: fc.integer({ min: 1, max: 1024 }),
          epochs: fc.integer({ min: 10, max: 10000 }),
        },
        { requiredKeys: [] },
      ),
      runtime: fc.record(
        {
          device: fc.constantFrom('auto' as const, 'cpu' as const, 'cuda' as const),
          gpus: fc.integer({ min: 1, max: 64 }),
          processes: fc.integer({ min: 1, max: 64 }),
          precision: fc.constantFrom('fp32' as const, 'fp16' as const, 'bf16' as const),
          sync_bn: fc.boolean(),
          workers: fc.integer({ min: 0, max: 64 }),
          threads: fc.integer({ min: 0, max: 256 }),
        },
        { requiredKeys: [] },
      ),
      checkpoint: fc.record(
        { every_epochs: fc.integer({ min: 0, max: 10000 }), keep_last: fc.integer({ min: 1, max: 1000 }) },
        { requiredKeys: [] },
      ),
      eval: fc.record(
        {
          every_epochs: fc.integer({ min: 0, max: 1000 }),
          knn: fc.option(
            fc.record(
              {
                k: fc.uniqueArray(fc.integer({ min: 1, max: 10000 }), { minLength: 1, maxLength: 16 }),
                temperature: between(0.001, 1),
              },
              { requiredKeys: [] },
            ),
          ),
          linear: fc.option(
            fc.record(
              {
                epochs: fc.integer({ min: 1, max: 10000 }),
                lr: positive(10),
                batch_size: fc.integer({ min: 1, max: 65536 }),
              },
              { requiredKeys: [] },
            ),
          ),
        },
        { requiredKeys: [] },
      ),
      queueBatches: fc.integer({ min: 0, max: 4 }),
    },
    { requiredKeys: [] },
  )
  .map(({ queueBatches, ...spec }) => {
    const runtime = spec.runtime && validRanks(spec.runtime);
    const withRuntime = runtime ? { ...spec, runtime } : spec;
    if (!queueBatches || !spec.swav) return withRuntime;
    const step = (spec.optim?.batch_size ?? 64) * Math.max(runtime?.gpus ?? 1, runtime?.processes ?? 1);
    return { ...withRuntime, swav: { ...spec.swav, queue_length: queueBatches * step } };
  });

/**
 * GPU ranks only where GPUs may be used, CPU processes only where the CPU may be, never both; fp16 (CUDA only)
 * becomes bf16 where the run is on the CPU.
 */
function validRanks<R extends { device?: string; gpus?: number; processes?: number; precision?: string }>(
  runtime: R,
): R {
  const { gpus = 1, processes = 1, device = 'auto' } = runtime;
  const ranks =
    gpus > 1 && device !== 'cpu'
      ? { ...runtime, processes: 1 }
      : processes > 1 && device !== 'cuda'
        ? { ...runtime, gpus: 1 }
        : { ...runtime, gpus: 1, processes: 1 };
  const onCpu = ranks.device === 'cpu' || (ranks.processes ?? 1) > 1;
  return onCpu && ranks.precision === 'fp16' ? { ...ranks, precision: 'bf16' } : ranks;
}

/** A deterministic pseudo-random generator (mulberry32), so a failing shuffle can be replayed from its seed. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same value with the keys of every object in a random order (arrays keep their order). */
export function shuffleKeys<T>(value: T, random: () => number): T {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, random)) as T;
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, random)])) as T;
}
