/**
 * Messages between the job's parent (the worker, through PythonJob) and the runner process over the
 * fork IPC channel. The runner is plain JavaScript (runner.mjs) and imports these types through JSDoc.
 */

/** A JSON object with a string `type`, as sent by Python through `on_event`. */
export interface BridgeEvent {
  type: string;
  [field: string]: unknown;
}

/** What the runner needs to start Python and make the one `run` (or `evaluate`) call. */
export interface RunnerConfig {
  /** Interpreter that pythonia starts (set as PYTHON_BIN before pythonia loads). */
  pythonBin: string;
  /** Folders prepended to PYTHONPATH, so that Python and its own subprocesses import the module. */
  pythonPath: string[];
  /** Dotted name of the module whose `run(spec_json, on_event, options_json)` (or `evaluate`) is called. */
  module: string;
  /** The module's function the job calls: `run` trains, `evaluate` evaluates a checkpoint. */
  entry: 'run' | 'evaluate';
  specJson: string;
  optionsJson: string;
  /** How long the runner waits for Python to exit after asking it to, before SIGKILL. */
  exitGraceMs: number;
}

/** Parent → runner. */
export type ParentMessage =
  | { type: 'start'; config: RunnerConfig }
  /** Cooperative stop: the next `on_event` call returns "stop". */
  | { type: 'stop' }
  /** Stop Python now (pythonia's exit(), then SIGKILL after the grace period) and exit. */
  | { type: 'exit' };

/** Why the runner could not deliver a result. */
export type RunnerFailure =
  | { kind: 'python-exit'; exitCode: number | null; signal: NodeJS.Signals | null }
  | { kind: 'python-spawn'; message: string }
  | { kind: 'python-exception'; message: string; traceback: string }
  | { kind: 'protocol'; message: string };

/** Runner → parent, in this order: spawned, ready, event*, then result or failure. */
export type RunnerMessage =
  /** The Python child exists (pid known, for cleanup). */
  | { type: 'spawned'; pid: number }
  /** The module is imported: its SIGUSR1 handler is installed, so signalling is now safe. */
  | { type: 'ready' }
  | { type: 'event'; event: BridgeEvent }
  /** The JSON string returned by `run`, parsed by the parent. */
  | { type: 'result'; json: string }
  | { type: 'failure'; failure: RunnerFailure };
