import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BridgeProtocolError, Diverged, JobKilled, PythonCrashed, PythonError } from './errors.js';
import { signalGroup, signalProcess, waitUntilGone } from './processes.js';
import type { BridgeEvent, ParentMessage, RunnerConfig, RunnerFailure, RunnerMessage } from './protocol.js';
import { type JobResult, parseJobResult } from './result.js';

/**
 * The module whose `run(spec_json, on_event, options_json) -> str` (or `evaluate`, same signature) a job calls
 * unless told otherwise.
 */
export const DEFAULT_MODULE = 'swavlab.bridge';

/** packages/trainer, the folder that holds the `swavlab` package (same relative place from src/ and dist/). */
export const DEFAULT_TRAINER_ROOT = fileURLToPath(new URL('../../trainer/', import.meta.url));

const RUNNER_PATH = fileURLToPath(new URL('./runner.mjs', import.meta.url));
const STDERR_TAIL_BYTES = 8192;
// After the runner exits, its last IPC messages may still be in flight; wait this long for the channel to close.
const CHANNEL_DRAIN_MS = 2_000;
// How long the final sweep waits for the SIGKILLed tree to disappear.
const REAP_WAIT_MS = 2_000;

/** Options of one run, sent to Python as `options_json` (snake_case). */
export interface RunOptions {
  /** Folder for this attempt's checkpoints and other artifacts (`out_dir`). */
  outDir?: string;
  /** Checkpoint to resume from (`resume_from`), for retries. */
  resumeFrom?: string | null;
}

/** Options of a later evaluation, sent to Python's `evaluate` as `options_json`. */
export interface EvaluateOptions {
  /** Local path of a checkpoint file the trainer wrote (`checkpoint`). */
  checkpoint: string;
}

/** Everything needed to run one job in a fresh runner + Python process tree. */
export interface JobOptions {
  /** The experiment spec as a JSON string, handed unchanged to `run(spec_json, …)`. */
  specJson: string;
  /** Sent as `options_json`: `{"out_dir": …, "resume_from": …}`. Default: `{}`. */
  runOptions?: RunOptions;
  /**
   * Makes the job call `evaluate(spec_json, on_event, options_json)` with `{"checkpoint": …}` instead of `run`: it
   * evaluates the checkpoint with the spec's eval section. Excludes `runOptions`.
   */
  evaluate?: EvaluateOptions;
  /** The Python interpreter (resolve it once with `findPython()`). */
  pythonBin: string;
  /** Dotted name of the module to import; default `swavlab.bridge`. Tests point it at fixtures. */
  module?: string;
  /** Folders prepended to PYTHONPATH so that `module` imports; default `[DEFAULT_TRAINER_ROOT]`. */
  pythonPath?: string[];
  /** Extra environment for the runner and Python, e.g. `CUDA_VISIBLE_DEVICES` for the job's slot. */
  env?: Record<string, string>;
  /**
   * Called for each event, in order. It must not throw: a throw kills the job and `result` rejects
   * with that error (the worker uses this when a write is refused, e.g. a stale attempt).
   */
  onEvent?: (event: BridgeEvent) => void;
  /** Called with the runner's and Python's stdout/stderr text (logs); the stderr tail is kept anyway. */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  /** After `cancel()`, how long Python may take to checkpoint and return before `kill()`. Default 120 s. */
  cancelGraceMs?: number;
  /** After `kill()` (or any stop of Python), how long before SIGKILL of the whole tree. Default 5 s. */
  killGraceMs?: number;
}

/** A job in flight. */
export interface RunningJob {
  /**
   * Resolves with a `succeeded` or `canceled` result once every process of the job is gone; rejects
   * with Diverged, PythonError, PythonCrashed, BridgeProtocolError, JobKilled, or the error thrown by
   * `onEvent`.
   */
  readonly result: Promise<JobResult>;
  /** The runner's pid, also the process group of the job's whole tree. */
  readonly runnerPid: number;
  /** The Python child's pid, once the runner has reported it. */
  readonly pythonPid: number | undefined;
  /**
   * Ask Python to stop cooperatively (the next `on_event` returns "stop", and SIGUSR1), checkpoint and
   * return a `canceled` result; `kill()` follows if it has not within `cancelGraceMs`.
   */
  cancel(): void;
  /** Stop now: pythonia's exit(), then SIGKILL of the process group after `killGraceMs`. */
  kill(): void;
}

