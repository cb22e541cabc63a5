// The per-job runner: forked by PythonJob (job.ts), it hosts one pythonia instance, makes the single
// `run` (or `evaluate`) call and exits. Plain JavaScript so that Node can fork it both from the sources (tests) and
// from dist (production); tsc type-checks it through the JSDoc annotations and copies it to dist.
// Every rule it follows, and the measurement behind it, is in docs/pythonia.md at the repository root.

/** @typedef {import('./protocol.js').ParentMessage} ParentMessage */
/** @typedef {import('./protocol.js').RunnerConfig} RunnerConfig */
/** @typedef {import('./protocol.js').RunnerFailure} RunnerFailure */
/** @typedef {import('./protocol.js').RunnerMessage} RunnerMessage */
/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {{ exitCode: number | null, signal: NodeJS.Signals | null }} PythonExit */

/** @type {any} pythonia's CommonJS module object (its typings omit `com`, which holds the child). */
let pythonia;
/** @type {ChildProcess | undefined} */
let pythonProc;
/** @type {Promise<PythonExit> | undefined} */
let pythonExited;
let stopRequested = false;
let finishing = false;
let exitGraceMs = 5_000;

/**
 * Send a message to the parent and wait until it is written, so that exiting right after loses nothing.
 * @param {RunnerMessage} message
 * @returns {Promise<void>}
 */
function send(message) {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * Wait for the Python child to exit, up to `ms`; true when it has.
 * @param {number} ms
 */
async function pythonGoneWithin(ms) {
  // No pid: the interpreter never started, so no exit will come.
  if (!pythonExited || pythonProc?.pid === undefined) return true;
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  const gone = await Promise.race([pythonExited.then(() => true), timeout]);
  clearTimeout(timer);
  return gone;
}

/** Stop Python: pythonia's exit() (SIGTERM), then SIGKILL if it outlives the grace period. */
async function stopPython() {
  if (!pythonia) return;
  try {
    pythonia.python.exit();
  } catch (error) {
    // exit() throws when pythonia already ended its child; the SIGKILL below still applies.
    process.stderr.write(`runner: pythonia exit() failed: ${error}\n`);
  }
  if (!(await pythonGoneWithin(exitGraceMs))) {
    pythonProc?.kill('SIGKILL');
    await pythonGoneWithin(1_000);
  }
}

/**
 * Report (unless another ending is already under way), stop Python, and exit.
 * @param {RunnerMessage | undefined} message
 * @param {number} code
 */
async function finish(message, code) {
  if (finishing) return;
  finishing = true;
  if (message) await send(message);
  await stopPython();
  process.exit(code);
}

/**
 * @param {RunnerFailure} failure
 */
function fail(failure) {
  return finish({ type: 'failure', failure }, 1);
}

/**
 * Resolve with the call's outcome, or with the Python child's exit if that comes first: pythonia
 * ignores a dead child, so a pending call would otherwise never settle.
 * @template T
 * @param {Promise<T>} call
 * @returns {Promise<{ value: T } | { exited: PythonExit }>}
 */
function raceWithExit(call) {
  const exited = /** @type {Promise<PythonExit>} */ (pythonExited);
  return Promise.race([call.then((value) => ({ value })), exited.then((exit) => ({ exited: exit }))]);
}

/**
 * The `on_event` callback given to Python: validate, forward, and answer "stop" once asked to.
 * @param {unknown} json
 */
function onEvent(json) {
  if (typeof json !== 'string') {
    void fail({ kind: 'protocol', message: `on_event: expected a JSON string, got ${typeof json}` });
    return 'stop';
  }
  let event;
  try {
    event = JSON.parse(json);
  } catch (error) {
    const message = `on_event: not valid JSON (${error instanceof Error ? error.message : error}): ${json.slice(0, 200)}`;
    void fail({ kind: 'protocol', message });
    return 'stop';
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event) || typeof event.type !== 'string') {
    void fail({
      kind: 'protocol',
      message: `on_event: expected an object with a string "type": ${json.slice(0, 200)}`,
    });
    return 'stop';
  }
  void send({ type: 'event', event });
  return stopRequested ? 'stop' : undefined;
}

