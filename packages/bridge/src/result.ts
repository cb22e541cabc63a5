import { BridgeProtocolError } from './errors.js';

/** How a run ended, as reported by Python's `run()`. */
export type JobStatus = 'succeeded' | 'canceled' | 'diverged' | 'failed';

const JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'canceled', 'diverged', 'failed'];

/** The `error` member of a result: why a run failed, with Python's traceback (other fields, e.g. a
 * spec error's `errors` list, pass through). */
export interface JobErrorInfo {
  kind: string;
  message: string;
  traceback: string;
  [field: string]: unknown;
}

/**
 * The JSON object returned by `swavlab.bridge.run`. The bridge checks `status` and `error`, the fields
 * it acts on; the trainer's other fields (`epochs_completed`, `steps`, `final_metrics`, `evals`,
 * `last_checkpoint`, …) pass through untouched for the worker to validate and persist.
 */
export interface JobResult {
  status: JobStatus;
  error: JobErrorInfo | null;
  [field: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseErrorInfo(value: unknown): JobErrorInfo | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value)) throw new BridgeProtocolError('result.error: expected an object or null');
  const text = (field: 'kind' | 'message' | 'traceback'): string => {
    const found = value[field] ?? '';
    if (typeof found !== 'string') throw new BridgeProtocolError(`result.error.${field}: expected a string`);
    return found;
  };
  return { ...value, kind: text('kind'), message: text('message'), traceback: text('traceback') };
}

/** Parse the JSON string returned by Python's `run()`; a malformed result names the offending field. */
export function parseJobResult(json: string): JobResult {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new BridgeProtocolError(`result: not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(value)) throw new BridgeProtocolError('result: expected a JSON object');
  const status = value.status;
  if (typeof status !== 'string' || !JOB_STATUSES.includes(status as JobStatus)) {
    throw new BridgeProtocolError(
      `result.status: expected one of ${JOB_STATUSES.join(', ')}, got ${JSON.stringify(status)}`,
    );
  }
  return { ...value, status: status as JobStatus, error: parseErrorInfo(value.error) };
}