function checkGrace(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${field}: expected a finite number of milliseconds >= 0, got ${value}`);
  }
  return value;
}

function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${field}: expected a non-empty string`);
  return value;
}

/** Which Python function the job calls, and its `options_json`. */
function entryOf(options: JobOptions): Pick<RunnerConfig, 'entry' | 'optionsJson'> {
  if (options.evaluate === undefined) return { entry: 'run', optionsJson: optionsJson(options.runOptions) };
  if (options.runOptions !== undefined) {
    throw new TypeError('evaluate: a job either runs (runOptions) or evaluates (evaluate), not both');
  }
  return {
    entry: 'evaluate',
    optionsJson: JSON.stringify({
      checkpoint: checkText(options.evaluate.checkpoint, 'evaluate.checkpoint'),
    }),
  };
}

function optionsJson(options: RunOptions | undefined): string {
  const wire: Record<string, string | null> = {};
  if (options?.outDir !== undefined) wire.out_dir = options.outDir;
  if (options?.resumeFrom !== undefined) wire.resume_from = options.resumeFrom;
  return JSON.stringify(wire);
}

/** One job: a forked runner process (its own process group) that hosts pythonia and Python. */
export class PythonJob implements RunningJob {
  readonly result: Promise<JobResult>;
  readonly runnerPid: number;

  #child: ChildProcess;
  #onEvent: ((event: BridgeEvent) => void) | undefined;
  #cancelGraceMs: number;
  #killGraceMs: number;
  #pythonPid: number | undefined;
  #ready = false;
  #cancelRequested = false;
  #killRequested = false;
  #settled = false;
  #resultJson: string | undefined;
  #failure: RunnerFailure | undefined;
  #callbackError: unknown;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #channelClosed = false;
  #stderrTail = '';
  #timers = new Set<NodeJS.Timeout>();
  #resolve!: (result: JobResult) => void;
  #reject!: (error: unknown) => void;

