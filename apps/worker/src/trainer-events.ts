// The trainer's events (packages/trainer/swavlab/events.py) as typed values, checked field by field: the bridge
// only guarantees `{type: string}`, and a malformed event must be reported, not written half-way.
import type { BridgeEvent } from '@swavlab/bridge';
import type { JsonObject } from '@swavlab/db';

/** Metric values by name; null is a non-finite value (JSON has no NaN). */
export type MetricValues = Record<string, number | null>;

export type TrainerEvent =
  | { type: 'status'; status: string }
  | { type: 'progress'; epoch: number; step: number; totalSteps: number; etaSeconds: number | null }
  | { type: 'metrics'; epoch: number; step: number; values: MetricValues }
  | { type: 'metrics_batch'; points: { epoch: number; step: number; values: MetricValues }[] }
  | { type: 'checkpoint'; path: string; sha256: string; bytes: number; epoch: number; step: number }
  | { type: 'artifact'; name: string; path: string; sha256: string; bytes: number; step: number }
  | { type: 'eval'; epoch: number; step: number; values: MetricValues }
  | { type: 'collapse_warning'; epoch: number; step: number; message: string; advice: string[] }
  | { type: 'diverged'; epoch: number; step: number; message: string }
  /** An evaluation that trains (paper linear protocol, semi-supervised fine-tuning) finished one of its epochs. */
  | { type: 'eval_progress'; evaluation: string; epoch: number; epochs: number; values: MetricValues }
  /** The dataset the run reads, once per attempt: the counts below plus whatever else the trainer reports. */
  | { type: 'dataset'; dataset: JsonObject };

/** Fields every `dataset` event has: counts, checked as such; other fields are stored as sent. */
const DATASET_COUNTS = [
  'pretrain_images',
  'eval_train_images',
  'eval_test_images',
  'classes',
  'skipped',
] as const;

/** An event that does not match its type's shape; `path` names the field. */
export class InvalidTrainerEvent extends Error {
  override readonly name = 'InvalidTrainerEvent';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

function count(event: BridgeEvent, field: string): number {
  const value = event[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidTrainerEvent(
      `${event.type}.${field}`,
      `expected an integer >= 0, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function text(event: BridgeEvent, field: string): string {
  const value = event[field];
  if (typeof value !== 'string') {
    throw new InvalidTrainerEvent(
      `${event.type}.${field}`,
      `expected a string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function optionalNumber(event: BridgeEvent, field: string): number | null {
  const value = event[field];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') {
    throw new InvalidTrainerEvent(
      `${event.type}.${field}`,
      `expected a number or null, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function values(event: BridgeEvent): MetricValues {
  const value = event.values;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTrainerEvent(`${event.type}.values`, 'expected an object of metric values');
  }
  const out: MetricValues = {};
  for (const [name, metric] of Object.entries(value)) {
    if (metric !== null && typeof metric !== 'number') {
      throw new InvalidTrainerEvent(
        `${event.type}.values.${name}`,
        `expected a number or null, got ${JSON.stringify(metric)}`,
      );
    }
    out[name] = metric;
  }
  return out;
}

function sha256(event: BridgeEvent): string {
  const value = text(event, 'sha256');
  if (!/^[0-9a-f]{64}$/.test(value)) {
    throw new InvalidTrainerEvent(`${event.type}.sha256`, 'expected 64 lowercase hex characters');
  }
  return value;
}

function strings(event: BridgeEvent, field: string): string[] {
  const value = event[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidTrainerEvent(`${event.type}.${field}`, 'expected an array of strings');
  }
  return value;
}

function dataset(event: BridgeEvent): JsonObject {
  const { type: _type, ...fields } = event;
  const checked: JsonObject = { source: text(event, 'source') };
  for (const field of DATASET_COUNTS) checked[field] = count(event, field);
  // The event came out of JSON.parse, so every other field is a JSON value already.
  return { ...(fields as JsonObject), ...checked };
}

/** The typed event, null for a type the worker does not know (newer trainers may add some); throws on bad fields. */
export function parseTrainerEvent(event: BridgeEvent): TrainerEvent | null {
  switch (event.type) {
    case 'status':
      return { type: 'status', status: text(event, 'status') };
    case 'progress':
      return {
        type: 'progress',
        epoch: count(event, 'epoch'),
        step: count(event, 'step'),
        totalSteps: count(event, 'total_steps'),
        etaSeconds: optionalNumber(event, 'eta_seconds'),
      };
    case 'metrics':
    case 'eval':
      return {
        type: event.type,
        epoch: count(event, 'epoch'),
        step: count(event, 'step'),
        values: values(event),
      };
    case 'metrics_batch': {
      const points = event.points;
      if (!Array.isArray(points) || points.length === 0) {
        throw new InvalidTrainerEvent('metrics_batch.points', 'expected a non-empty array of metric points');
      }
      return {
        type: 'metrics_batch',
        points: points.map((point: unknown, i) => {
          if (typeof point !== 'object' || point === null || Array.isArray(point)) {
            throw new InvalidTrainerEvent(`metrics_batch.points[${i}]`, 'expected an object');
          }
          const entry = { ...(point as Record<string, unknown>), type: `metrics_batch.points[${i}]` };
          return { epoch: count(entry, 'epoch'), step: count(entry, 'step'), values: values(entry) };
        }),
      };
    }
    case 'checkpoint':
      return {
        type: 'checkpoint',
        path: text(event, 'path'),
        sha256: sha256(event),
        bytes: count(event, 'bytes'),
        epoch: count(event, 'epoch'),
        step: count(event, 'step'),
      };
    case 'artifact':
      return {
        type: 'artifact',
        name: text(event, 'name'),
        path: text(event, 'path'),
        sha256: sha256(event),
        bytes: count(event, 'bytes'),
        step: count(event, 'step'),
      };
    case 'collapse_warning':
      return {
        type: 'collapse_warning',
        epoch: count(event, 'epoch'),
        step: count(event, 'step'),
        message: text(event, 'message'),
        advice: strings(event, 'advice'),
      };
    case 'diverged':
      return {
        type: 'diverged',
        epoch: count(event, 'epoch'),
        step: count(event, 'step'),
        message: text(event, 'message'),
      };
    case 'dataset':
      return { type: 'dataset', dataset: dataset(event) };
    case 'eval_progress':
      return {
        type: 'eval_progress',
        evaluation: text(event, 'evaluation'),
        epoch: count(event, 'epoch'),
        epochs: count(event, 'epochs'),
        values: values(event),
      };
    default:
      return null;
  }
}
