// Did the run learn anything? Its k-NN after the first evaluation against the same backbone at random init,
// which the trainer reports beside every k-NN result (`random_init_knn_top1@<k>`). An untrained convolutional
// network is already a fair k-NN feature extractor on small images, so a run below it learned nothing usable,
// whatever its loss says.
import { z } from 'zod';

const RANDOM_INIT_PREFIX = 'random_init_';
const KNN = /^knn_top1@([1-9][0-9]*)$/;

/**
 * What holds SwAV back on small data, most likely first, with the spec fields to change
 * (packages/trainer/docs/learning.md has the runs behind each).
 */
export const LEARNING_CAUSES = [
  "crops that miss the content, or blur that wipes it out: on images of 16-64 px the paper's crop scales " +
    '(0.05-0.14 for the small crops) and Gaussian blur leave nothing the views share — use larger scales in ' +
    'swav.crops (e.g. 2x32(0.3-1)+4x16(0.15-0.4)) and data.augment.blur_p 0, or start from recipe small-data',
  'batch far below the prototypes: Sinkhorn spreads each batch evenly over K prototypes, so with B ≪ K the ' +
    'codes are near uniform and the loss stays at ln K — lower swav.prototypes to at most optim.batch_size × ' +
    'ranks, or add swav.queue_length',
  'codes too soft: with few samples per batch swav.epsilon 0.05 leaves them uniform — try 0.015-0.03',
  'a colour shortcut: crops of one image share its colours, so the views can agree on colour alone — raise ' +
    'data.augment.grayscale_p (0.8 in recipe small-data; the paper: 0.2) unless colour is what tells your ' +
    'classes apart, and keep data.augment.jitter_p',
  'too few steps: raise optim.epochs',
] as const;

export const LearningCheckView = z
  .object({
    metric: z.string().meta({ description: 'the k-NN result compared, e.g. knn_top1@20' }),
    step: z.int().meta({ description: 'the step of the first evaluation that has both values' }),
    value: z.number(),
    random_init: z.number().meta({ description: 'the same backbone, untrained, on the same splits' }),
    gain_points: z.number().meta({ description: '100 × (value − random_init)' }),
    learned: z.boolean().meta({ description: 'value above random_init' }),
    message: z.string(),
    causes: z
      .array(z.string())
      .meta({ description: 'likely causes and what to change, when it did not learn' }),
  })
  .meta({ id: 'LearningCheck' });
export type LearningCheckView = z.output<typeof LearningCheckView>;

/** The evaluation fields the check reads. */
export interface EvaluationValue {
  name: string;
  value: number | null;
  step: number;
}

function percent(value: number): string {
  return `${(100 * value).toFixed(1)} %`;
}

/**
 * The check at the first evaluation step holding both `knn_top1@k` and `random_init_knn_top1@k` (the smallest such
 * k); null before that, or for runs that do not evaluate k-NN.
 */
export function learningCheck(evaluations: readonly EvaluationValue[]): LearningCheckView | null {
  const byStep = new Map<number, Map<string, number>>();
  for (const { name, value, step } of evaluations) {
    if (value === null || !Number.isFinite(value)) continue;
    const values = byStep.get(step) ?? new Map<string, number>();
    values.set(name, value);
    byStep.set(step, values);
  }
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    const values = byStep.get(step) ?? new Map<string, number>();
    const ks = [...values.keys()]
      .map((name) => KNN.exec(name)?.[1])
      .filter((k): k is string => k !== undefined && values.has(`${RANDOM_INIT_PREFIX}knn_top1@${k}`))
      .map(Number)
      .sort((a, b) => a - b);
    const k = ks[0];
    if (k === undefined) continue;
    const metric = `knn_top1@${k}`;
    const value = values.get(metric) ?? 0;
    const randomInit = values.get(`${RANDOM_INIT_PREFIX}${metric}`) ?? 0;
    const gain = 100 * (value - randomInit);
    const learned = value > randomInit;
    const comparison = `${metric} ${percent(value)} against ${percent(randomInit)} for the same backbone at random init`;
    return {
      metric,
      step,
      value,
      random_init: randomInit,
      gain_points: Math.round(gain * 100) / 100,
      learned,
      message: learned
        ? `${comparison} (+${gain.toFixed(1)} points)`
        : `${comparison} at the first evaluation (step ${step}): the features are no better than an untrained network`,
      causes: learned ? [] : [...LEARNING_CAUSES],
    };
  }
  return null;
}
