import type { SpecSettingsInput } from './experiment-spec.js';
import { isPlainObject } from './paths.js';

/** A named preset of spec fields; a spec that names it (`"recipe": name`) overrides any of them. */
export interface Recipe {
  /** What the recipe reproduces, where its settings come from, and what to override. */
  readonly description: string;
  /** The published source of the settings. */
  readonly source: string;
  /** The fields the recipe sets; everything else keeps the spec defaults. */
  readonly spec: Readonly<SpecSettingsInput>;
}

const RELEASE = 'https://github.com/facebookresearch/swav/tree/main/scripts';

// The paper's ImageNet setting shared by the three ImageNet recipes (Caron et al. 2020, Sec. 4 and Appendix A).
const IMAGENET = {
  data: { source: 'imagefolder' },
  model: { arch: 'resnet50', small_stem: false, hidden_mlp: 2048, feat_dim: 128 },
  swav: {
    prototypes: 3000,
    temperature: 0.1,
    epsilon: 0.05,
    sinkhorn_iterations: 3,
    crops: '2x224+6x96',
    crops_for_assign: [0, 1],
  },
  runtime: { precision: 'fp16', sync_bn: true },
  eval: { linear: { protocol: 'paper', epochs: 100, lr: 0.3, batch_size: 256, weight_decay: 1e-6 } },
} as const satisfies Recipe['spec'];