  constructor(options: JobOptions) {
    const config: RunnerConfig = {
      pythonBin: checkText(options.pythonBin, 'pythonBin'),
      pythonPath: options.pythonPath ?? [DEFAULT_TRAINER_ROOT],
      module: checkText(options.module ?? DEFAULT_MODULE, 'module'),
      specJson: checkText(options.specJson, 'specJson'),
      ...entryOf(options),
      exitGraceMs: checkGrace(options.killGraceMs, 'killGraceMs', 5_000),
    };
    this.#cancelGraceMs = checkGrace(options.cancelGraceMs, 'cancelGraceMs', 120_000);
    this.#killGraceMs = config.exitGraceMs;
    this.#onEvent = options.onEvent;
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });

    // A process group of its own lets one signal reach the whole tree (runner, Python, data loaders).
    this.#child = fork(RUNNER_PATH, [], {
      detached: true,
      execArgv: [],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    // Spawn failures and signals to a vanished runner surface here; keep them for the crash report.
    this.#child.on('error', (error) => {
      this.#stderrTail = `${this.#stderrTail}runner: ${error.message}\n`.slice(-STDERR_TAIL_BYTES);
    });
    if (this.#child.pid === undefined) throw new Error(`cannot fork the bridge runner ${RUNNER_PATH}`);
    this.runnerPid = this.#child.pid;

    const onOutput = options.onOutput;
    this.#child.stdout?.setEncoding('utf8').on('data', (text: string) => onOutput?.(text, 'stdout'));
    this.#child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_BYTES);
      onOutput?.(text, 'stderr');
    });
    this.#child.on('message', (message: RunnerMessage) => this.#onMessage(message));
    this.#child.on('disconnect', () => {
      this.#channelClosed = true;
      this.#maybeSettle();
    });
    this.#child.on('exit', (code, signal) => {
      this.#exit = { code, signal };
      this.#later(CHANNEL_DRAIN_MS, () => {
        this.#channelClosed = true;
        this.#maybeSettle();
      });
      this.#maybeSettle();
    });
    this.#send({ type: 'start', config });
  }

  get pythonPid(): number | undefined {
    return this.#pythonPid;
  }

  cancel(): void {
    if (this.#settled || this.#cancelRequested) return;
    this.#cancelRequested = true;
    this.#send({ type: 'stop' });
    if (this.#ready) signalProcess(this.#pythonPid, 'SIGUSR1');
    this.#later(this.#cancelGraceMs, () => this.kill());
  }

  kill(): void {
    if (this.#settled || this.#killRequested) return;
    this.#killRequested = true;
    this.#send({ type: 'exit' });
    this.#later(this.#killGraceMs, () => this.#sigkillTree());
  }

  #onMessage(message: RunnerMessage): void {
    switch (message.type) {
      case 'spawned':
        this.#pythonPid = message.pid;
        break;
      case 'ready':
        this.#ready = true;
        // A SIGUSR1 before the module installed its handler would kill Python, hence the wait.
        if (this.#cancelRequested) signalProcess(this.#pythonPid, 'SIGUSR1');
        break;
      case 'event':
        this.#deliver(message.event);
        break;
      case 'result':
        this.#resultJson = message.json;
        break;
      case 'failure':
        this.#failure ??= message.failure;
        break;
    }
  }

  #deliver(event: BridgeEvent): void {
    if (this.#callbackError !== undefined) return;
    try {
      this.#onEvent?.(event);
    } catch (error) {
      this.#callbackError = error;
      this.kill();
    }
  }

  #send(message: ParentMessage): void {
    if (!this.#child.connected) return;
    // A send racing the runner's exit fails harmlessly: the exit handler settles the job.
    this.#child.send(message, () => undefined);
  }

  #later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, ms);
    this.#timers.add(timer);
  }

  #sigkillTree(): void {
    signalGroup(this.runnerPid, 'SIGKILL');
    signalProcess(this.#pythonPid, 'SIGKILL');
  }

  #maybeSettle(): void {
    if (this.#settled || this.#exit === undefined || !this.#channelClosed) return;
    this.#settled = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    // Whatever the outcome, nothing of the tree may outlive the job (PDEATHSIG is Python's own guard).
    this.#sigkillTree();
    const pids = this.#pythonPid === undefined ? [] : [this.#pythonPid];
    const groups = [this.runnerPid];
    // A process that escaped the group could hold the output pipes open; they must not keep us alive.
    for (const stream of [this.#child.stdout, this.#child.stderr]) (stream as Socket | null)?.unref();
    void waitUntilGone({ pids, groups }, REAP_WAIT_MS).then(() => {
      try {
        this.#resolve(this.#outcome());
      } catch (error) {
        this.#reject(error);
      }
    });
  }

  /** The job's result, or throws the error it ended with (see RunningJob.result for the order). */
  #outcome(): JobResult {
    if (this.#callbackError !== undefined) throw this.#callbackError;
    if (this.#resultJson !== undefined) {
      const result = parseJobResult(this.#resultJson);
      if (result.status === 'diverged') throw new Diverged(result);
      if (result.status === 'failed') {
        throw new PythonError({
          errorKind: result.error?.kind || 'failed',
          message: result.error?.message || 'the run failed',
          traceback: result.error?.traceback ?? '',
          result,
        });
      }
      return result;
    }
    if (this.#killRequested) throw new JobKilled();
    const failure = this.#failure;
    const stderrTail = this.#stderrTail;
    switch (failure?.kind) {
      case 'python-exit':
        throw new PythonCrashed({
          process: 'python',
          exitCode: failure.exitCode,
          signal: failure.signal,
          stderrTail,
        });
      case 'python-spawn':
        throw new PythonCrashed({
          process: 'python',
          exitCode: null,
          signal: null,
          stderrTail,
          reason: failure.message,
        });
      case 'python-exception':
        throw new PythonError({
          errorKind: 'exception',
          message: failure.message,
          traceback: failure.traceback,
          result: null,
        });
      case 'protocol':
        throw new BridgeProtocolError(failure.message, stderrTail);
      case undefined: {
        const { code, signal } = this.#exit ?? { code: null, signal: null };
        throw new PythonCrashed({ process: 'runner', exitCode: code, signal, stderrTail });
      }
    }
  }
}

/** Start a job in a fresh process tree; see JobOptions and RunningJob. */
export function startJob(options: JobOptions): RunningJob {
  return new PythonJob(options);
}
