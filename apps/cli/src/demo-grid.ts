// The grid `swavlab demo` submits: the paper's prototypes × Sinkhorn-iterations ablation, shrunk to synthetic
// data, a tiny backbone and 16 px images so that the full grid finishes within minutes on two CPU cores.
// ε 0.02 rather than the paper's 0.05: in runs this short, 0.05 leaves the codes uniform and the backbone
// barely moves from its random init (bench/trainer/pretrain_quality.py).
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
}

/** The full demo: 3 × 2 cells × 2 seeds. */
export const FULL_DEMO: DemoSize = {
  prototypes: [30, 100, 300],
  iterations: [1, 3],
  seeds: [1, 2],
  images: 512,
  epochs: 6,
};

/** `--quick` (the smoke test): 2 × 2 cells, one seed, half the data and epochs. */
export const QUICK_DEMO: DemoSize = {
  prototypes: [30, 300],
  iterations: [1, 3],
  seeds: [1],
  images: 256,
  epochs: 3,
};

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
        image_size: 16,
        test_fraction: 0.25,
      },
      model: { arch: 'tiny', small_stem: true, hidden_mlp: 128, feat_dim: 32 },
      swav: { crops: '2x16', freeze_prototypes_iters: 0, epsilon: 0.02, queue_length: 0 },
      optim: {
        optimizer: 'sgd',
        base_lr: 0.1,
        final_lr: 0.001,
        warmup_epochs: 0,
        start_warmup: 0,
        batch_size: 32,
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
