// The grid `swavlab demo` submits: the paper's prototypes × Sinkhorn-iterations ablation, shrunk to synthetic
// data and a tiny backbone so that the full grid finishes within a few minutes on two CPU cores. The recipe is
// bench/trainer/pretrain_quality.py's, shortened: ε 0.015 rather than the paper's 0.05 (in runs this short, 0.05
// leaves the codes uniform and the backbone barely moves from its random init) and prototypes frozen for the first
// steps. Measured for the full demo's cells: k-NN 51–62 % against 40–46 % for the same backbone at random init
// (10 classes), about 35 s per run on one thread.
import type { GridSpecInput } from '@swavlab/spec';

export const DEMO_ROWS = 'swav.prototypes';
export const DEMO_COLUMNS = 'swav.sinkhorn_iterations';
export const DEMO_METRIC = 'knn_top1@20';

export interface DemoSize {
  prototypes: number[];
  iterations: number[];
  seeds: number[];
  images: number;
  epochs: number;
  /** Pixels per side; the crops are two of this size, plus two of half of it from 32 px on. */
  imageSize: 16 | 32;
  batchSize: number;
  /** Steps before the prototypes start to learn. */
  freezeSteps: number;
}

/** The full demo: 3 × 2 cells × 2 seeds. */
export const FULL_DEMO: DemoSize = {
  prototypes: [30, 100, 300],
  iterations: [1, 3],
  seeds: [1, 2],
  images: 1024,
  epochs: 12,
  imageSize: 32,
  batchSize: 64,
  freezeSteps: 20,
};

/** `--quick` (the smoke test): 2 × 2 cells, one seed, a few steps on small images. */
export const QUICK_DEMO: DemoSize = {
  prototypes: [30, 300],
  iterations: [1, 3],
  seeds: [1],
  images: 256,
  epochs: 3,
  imageSize: 16,
  batchSize: 32,
  freezeSteps: 0,
};

/** `2x32+2x16` from 32 px on, `2x16` below. */
export function demoCrops(size: DemoSize): string {
  return size.imageSize >= 32 ? `2x${size.imageSize}+2x${size.imageSize / 2}` : `2x${size.imageSize}`;
}

export function demoGrid(size: DemoSize): GridSpecInput {
  const quick = size === QUICK_DEMO;
  return {
    name: quick ? 'demo (quick): prototypes x sinkhorn iterations' : 'demo: prototypes x sinkhorn iterations',
    tags: ['demo'],
    base: {
      data: {
        source: 'synthetic',
        num_images: size.images,
        num_classes: 10,
        image_size: size.imageSize,
        test_fraction: 0.25,
      },
      model: { arch: 'tiny', small_stem: true, hidden_mlp: 128, feat_dim: 32 },
      swav: {
        crops: demoCrops(size),
        freeze_prototypes_iters: size.freezeSteps,
        epsilon: 0.015,
        queue_length: 0,
      },
      optim: {
        optimizer: 'sgd',
        base_lr: 0.1,
        final_lr: 0.001,
        warmup_epochs: 0,
        start_warmup: 0,
        weight_decay: 1e-5,
        batch_size: size.batchSize,
        epochs: size.epochs,
      },
      runtime: { device: 'auto', workers: 0, threads: 1 },
      checkpoint: { every_epochs: 0, keep_last: 1 },
      eval: { knn: { k: [20], temperature: 0.07 }, linear: null },
    },
    axes: { [DEMO_ROWS]: size.prototypes, [DEMO_COLUMNS]: size.iterations },
    seeds: size.seeds,
    metric: { name: DEMO_METRIC, goal: 'max' },
  };
}
