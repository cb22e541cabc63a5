import { z } from 'zod';
import { Crops } from './crops.js';
import { DATA_SOURCES, PATH_SOURCES } from './data-sources.js';
import { WHEN_FIELDS_VALID } from './issues.js';
import { applyRecipe, RECIPE_NAMES } from './recipes.js';
import { checkSpecRules } from './spec-rules.js';

/**
 * The experiment spec (wire format: JSON, snake_case). Every field is optional and defaults to the paper's setting
 * where the paper has one. Objects are strict. This is the only place a field, default or limit is written: the
 * Python trainer validates with what scripts/write-python.mjs generates from it (docs/spec.md).
 */

const TAG = /^[A-Za-z0-9_.:/-]+$/;

export const Seed = z
  .int()
  .min(0)
  .max(2 ** 31 - 1);
export const Tags = z.array(z.string().min(1).max(64).regex(TAG)).max(32);

// A class folder name: one path component, never '.' or '..'. The JSON Schema states the pattern (the Python
// trainer checks it from there); the refinement words the error.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters a folder name cannot hold
const CLASS_NAME = /^(?!\.\.?$)[^/\\\x00]+$/;
const ClassName = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => CLASS_NAME.test(name), {
    message: 'must be a folder name (no "/", "\\", NUL, "." or "..")',
  })
  .meta({ pattern: CLASS_NAME.source });

/** Per-crop augmentations (SwAV §3.1 / the release's multi-crop transforms); the defaults are the paper's. */
const Augment = z.strictObject({
  flip_p: z.number().min(0).max(1).default(0.5).meta({ description: 'probability of a horizontal flip' }),
  jitter_strength: z.number().min(0).max(2.5).default(1).meta({
    description: 'colour jitter strength s: brightness, contrast and saturation 0.8 s, hue 0.2 s (0 = none)',
  }),
  jitter_p: z.number().min(0).max(1).default(0.8).meta({ description: 'probability of the colour jitter' }),
  grayscale_p: z
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .meta({ description: 'probability of a grayscale conversion' }),
  blur_p: z.number().min(0).max(1).default(0.5).meta({
    description: 'probability of a Gaussian blur of radius uniform in [0.1, 2] px',
  }),
});

const Data = z.strictObject({
  source: z
    .enum(DATA_SOURCES)
    .default('synthetic')
    .meta({
      description:
        'synthetic | digits (scikit-learn) | folder (class sub-folders, split by test_fraction for evaluation) | ' +
        'imagefolder (ImageNet layout: train/<class>, val/<class>) | cifar10 | cifar100 (python-pickle batches) | ' +
        'stl10 (binary files; pretrains on the unlabeled split)',
    }),
  path: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .meta({
      description: `dataset directory (sources ${PATH_SOURCES.join(', ')}), inside one of SWAVLAB_DATA_ROOTS`,
    }),
  classes: z
    .array(ClassName)
    .min(2)
    .max(100_000)
    .optional()
    .meta({ description: 'imagefolder only: the class folders to use (an ImageNet-100 style subset)' }),
  classes_file: z.string().min(1).max(4096).optional().meta({
    description:
      'imagefolder only: a text file inside SWAVLAB_DATA_ROOTS listing the classes to use, one per line',
  }),
  num_images: z.int().min(16).max(10_000_000).default(4096).meta({ description: 'synthetic only' }),
  num_classes: z.int().min(2).max(1000).default(10).meta({ description: 'synthetic only' }),
  image_size: z.int().min(8).max(1024).default(32).meta({ description: 'synthetic and digits only' }),
  test_fraction: z.number().gt(0).lte(0.9).default(0.2).meta({
    description: 'synthetic, digits and folder: the share of labelled images held out for evaluation',
  }),
  augment: Augment.prefault({}).meta({ description: 'the augmentations of every pretraining crop' }),
  seed: Seed.optional().meta({
    description:
      "the seed of the data (synthetic images, held-out splits); absent = the run's seed. Fixed, a grid's seeds " +
      'vary only the training',
  }),
});
const Model = z.strictObject({
  arch: z
    .enum(['tiny', 'resnet18', 'resnet50', 'resnet50w2', 'resnet50w4', 'resnet50w5'])
    .default('resnet50'),
  small_stem: z.boolean().default(false),
  hidden_mlp: z.int().min(0).max(16384).default(2048).meta({ description: '0 = linear projection head' }),
  feat_dim: z.int().min(2).max(4096).default(128),
  init_from: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .meta({
      description:
        "a checkpoint in the authors' release format (state_dict, optional module. prefix, projection_head.* and " +
        'prototypes.weight), inside SWAVLAB_DATA_ROOTS; the model starts from it',
    }),
});

