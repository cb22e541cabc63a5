import type { JobResult } from './result.js';

/** What went wrong, in the words the worker maps onto a run's `error.kind`. */
export type BridgeErrorKind = 'crashed' | 'python' | 'diverged' | 'protocol' | 'killed';

/** Base class of every way a job can end without a succeeded or canceled result. */
export abstract class BridgeError extends Error {
  abstract readonly kind: BridgeErrorKind;
}

/** Which process of the job's tree died: the Python interpreter or the Node runner that hosts pythonia. */
export type CrashedProcess = 'python' | 'runner';

/** A process of the job died (signal, exit, failed start) before a result came back. */
export class PythonCrashed extends BridgeError {
  readonly kind = 'crashed';
  readonly process: CrashedProcess;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last bytes written to stderr by the runner and Python, for the run's error record. */
  readonly stderrTail: string;

  constructor(details: {
    process: CrashedProcess;
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    stderrTail: string;
    reason?: string;
  }) {
    const how = details.signal ? `signal ${details.signal}` : `exit code ${details.exitCode}`;
    super(details.reason ?? `the ${details.process} process died (${how}) before returning a result`);
    this.name = 'PythonCrashed';
    this.process = details.process;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = details.stderrTail;
  }
}

/** Python raised, or returned a `failed` result; carries Python's traceback. */
export class PythonError extends BridgeError {
  readonly kind = 'python';
  /** The result's `error.kind` (`spec`, `crashed`, …), or `exception` when Python raised out of `run`. */
  readonly errorKind: string;
  readonly traceback: string;
  /** The parsed result when Python returned one (for its last checkpoint and metrics). */
  readonly result: JobResult | null;

  constructor(details: { errorKind: string; message: string; traceback: string; result: JobResult | null }) {
    super(details.message);
    this.name = 'PythonError';
    this.errorKind = details.errorKind;
    this.traceback = details.traceback;
    this.result = details.result;
  }
}

/** Training produced non-finite values or collapsed; the result says where. */
export class Diverged extends BridgeError {
  readonly kind = 'diverged';
  readonly result: JobResult;

  constructor(result: JobResult) {
    super(result.error?.message || 'training diverged');
    this.name = 'Diverged';
    this.result = result;
  }
}

/** Python broke the bridge's contract (a non-JSON or non-finite message, a malformed result or event). */
export class BridgeProtocolError extends BridgeError {
  readonly kind = 'protocol';
  readonly stderrTail: string;

  constructor(message: string, stderrTail = '') {
    super(message);
    this.name = 'BridgeProtocolError';
    this.stderrTail = stderrTail;
  }
}

/** The job was ended by `kill()` (or by a cancel that outlived its grace period) before a result came back. */
export class JobKilled extends BridgeError {
  readonly kind = 'killed';

  constructor(message = 'the job was killed before it returned a result') {
    super(message);
    this.name = 'JobKilled';
  }
}

/** No usable Python interpreter (one that runs and imports torch) was found. */
export class PythonNotFound extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PythonNotFound';
  }
}
