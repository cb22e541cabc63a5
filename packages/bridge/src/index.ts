/**
 * @swavlab/bridge: the only code that touches pythonia. One job = one forked runner process that
 * starts one Python interpreter, makes one `run` call and exits (see README.md and docs/pythonia.md).
 */
export {
  BridgeError,
  type BridgeErrorKind,
  BridgeProtocolError,
  type CrashedProcess,
  Diverged,
  JobKilled,
  PythonCrashed,
  PythonError,
  PythonNotFound,
} from './errors.js';
export { findPython, PYTHON_CANDIDATES, type PythonInterpreter } from './find-python.js';
export {
  DEFAULT_MODULE,
  DEFAULT_TRAINER_ROOT,
  type EvaluateOptions,
  type JobOptions,
  PythonJob,
  type RunningJob,
  type RunOptions,
  startJob,
} from './job.js';
export { isProcessAlive } from './processes.js';
export type { BridgeEvent } from './protocol.js';
export { type JobErrorInfo, type JobResult, type JobStatus, parseJobResult } from './result.js';