/** The paper's K (ImageNet); a spec that keeps it on a small dataset has not been tuned for it. */
export const DEFAULT_PROTOTYPES = 3000;

const Swav = z.strictObject({
  prototypes: z.int().min(2).max(200_000).default(DEFAULT_PROTOTYPES),
  temperature: z
    .number()
    .min(0.001)
    .max(10)
    .default(0.1)
    .meta({ description: 'τ of Eq. 2; ≥ 0.001 keeps the logits (≤ 1/τ) finite in fp16' }),
  epsilon: z.number().min(0.001).max(10).default(0.05).meta({
    description: 'ε of Sinkhorn-Knopp (Eq. 3); below 0.001 the codes are one-hot to fp32 precision',
  }),
  sinkhorn_iterations: z.int().min(1).max(1000).default(3),
  assignment: z.enum(['soft', 'hard']).default('soft'),
  prototypes_mode: z.enum(['learned', 'fixed']).default('learned'),
  freeze_prototypes_iters: z.int().min(0).max(10_000_000).default(313),
  queue_length: z.int().min(0).max(1_000_000).default(0).meta({
    description:
      '0 = no queue; otherwise a multiple of optim.batch_size × the ranks (runtime.gpus or runtime.processes)',
  }),
  queue_start_epoch: z.int().min(0).max(10000).default(15),
  crops: Crops,
  crops_for_assign: z
    .array(z.int().min(0).max(4095))
    .min(1)
    .max(64)
    .default(() => [0, 1])
    .meta({ description: 'distinct indices into the flattened crop list whose codes are computed' }),
});

const Optim = z.strictObject({
  optimizer: z.enum(['lars', 'sgd']).default('lars'),
  base_lr: z.number().min(1e-6).max(100).default(4.8),
  final_lr: z.number().min(0).lte(100).default(0.0048),
  warmup_epochs: z.int().min(0).max(10000).default(10),
  start_warmup: z.number().min(0).max(100).default(0.3),
  weight_decay: z.number().min(0).lte(1).default(1e-6),
  momentum: z.number().min(0).lt(1).default(0.9),
  batch_size: z.int().min(1).max(65536).default(64).meta({ description: 'per rank (GPU or CPU process)' }),
  epochs: z
    .int()
    .min(0)
    .max(10000)
    .default(100)
    .meta({ description: '0 = no pretraining: evaluate the initial weights (random, or model.init_from)' }),
});

const Runtime = z.strictObject({
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  gpus: z
    .int()
    .min(1)
    .max(64)
    .default(1)
    .meta({ description: 'GPUs of the run, one torch.distributed rank (NCCL) each' }),
  processes: z
    .int()
    .min(1)
    .max(64)
    .default(1)
    .meta({ description: 'CPU processes of a CPU run, one torch.distributed rank (gloo) each' }),
  precision: z.enum(['fp32', 'fp16', 'bf16']).default('fp32'),
  sync_bn: z.boolean().default(true),
  workers: z.int().min(0).max(64).default(4),
  threads: z.int().min(0).max(256).default(0).meta({ description: 'torch intra-op threads; 0 = all cores' }),
});

const Checkpoint = z.strictObject({
  every_epochs: z.int().min(0).max(10000).default(1).meta({ description: '0 = only at the end' }),
  keep_last: z.int().min(1).max(1000).default(2),
});

const Knn = z.strictObject({
  k: z
    .array(z.int().min(1).max(10000))
    .min(1)
    .max(16)
    .default(() => [20, 200]),
  temperature: z.number().min(0.001).max(10).default(0.07),
});

export const LINEAR_PROTOCOLS = ['fast', 'paper'] as const;