/**
 * pythonia's PythonException has an empty message; its stack holds a digest of the Python traceback
 * that ends with Python's own "SomeError: message" line.
 * @param {unknown} error
 * @returns {RunnerFailure}
 */
function describePythonException(error) {
  const traceback = error instanceof Error ? (error.stack ?? '') : String(error);
  const pythonError = /\b([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*)$/;
  const lines = traceback.split('\n').reverse();
  const message = lines.map((line) => pythonError.exec(line.trim())?.[1]).find(Boolean);
  return { kind: 'python-exception', message: message ?? 'Python raised an exception', traceback };
}

/**
 * @param {RunnerConfig} config
 */
async function start(config) {
  exitGraceMs = config.exitGraceMs;
  // pythonia reads these when it loads and starts Python at once, hence the dynamic import below.
  process.env.PYTHON_BIN = config.pythonBin;
  process.env.PYTHONUNBUFFERED = '1';
  // pythonia's error digests use chalk; escape codes would end up in the run's stored error.
  process.env.FORCE_COLOR = '0';
  process.env.PYTHONPATH = [...config.pythonPath, process.env.PYTHONPATH]
    .filter((entry) => entry !== undefined && entry !== '')
    .join(':');
  pythonia = (await import('pythonia')).default;
  const proc = /** @type {ChildProcess} */ (pythonia.com.proc);
  pythonProc = proc;
  pythonExited = new Promise((resolve) => {
    proc.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
  });
  proc.on('error', (error) => {
    // Without a pid the interpreter never started; otherwise this is pythonia writing to a Python that
    // just died (EPIPE), and the exit race reports the death.
    if (proc.pid === undefined) {
      void fail({ kind: 'python-spawn', message: `cannot start ${config.pythonBin}: ${error.message}` });
    } else {
      process.stderr.write(`runner: channel to Python: ${error.message}\n`);
    }
  });
  if (proc.pid === undefined) return;
  await send({ type: 'spawned', pid: proc.pid });

  let step = await raceWithExit(pythonia.python(config.module));
  if ('exited' in step) return fail({ kind: 'python-exit', ...step.exited });
  const module = step.value;
  await send({ type: 'ready' });

  const call = config.entry === 'evaluate' ? module.evaluate$ : module.run$;
  step = await raceWithExit(
    call(config.specJson, onEvent, config.optionsJson, { $timeout: Number.POSITIVE_INFINITY }),
  );
  if ('exited' in step) return fail({ kind: 'python-exit', ...step.exited });
  if (typeof step.value !== 'string') {
    return fail({
      kind: 'protocol',
      message: `${config.entry}: expected a JSON string result, got ${typeof step.value}`,
    });
  }
  return finish({ type: 'result', json: step.value }, 0);
}

process.on('message', (/** @type {ParentMessage} */ message) => {
  if (message.type === 'start') {
    start(message.config).catch((error) => fail(describePythonException(error)));
  } else if (message.type === 'stop') {
    stopRequested = true;
  } else if (message.type === 'exit') {
    void finish(undefined, 0);
  }
});

// The parent is gone (worker crashed or was killed): nobody will read a result, so stop Python.
process.on('disconnect', () => {
  void finish(undefined, 1);
});

// A Python message that is not JSON (a raw NaN or Infinity) throws inside Node's IPC parser, out of
// reach of any try/catch: report it as a protocol failure instead of dying without a word.
process.on('uncaughtException', (error) => {
  const hint =
    error instanceof SyntaxError
      ? 'Python sent a message that is not valid JSON (NaN and Infinity cannot cross the bridge: send JSON strings made with allow_nan=False)'
      : 'the runner failed';
  void fail({ kind: 'protocol', message: `${hint}: ${error.stack ?? error}` });
});