export const RECIPES = {
  'swav-bs4096': {
    description:
      "The paper's main ImageNet recipe: ResNet-50, 2x224+6x96 multi-crop, K 3000, global batch 4096 " +
      '(64 per GPU on 64 GPUs), LARS lr 4.8 → 0.0048 with 10 warm-up epochs from 0.3, no queue, 800 epochs ' +
      '(75.3 % linear top-1). Set data.path to an ImageNet-layout folder; on fewer GPUs keep the global batch ' +
      'or use swav-bs256-queue.',
    source: `${RELEASE}/swav_800ep_pretrain.sh`,
    spec: {
      ...IMAGENET,
      swav: { ...IMAGENET.swav, queue_length: 0, freeze_prototypes_iters: 313 },
      optim: {
        optimizer: 'lars',
        base_lr: 4.8,
        final_lr: 0.0048,
        warmup_epochs: 10,
        start_warmup: 0.3,
        weight_decay: 1e-6,
        batch_size: 64,
        epochs: 800,
      },
      runtime: { ...IMAGENET.runtime, gpus: 64 },
    },
  },
  'swav-bs256-queue': {
    description:
      "The paper's small-batch ImageNet recipe: global batch 256 (64 per GPU on 4 GPUs) with a 3840-feature " +
      'queue from epoch 15 so that Sinkhorn sees 4096 samples, LARS lr 0.6 → 0.0006 without warm-up, prototypes ' +
      'frozen for the first 5005 iterations, 400 epochs (74.3 % linear top-1 in the release). Set data.path.',
    source: `${RELEASE}/swav_400ep_bs256_pretrain.sh`,
    spec: {
      ...IMAGENET,
      swav: { ...IMAGENET.swav, queue_length: 3840, queue_start_epoch: 15, freeze_prototypes_iters: 5005 },
      optim: {
        optimizer: 'lars',
        base_lr: 0.6,
        final_lr: 0.0006,
        warmup_epochs: 0,
        weight_decay: 1e-6,
        batch_size: 64,
        epochs: 400,
      },
      runtime: { ...IMAGENET.runtime, gpus: 4 },
    },
  },
  'swav-2x224': {
    description:
      "The paper's baseline without multi-crop: two 224 px crops with scales (0.08, 1), otherwise the 4096-batch " +
      'recipe, 400 epochs (the multi-crop ablation of Table 3). Set data.path.',
    source: `${RELEASE}/swav_400ep_2x224_pretrain.sh`,
    spec: {
      ...IMAGENET,
      swav: { ...IMAGENET.swav, crops: '2x224(0.08-1)', queue_length: 0, freeze_prototypes_iters: 313 },
      optim: {
        optimizer: 'lars',
        base_lr: 4.8,
        final_lr: 0.0048,
        warmup_epochs: 10,
        start_warmup: 0.3,
        weight_decay: 1e-6,
        batch_size: 64,
        epochs: 400,
      },
      runtime: { ...IMAGENET.runtime, gpus: 64 },
    },
  },
  cifar10: {
    description:
      "CIFAR-10 with solo-learn's published SwAV settings: ResNet-18 with the CIFAR stem, two 32 px crops with " +
      'scales (0.08, 1), K 3000, projection 2048 → 128, batch 256, a 3840-feature queue from epoch 50, prototypes ' +
      'frozen for 2 epochs (390 iterations), LARS lr 0.6 with 10 warm-up epochs, weight decay 1e-6, 1000 epochs. ' +
      'solo-learn clips LARS learning rates and excludes biases and norms from weight decay, which swavlab does ' +
      'as the SwAV release does. Set data.path to the cifar-10-batches-py folder.',
    source: 'https://github.com/vturrisi/solo-learn/blob/main/scripts/pretrain/cifar/swav.yaml',
    spec: {
      data: { source: 'cifar10' },
      model: { arch: 'resnet18', small_stem: true, hidden_mlp: 2048, feat_dim: 128 },
      swav: {
        prototypes: 3000,
        temperature: 0.1,
        epsilon: 0.05,
        sinkhorn_iterations: 3,
        crops: '2x32(0.08-1)',
        crops_for_assign: [0, 1],
        queue_length: 3840,
        queue_start_epoch: 50,
        freeze_prototypes_iters: 390,
      },
      optim: {
        optimizer: 'lars',
        base_lr: 0.6,
        final_lr: 0.0006,
        warmup_epochs: 10,
        start_warmup: 0,
        weight_decay: 1e-6,
        batch_size: 256,
        epochs: 1000,
      },
      runtime: { precision: 'fp16' },
    },
  },
  stl10: {
    description:
      "STL-10 (96 px): lightly's SwAV settings (ResNet-18, projection 512 → 128, 512 prototypes, multi-crop " +
      "with lightly's SwaVTransform ratios scaled to 96 px: 2x96 + 6x48) pretrained on the 100k unlabeled " +
      "images with batch 512 as in lightly's CIFAR-10 benchmark (so that Sinkhorn sees as many samples as there " +
      "are prototypes without a queue), and solo-learn's small-data optimisation (LARS lr 0.6, 10 warm-up " +
      'epochs, weight decay 1e-6) for 400 epochs. Set data.path to the stl10_binary folder.',
    source: 'https://docs.lightly.ai/self-supervised-learning/examples/swav.html',
    spec: {
      data: { source: 'stl10' },
      model: { arch: 'resnet18', small_stem: false, hidden_mlp: 512, feat_dim: 128 },
      swav: {
        prototypes: 512,
        temperature: 0.1,
        epsilon: 0.05,
        sinkhorn_iterations: 3,
        crops: '2x96(0.14-1)+6x48(0.05-0.14)',
        crops_for_assign: [0, 1],
        queue_length: 0,
        freeze_prototypes_iters: 313,
      },
      optim: {
        optimizer: 'lars',
        base_lr: 0.6,
        final_lr: 0.0006,
        warmup_epochs: 10,
        start_warmup: 0,
        weight_decay: 1e-6,
        batch_size: 512,
        epochs: 400,
      },
      runtime: { precision: 'fp16' },
    },
  },
  'small-data': {
    description:
      'Datasets of a few thousand small images (swavlab measured it on 32 px folders of 1,500 images; see ' +
      'packages/trainer/docs/learning.md): ResNet-18 with the small stem, 64 prototypes (no more than the batch), ' +
      'epsilon 0.015 so that the codes are not uniform from the start, prototypes frozen for 50 steps, SGD 0.1, ' +
      'crops that keep most of a small image (2x32 at scales 0.3-1 + 4x16 at 0.15-0.4), no blur, which wipes ' +
      'out 16-32 px crops, and grayscale on 80 % of the crops (the paper: 20 %) so that the views cannot agree ' +
      "on an image's colours alone. Set data.source and data.path, and the crop sizes to your images; where " +
      'colour is what tells your classes apart, lower data.augment.grayscale_p. On a CPU, model.arch tiny trains ' +
      'about ten times faster.',
    source: 'packages/trainer/docs/learning.md',
    spec: {
      data: {
        source: 'folder',
        augment: { flip_p: 0.5, jitter_strength: 1, jitter_p: 0.8, grayscale_p: 0.8, blur_p: 0 },
      },
      model: { arch: 'resnet18', small_stem: true, hidden_mlp: 512, feat_dim: 64 },
      swav: {
        prototypes: 64,
        temperature: 0.1,
        epsilon: 0.015,
        sinkhorn_iterations: 3,
        crops: '2x32(0.3-1)+4x16(0.15-0.4)',
        crops_for_assign: [0, 1],
        queue_length: 0,
        freeze_prototypes_iters: 50,
      },
      optim: {
        optimizer: 'sgd',
        base_lr: 0.1,
        final_lr: 0.001,
        warmup_epochs: 0,
        start_warmup: 0,
        weight_decay: 1e-5,
        batch_size: 64,
        epochs: 50,
      },
    },
  },
} as const satisfies Record<string, Recipe>;

export type RecipeName = keyof typeof RECIPES;
export const RECIPE_NAMES = Object.keys(RECIPES) as [RecipeName, ...RecipeName[]];

function isRecipeName(name: unknown): name is RecipeName {
  return typeof name === 'string' && Object.hasOwn(RECIPES, name);
}

/** `override` laid over `base`: objects merge key by key, anything else (arrays, null, scalars) replaces. */
function overlay(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = overlay(base[key], value);
  return out;
}

/**
 * The spec input with its recipe's fields filled in underneath (the spec's own fields win). Input without a
 * known `recipe` is returned as is, so validation reports an unknown recipe by name.
 */
export function applyRecipe(input: unknown): unknown {
  if (!isPlainObject(input) || !isRecipeName(input.recipe)) return input;
  return overlay(RECIPES[input.recipe].spec, input);
}
