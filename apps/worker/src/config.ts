// The worker's settings, from the environment (one zod schema of its variables, WorkerEnv) with validated overrides.
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { type ArtifactStore, openArtifactStore } from '@swavlab/artifacts';
import { DEFAULT_MODULE, DEFAULT_TRAINER_ROOT } from '@swavlab/bridge';
import { defaultWorkerOptions } from '@swavlab/queue';
import {
  type EnvShape,
  type EnvValues,
  type LogLevel,
  logLevel,
  parseEnv,
  text,
  wholeNumber,
} from '@swavlab/telemetry';
import { detectGpus, planSlots, type Slot } from './slots.js';

/** BullMQ lock and stall settings (docs/queue.md); tests shorten them so that recovery takes seconds. */
export interface LockSettings {
  lockDuration: number;
  lockRenewTime: number;
  stalledInterval: number;
  maxStalledCount: number;
}

export interface WorkerConfig {
  /** REDIS_URL; undefined → redis://127.0.0.1:6379. */
  redisUrl: string | undefined;
  /** DATABASE_URL; undefined → embedded PGlite under `home` (one process tree only). */
  databaseUrl: string | undefined;
  /** SWAVLAB_HOME (default ./.swavlab). */
  home: string;
  /**
   * Where checkpoints and exports are stored (SWAVLAB_ARTIFACTS: a folder, default `$SWAVLAB_HOME/artifacts`, or
   * `s3://bucket/prefix` with the S3 variables of @swavlab/artifacts).
   */
  artifacts: ArtifactStore;
  /** This host's folder for the trainer's files when the store is not a folder (SWAVLAB_SCRATCH, `$SWAVLAB_HOME/scratch`). */
  scratchDir: string;
  /** Device slots, one rank of a run each (SWAVLAB_SLOTS, default one per visible GPU, else 1). */
  slots: Slot[];
  /**
   * How long a run that needs more slots than are free may be overtaken by later runs that fit, before it
   * reserves the slots that free up (SWAVLAB_RESERVE_AFTER_MS, 10 min).
   */
  reserveAfterMs: number;
  /** Time between reconciler passes (SWAVLAB_RECONCILE_INTERVAL_MS, 30 s; 0 = this worker never reconciles). */
  reconcileIntervalMs: number;
  /** A running run whose job is gone counts as abandoned after this long without a write (SWAVLAB_SILENT_RUN_MS, 10 min). */
  silentRunMs: number;
  /** PYTHON_BIN; undefined → the first of python3, /usr/bin/python3 that imports torch. */
  pythonBin: string | undefined;
  /** The Python module whose `run(spec_json, on_event, options_json)` trains (default swavlab.bridge). */
  trainerModule: string;
  /** Prepended to PYTHONPATH for the trainer (default: packages/trainer of this checkout). */
  trainerPythonPath: string[];
  /** BullMQ key prefix (SWAVLAB_QUEUE_PREFIX, default BullMQ's "bull"); producers must use the same. */
  queuePrefix: string | undefined;
  /** SIGTERM → everything stopped and handed back within this bound (SWAVLAB_SHUTDOWN_TIMEOUT_MS, 60 s). */
  shutdownTimeoutMs: number;
  /** How often the database's cancel flag is polled, the fallback to pub/sub (SWAVLAB_CANCEL_POLL_MS, 3 s). */
  cancelPollMs: number;
  /** After a cancel, how long Python may take to checkpoint before it is killed (120 s). */
  cancelGraceMs: number;
  /** After a kill, how long before SIGKILL of the job's process tree (5 s). */
  killGraceMs: number;
  /** Metric points are written at least this often… (1 s) */
  flushIntervalMs: number;
  /** …or as soon as this many are buffered (500). */
  flushMaxPoints: number;
  lock: LockSettings;
  /** Recorded as the run's worker_host (SWAVLAB_WORKER_NAME, default `<hostname>:<pid>`). */
  workerName: string;
  /** SWAVLAB_LOG_LEVEL (default info). */
  logLevel: LogLevel;
  /**
   * Where /healthz, /readyz and /metrics are served (SWAVLAB_WORKER_HOST, default 127.0.0.1, and
   * SWAVLAB_WORKER_PORT); undefined when the port is unset or 0: no server. Port 0 given here picks a free port.
   */
  http: HttpAddress | undefined;
}

export interface HttpAddress {
  host: string;
  port: number;
}

// An address to listen on: a host name or IP address, never with a port (one colon; IPv6 addresses have several).
const listenHost = text('127.0.0.1').refine((host) => !/[\s/]/.test(host) && !/^[^:]*:[^:]*$/.test(host), {
  error: (issue) => `expected a host name or IP address without a port, got ${JSON.stringify(issue.input)}`,
});

