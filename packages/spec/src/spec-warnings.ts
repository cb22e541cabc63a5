import { rankCount } from './devices.js';
import type { ExperimentSpec } from './experiment-spec.js';
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

/** Problems that do not make a spec invalid but will likely waste the run; shown at submit time. */
export function specWarnings(spec: ExperimentSpec): Issue[] {
  return [sinkhornSampleWarning(spec), unusedQueueWarning(spec)].filter((w): w is Issue => w !== undefined);
}
