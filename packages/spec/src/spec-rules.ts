import type { z } from 'zod';
import { totalCrops } from './crops.js';
import { PATH_SOURCES } from './data-sources.js';
import { rankCount } from './devices.js';
import type { ExperimentSpecFields } from './experiment-spec.js';

type Fields = z.output<typeof ExperimentSpecFields>;
type Context = z.core.$RefinementCtx<Fields>;

function dataSourceRule(spec: Fields, ctx: Context): void {
  const { source, path, classes, classes_file } = spec.data;
  const needsPath = (PATH_SOURCES as readonly string[]).includes(source);
  if (needsPath && path === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'path'],
      input: path,
      message: `is required when data.source is "${source}"`,
    });
  }
  if (!needsPath && path !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'path'],
      input: path,
      message: `is only allowed when data.source is one of ${PATH_SOURCES.join(', ')}; data.source is "${source}"`,
    });
  }
  for (const [field, value] of [
    ['classes', classes],
    ['classes_file', classes_file],
  ] as const) {
    if (value !== undefined && source !== 'imagefolder') {
      ctx.addIssue({
        code: 'custom',
        path: ['data', field],
        input: value,
        message: `is only allowed when data.source is "imagefolder"; data.source is "${source}"`,
      });
    }
  }
  if (classes !== undefined && classes_file !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'classes_file'],
      input: classes_file,
      message: 'cannot be combined with data.classes; list the classes in one place',
    });
  }
  const seen = new Map<string, number>();
  for (const [i, name] of (classes ?? []).entries()) {
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'classes', i],
        input: name,
        message: `duplicates data.classes[${earlier}] ("${name}")`,
      });
    } else {
      seen.set(name, i);
    }
  }
}

function cropsForAssignRule(spec: Fields, ctx: Context): void {
  const total = totalCrops(spec.swav.crops);
  const firstSeen = new Map<number, number>();
  for (const [i, index] of spec.swav.crops_for_assign.entries()) {
    const path = ['swav', 'crops_for_assign', i];
    if (index >= total) {
      ctx.addIssue({
        code: 'custom',
        path,
        input: index,
        message: `index ${index} is out of range: swav.crops defines ${total} crops (valid indices 0..${total - 1})`,
      });
    }
    const earlier = firstSeen.get(index);
    if (earlier !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path,
        input: index,
        message: `duplicates swav.crops_for_assign[${earlier}] (${index}); indices must be distinct`,
      });
    } else {
      firstSeen.set(index, i);
    }
  }
}

// The queue is filled batch by batch on every rank, so its length must be whole global batches.
function queueLengthRule(spec: Fields, ctx: Context): void {
  const { queue_length } = spec.swav;
  const { batch_size } = spec.optim;
  const ranks = rankCount(spec.runtime);
  const step = batch_size * ranks;
  if (queue_length > 0 && queue_length % step !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['swav', 'queue_length'],
      input: queue_length,
      message: `must be a multiple of batch_size × ranks (${batch_size} × ${ranks} = ${step}); got ${queue_length}`,
    });
  }
}

// runtime.gpus counts GPUs and runtime.processes CPU processes; a run is one or the other.
function ranksRule(spec: Fields, ctx: Context): void {
  const { device, gpus, processes } = spec.runtime;
  if (gpus > 1 && processes > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['runtime', 'processes'],
      input: processes,
      message: `cannot be combined with runtime.gpus ${gpus}: a run has one rank per GPU or one per CPU process, not both`,
    });
  }
  if (gpus > 1 && device === 'cpu') {
    ctx.addIssue({
      code: 'custom',
      path: ['runtime', 'gpus'],
      input: gpus,
      message:
        'needs GPUs but runtime.device is "cpu"; for several CPU processes set runtime.processes instead',
    });
  }
  if (processes > 1 && device === 'cuda') {
    ctx.addIssue({
      code: 'custom',
      path: ['runtime', 'processes'],
      input: processes,
      message:
        'is for CPU runs but runtime.device is "cuda"; a CUDA run has one process per GPU (runtime.gpus)',
    });
  }
}

// fp16 autocast exists only on CUDA; a CPU run asking for it would fail once a worker starts it.
function precisionRule(spec: Fields, ctx: Context): void {
  const { precision, device, processes } = spec.runtime;
  if (precision === 'fp16' && (device === 'cpu' || processes > 1)) {
    ctx.addIssue({
      code: 'custom',
      path: ['runtime', 'precision'],
      input: precision,
      message: 'fp16 needs a CUDA device; use bf16 or fp32 on CPU',
    });
  }
}

// With 0 epochs nothing is trained, so the schedule fields do not matter.
function warmupRule(spec: Fields, ctx: Context): void {
  const { warmup_epochs, epochs } = spec.optim;
  if (epochs > 0 && warmup_epochs > epochs) {
    ctx.addIssue({
      code: 'custom',
      path: ['optim', 'warmup_epochs'],
      input: warmup_epochs,
      message: `must be <= optim.epochs (${epochs}); got ${warmup_epochs}`,
    });
  }
}

function semisupRule(spec: Fields, ctx: Context): void {
  const decay = spec.eval.semisup?.decay_epochs ?? [];
  for (const [i, epoch] of decay.entries()) {
    const previous = decay[i - 1];
    if (previous !== undefined && epoch <= previous) {
      ctx.addIssue({
        code: 'custom',
        path: ['eval', 'semisup', 'decay_epochs', i],
        input: epoch,
        message: `must be greater than the previous entry (${previous}); list the epochs in increasing order`,
      });
    }
  }
}

/** Rules that relate fields to each other; they run once every field is individually valid. */
export function checkSpecRules(spec: Fields, ctx: Context): void {
  dataSourceRule(spec, ctx);
  cropsForAssignRule(spec, ctx);
  queueLengthRule(spec, ctx);
  ranksRule(spec, ctx);
  precisionRule(spec, ctx);
  warmupRule(spec, ctx);
  semisupRule(spec, ctx);
}