/** The worker's environment variables, their defaults and limits (apps/worker/README.md lists them). */
const WorkerEnv = {
  SWAVLAB_LOG_LEVEL: logLevel,
  REDIS_URL: text(),
  DATABASE_URL: text(),
  SWAVLAB_HOME: text('./.swavlab'),
  SWAVLAB_ARTIFACTS: text(),
  SWAVLAB_SCRATCH: text(),
  SWAVLAB_SLOTS: wholeNumber({ min: 1 }),
  SWAVLAB_RESERVE_AFTER_MS: wholeNumber({ min: 0, fallback: 600_000 }),
  SWAVLAB_RECONCILE_INTERVAL_MS: wholeNumber({ min: 0, fallback: 30_000 }),
  SWAVLAB_SILENT_RUN_MS: wholeNumber({ min: 1, fallback: 600_000 }),
  PYTHON_BIN: text(),
  SWAVLAB_QUEUE_PREFIX: text(),
  SWAVLAB_SHUTDOWN_TIMEOUT_MS: wholeNumber({ min: 1, fallback: 60_000 }),
  SWAVLAB_CANCEL_POLL_MS: wholeNumber({ min: 1, fallback: 3_000 }),
  SWAVLAB_LOCK_DURATION_MS: wholeNumber({ min: 1 }),
  SWAVLAB_STALLED_INTERVAL_MS: wholeNumber({ min: 1, fallback: defaultWorkerOptions.stalledInterval }),
  SWAVLAB_WORKER_NAME: text(),
  SWAVLAB_WORKER_PORT: wholeNumber({ min: 0, max: 65_535 }),
  SWAVLAB_WORKER_HOST: listenHost,
} satisfies EnvShape;
type WorkerEnv = EnvValues<typeof WorkerEnv>;

/** Lock settings with `lockDuration` overridden: renewal at a third of it keeps two missed renewals safe. */
function lockSettings(vars: WorkerEnv): LockSettings {
  const lockDuration = vars.SWAVLAB_LOCK_DURATION_MS;
  return {
    lockDuration: lockDuration ?? defaultWorkerOptions.lockDuration,
    lockRenewTime:
      lockDuration === undefined
        ? defaultWorkerOptions.lockRenewTime
        : Math.max(1, Math.floor(lockDuration / 3)),
    stalledInterval: vars.SWAVLAB_STALLED_INTERVAL_MS,
    maxStalledCount: defaultWorkerOptions.maxStalledCount,
  };
}

/** The configuration described by `env`, for a host whose visible GPUs are `gpus`. */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv, gpus: readonly string[]): WorkerConfig {
  const vars = parseEnv(WorkerEnv, env);
  const home = resolve(vars.SWAVLAB_HOME);
  const port = vars.SWAVLAB_WORKER_PORT;
  return {
    redisUrl: vars.REDIS_URL,
    databaseUrl: vars.DATABASE_URL,
    home,
    artifacts: openArtifactStore(vars.SWAVLAB_ARTIFACTS ?? join(home, 'artifacts'), env),
    scratchDir: resolve(vars.SWAVLAB_SCRATCH ?? join(home, 'scratch')),
    slots: planSlots(gpus, vars.SWAVLAB_SLOTS),
    reserveAfterMs: vars.SWAVLAB_RESERVE_AFTER_MS,
    reconcileIntervalMs: vars.SWAVLAB_RECONCILE_INTERVAL_MS,
    silentRunMs: vars.SWAVLAB_SILENT_RUN_MS,
    pythonBin: vars.PYTHON_BIN,
    trainerModule: DEFAULT_MODULE,
    trainerPythonPath: [DEFAULT_TRAINER_ROOT],
    queuePrefix: vars.SWAVLAB_QUEUE_PREFIX,
    shutdownTimeoutMs: vars.SWAVLAB_SHUTDOWN_TIMEOUT_MS,
    cancelPollMs: vars.SWAVLAB_CANCEL_POLL_MS,
    cancelGraceMs: 120_000,
    killGraceMs: 5_000,
    flushIntervalMs: 1_000,
    flushMaxPoints: 500,
    lock: lockSettings(vars),
    workerName: vars.SWAVLAB_WORKER_NAME ?? `${hostname()}:${process.pid}`,
    logLevel: vars.SWAVLAB_LOG_LEVEL,
    // SWAVLAB_WORKER_PORT unset or 0: no server.
    http: port === undefined || port === 0 ? undefined : { host: vars.SWAVLAB_WORKER_HOST, port },
  };
}

/** workerConfigFromEnv for this host (GPUs from CUDA_VISIBLE_DEVICES or `nvidia-smi -L`). */
export async function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): Promise<WorkerConfig> {
  return workerConfigFromEnv(env, await detectGpus(env));
}
