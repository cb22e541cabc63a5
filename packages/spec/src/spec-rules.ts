import type { z } from 'zod';
import { PATH_SOURCES } from './data-sources.js';
import type { ExperimentSpecFields } from './experiment-spec.js';
import { runRules, type SpecRule } from './rule-engine.js';

type Fields = z.output<typeof ExperimentSpecFields>;
type Context = z.core.$RefinementCtx<Fields>;

const source = { field: 'data.source' } as const;
const needsPath = { in: [source, PATH_SOURCES] } as const;
const gpus = { field: 'runtime.gpus' } as const;
const processes = { field: 'runtime.processes' } as const;
const device = { field: 'runtime.device' } as const;
const item = { var: 'item' } as const;
const index = { var: 'index' } as const;

/** `{each: true}` rule reporting an entry equal to an earlier one of the same array. */
function distinctEntries(path: string, message: string): SpecRule {
  return { path, each: true, when: { lt: [{ var: 'first' }, index] }, message };
}

/**
 * The rules that relate spec fields to each other, as data: `checkSpecRules` runs them here and the Python trainer
 * runs the same list from the generated `spec_schema.json`. They see a spec whose fields are all valid (defaults
 * applied, crops structured).
 */
export const SPEC_RULES: readonly SpecRule[] = [
  {
    path: 'data.path',
    when: { and: [needsPath, { not: { present: 'data.path' } }] },
    message: 'is required when data.source is "{data.source}"',
  },
  {
    path: 'data.path',
    when: { and: [{ not: needsPath }, { present: 'data.path' }] },
    message: `is only allowed when data.source is one of ${PATH_SOURCES.join(', ')}; data.source is "{data.source}"`,
  },
  ...['classes', 'classes_file'].map(
    (field): SpecRule => ({
      path: `data.${field}`,
      when: { and: [{ present: `data.${field}` }, { ne: [source, 'imagefolder'] }] },
      message: 'is only allowed when data.source is "imagefolder"; data.source is "{data.source}"',
    }),
  ),
  {
    path: 'data.classes_file',
    when: { and: [{ present: 'data.classes' }, { present: 'data.classes_file' }] },
    message: 'cannot be combined with data.classes; list the classes in one place',
  },
  distinctEntries('data.classes', 'duplicates data.classes[{first}] ("{item}")'),
  {
    path: 'swav.crops_for_assign',
    each: true,
    let: { total: { sum: [{ field: 'swav.crops' }, 'count'] }, last: { sub: [{ var: 'total' }, 1] } },
    when: { ge: [item, { var: 'total' }] },
    message: 'index {item} is out of range: swav.crops defines {total} crops (valid indices 0..{last})',
  },
  distinctEntries(
    'swav.crops_for_assign',
    'duplicates swav.crops_for_assign[{first}] ({item}); indices must be distinct',
  ),
  // The queue is filled batch by batch on every rank, so its length must be whole global batches.
  {
    path: 'swav.queue_length',
    let: {
      ranks: { max: [gpus, processes] },
      step: { mul: [{ field: 'optim.batch_size' }, { var: 'ranks' }] },
    },
    when: {
      and: [
        { gt: [{ field: 'swav.queue_length' }, 0] },
        { ne: [{ mod: [{ field: 'swav.queue_length' }, { var: 'step' }] }, 0] },
      ],
    },
    message:
      'must be a multiple of batch_size × ranks ({optim.batch_size} × {ranks} = {step}); got {swav.queue_length}',
  },
  // runtime.gpus counts GPUs and runtime.processes CPU processes; a run is one or the other.
  {
    path: 'runtime.processes',
    when: { and: [{ gt: [gpus, 1] }, { gt: [processes, 1] }] },
    message:
      'cannot be combined with runtime.gpus {runtime.gpus}: a run has one rank per GPU or one per CPU process, not both',
  },
  {
    path: 'runtime.gpus',
    when: { and: [{ gt: [gpus, 1] }, { eq: [device, 'cpu'] }] },
    message:
      'needs GPUs but runtime.device is "cpu"; for several CPU processes set runtime.processes instead',
  },
  {
    path: 'runtime.processes',
    when: { and: [{ gt: [processes, 1] }, { eq: [device, 'cuda'] }] },
    message:
      'is for CPU runs but runtime.device is "cuda"; a CUDA run has one process per GPU (runtime.gpus)',
  },
  // fp16 autocast exists only on CUDA; a CPU run asking for it would fail once a worker starts it.
  {
    path: 'runtime.precision',
    when: {
      and: [
        { eq: [{ field: 'runtime.precision' }, 'fp16'] },
        { or: [{ eq: [device, 'cpu'] }, { gt: [processes, 1] }] },
      ],
    },
    message: 'fp16 needs a CUDA device; use bf16 or fp32 on CPU',
  },
  // With 0 epochs nothing is trained, so the schedule fields do not matter.
  {
    path: 'optim.warmup_epochs',
    when: {
      and: [
        { gt: [{ field: 'optim.epochs' }, 0] },
        { gt: [{ field: 'optim.warmup_epochs' }, { field: 'optim.epochs' }] },
      ],
    },
    message: 'must be <= optim.epochs ({optim.epochs}); got {optim.warmup_epochs}',
  },
  {
    path: 'eval.semisup.decay_epochs',
    each: true,
    let: { previous: { at: [{ field: 'eval.semisup.decay_epochs' }, { sub: [index, 1] }] } },
    when: { and: [{ gt: [index, 0] }, { le: [item, { var: 'previous' }] }] },
    message: 'must be greater than the previous entry ({previous}); list the epochs in increasing order',
  },
];

/** Runs `SPEC_RULES` inside the spec's zod schema; they run once every field is individually valid. */
export function checkSpecRules(spec: Fields, ctx: Context): void {
  for (const issue of runRules(SPEC_RULES, spec)) ctx.addIssue({ code: 'custom', ...issue });
}