const Linear = z.strictObject({
  protocol: z
    .enum(LINEAR_PROTOCOLS)
    .default('fast')
    .meta({
      description:
        "paper: the authors' eval_linear.py (frozen backbone, linear layer trained on augmented crops, results " +
        'linear_top1/5); fast: a probe on features computed once (results linear_fast_top1/5), for grids and CI',
    }),
  epochs: z.int().min(1).max(10000).default(100),
  lr: z.number().min(1e-6).max(100).default(0.3),
  batch_size: z.int().min(1).max(65536).default(256),
  weight_decay: z.number().min(0).max(1).default(1e-6),
});

export const SEMISUP_FRACTIONS = [0.01, 0.1] as const;

const Semisup = z.strictObject({
  fraction: z
    .union(SEMISUP_FRACTIONS.map((f) => z.literal(f)))
    .default(0.1)
    .meta({ description: 'share of the labelled training images fine-tuned on: 0.01 or 0.1' }),
  subset_file: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .meta({
      description:
        'a text file inside SWAVLAB_DATA_ROOTS listing the labelled images to use (file names or paths relative to ' +
        'the training split); without it the subset is drawn per class from the seed',
    }),
  epochs: z.int().min(1).max(10000).default(20),
  batch_size: z.int().min(1).max(65536).default(256),
  lr_trunk: z.number().min(1e-6).max(100).nullable().default(null).meta({
    description: "null = the release's value for the fraction (0.02 for 0.01, 0.01 for 0.1)",
  }),
  lr_head: z.number().min(1e-6).max(100).nullable().default(null).meta({
    description: "null = the release's value for the fraction (5 for 0.01, 0.2 for 0.1)",
  }),
  decay_epochs: z
    .array(z.int().min(1).max(10000))
    .max(16)
    .default(() => [12, 16])
    .meta({ description: 'epochs at which both learning rates are multiplied by gamma' }),
  gamma: z.number().gt(0).lte(1).default(0.2),
  weight_decay: z.number().min(0).max(1).default(0),
});

/** The spec's `eval` section; also the body of a later evaluation of a run's checkpoint (POST /v1/runs/{id}/evaluations). */
export const Eval = z.strictObject({
  every_epochs: z.int().min(0).max(10000).default(0).meta({ description: '0 = only at the end of the run' }),
  knn: Knn.nullable().prefault({}).meta({ description: 'null skips k-NN evaluation' }),
  linear: Linear.nullable().prefault({}).meta({ description: 'null skips the linear probe' }),
  semisup: Semisup.nullable().default(null).meta({
    description: "the paper's semi-supervised fine-tuning (Table 2); null (the default) skips it",
  }),
});

// The fields that define a run (everything but metadata), in the order the JSON Schema lists them.
const SettingsShape = {
  seed: Seed.default(31),
  data: Data.prefault({}),
  model: Model.prefault({}),
  swav: Swav.prefault({}),
  optim: Optim.prefault({}),
  runtime: Runtime.prefault({}),
  checkpoint: Checkpoint.prefault({}),
  eval: Eval.prefault({}),
};

/** What a recipe may set: any run-defining field, in the input form. */
export type SpecSettingsInput = z.input<z.ZodObject<typeof SettingsShape>>;

/**
 * Field-level validation only (types, ranges, unknown keys, defaults), without the rules that relate
 * fields to each other. A grid's base is checked with this: an axis may supply what the base lacks.
 */
export const ExperimentSpecFields = z.strictObject({
  name: z.string().min(1).max(200).optional().meta({ description: 'metadata, not part of the spec hash' }),
  recipe: z.enum(RECIPE_NAMES).optional().meta({
    description:
      'a preset (GET /v1/recipes) whose fields the spec overrides; metadata: the stored spec is the expanded one',
  }),
  tags: Tags.default(() => []).meta({ description: 'metadata, not part of the spec hash' }),
  ...SettingsShape,
});

/**
 * The complete experiment spec: the named recipe expanded underneath the given fields, field validation, then the
 * cross-field rules of `spec-rules.ts`.
 */
export const ExperimentSpec = z.preprocess(
  applyRecipe,
  ExperimentSpecFields.superRefine(checkSpecRules, WHEN_FIELDS_VALID),
);

/** What a client may send (every field optional, crops as notation or structured). */
export type ExperimentSpecInput = z.input<typeof ExperimentSpecFields>;
/** A validated spec with every default applied and crops in the structured form. */
export type ExperimentSpec = z.output<typeof ExperimentSpec>;
