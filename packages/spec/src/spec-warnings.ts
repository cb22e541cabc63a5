import { rankCount } from './devices.js';
import { DEFAULT_PROTOTYPES, type ExperimentSpec } from './experiment-spec.js';
import type { Issue } from './issues.js';

// Sinkhorn (Eq. 3) spreads the batch equally over the K prototypes; with fewer samples than prototypes
// that constraint cannot be met by confident codes, so the codes flatten towards uniform and the loss
// sits near ln K (the paper's small-batch runs add a queue for this reason).
function sinkhornSampleWarning(spec: ExperimentSpec): Issue | undefined {
  const { prototypes, queue_length } = spec.swav;
  const ranks = rankCount(spec.runtime);
  const batch = spec.optim.batch_size * ranks;
  const samples = batch + queue_length;
  if (samples >= prototypes) return undefined;
  const queue = Math.ceil((prototypes - batch) / batch) * batch;
  const seen = queue_length > 0 ? `${batch} batch samples + ${queue_length} queued` : `${batch} samples`;
  return {
    path: 'swav.prototypes',
    message:
      `Sinkhorn spreads ${seen} over ${prototypes} prototypes; with fewer samples than prototypes the codes ` +
      `flatten towards uniform and the run may not learn. Set swav.queue_length to ${queue} or more (a multiple ` +
      `of optim.batch_size × ranks = ${batch}), raise optim.batch_size, or lower swav.prototypes to ${batch} or less`,
  };
}

function unusedQueueWarning(spec: ExperimentSpec): Issue | undefined {
  const { queue_length, queue_start_epoch } = spec.swav;
  const { epochs } = spec.optim;
  if (queue_length === 0 || epochs === 0 || queue_start_epoch < epochs) return undefined;
  return {
    path: 'swav.queue_start_epoch',
    message: `is ${queue_start_epoch} but the run trains ${epochs} epochs, so the queue is never used`,
  };
}

/** Below this many pretraining images a dataset counts as small: the paper's ImageNet defaults rarely learn there. */
export const SMALL_DATASET_IMAGES = 50_000;

// Pretraining images of the sources whose size the spec alone tells (CIFAR's train split, STL-10's unlabeled one).
const FIXED_SIZES: Partial<Record<ExperimentSpec['data']['source'], number>> = {
  digits: 1797,
  cifar10: 50_000,
  cifar100: 50_000,
  stl10: 100_000,
};

/** The pretraining images of `spec`'s dataset when the spec tells them; folders need counting (undefined). */
export function knownImageCount(spec: ExperimentSpec): number | undefined {
  return spec.data.source === 'synthetic' ? spec.data.num_images : FIXED_SIZES[spec.data.source];
}

// A small dataset with the untouched ImageNet defaults (K 3000 is their tell): point to the small-data recipe.
function smallDataWarning(spec: ExperimentSpec, images: number | undefined): Issue | undefined {
  if (images === undefined || images >= SMALL_DATASET_IMAGES) return undefined;
  if (spec.recipe !== undefined || spec.swav.prototypes !== DEFAULT_PROTOTYPES) return undefined;
  return {
    path: 'recipe',
    message:
      `the dataset has ${images} images (fewer than ${SMALL_DATASET_IMAGES}), and the paper's defaults are tuned ` +
      "for ImageNet's 1.28 million: on small data they rarely learn. Start from the small-data recipe " +
      '("recipe": "small-data", or swavlab submit --recipe small-data) and set what you need over it',
  };
}

/** What a caller knows about the dataset beyond the spec (the API counts a folder's images). */
export interface DatasetFacts {
  /** Pretraining images; undefined when unknown (or at least SMALL_DATASET_IMAGES). */
  images?: number;
}

/** Problems that do not make a spec invalid but will likely waste the run; shown at submit time. */
export function specWarnings(spec: ExperimentSpec, facts: DatasetFacts = {}): Issue[] {
  return [
    sinkhornSampleWarning(spec),
    unusedQueueWarning(spec),
    smallDataWarning(spec, facts.images ?? knownImageCount(spec)),
  ].filter((w): w is Issue => w !== undefined);
}
