// The worker's settings, from the environment (ARCHITECTURE.md, Environment) with validated overrides.
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { type ArtifactStore, openArtifactStore } from '@swavlab/artifacts';
import { DEFAULT_MODULE, DEFAULT_TRAINER_ROOT } from '@swavlab/bridge';
import { defaultWorkerOptions } from '@swavlab/queue';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { detectGpus, planSlots, type Slot } from './slots.js';

/** BullMQ lock and stall settings (QUEUE.md); tests shorten them so that recovery takes seconds. */
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

function positiveInt(env: NodeJS.ProcessEnv, name: string, min = 1): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    const what = min === 0 ? 'an integer >= 0' : 'a positive integer';
    throw new RangeError(`${name}: expected ${what}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name];
  return text === undefined || text === '' ? undefined : text;
}

function logLevel(env: NodeJS.ProcessEnv): LogLevel {
  const text = nonEmpty(env, 'SWAVLAB_LOG_LEVEL') ?? 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  if (level === undefined) {
    throw new RangeError(
      `SWAVLAB_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`,
    );
  }
  return level;
}

/** SWAVLAB_WORKER_PORT (1–65535; unset or 0: no HTTP server) on SWAVLAB_WORKER_HOST. */
function httpAddress(env: NodeJS.ProcessEnv): HttpAddress | undefined {
  const port = positiveInt(env, 'SWAVLAB_WORKER_PORT', 0);
  if (port !== undefined && port > 65_535) {
    throw new RangeError(
      `SWAVLAB_WORKER_PORT: expected a port number 0-65535, got ${JSON.stringify(env.SWAVLAB_WORKER_PORT)}`,
    );
  }
  const host = nonEmpty(env, 'SWAVLAB_WORKER_HOST') ?? '127.0.0.1';
  // One colon is a host with a port (IPv6 addresses have several).
  if (/[\s/]/.test(host) || /^[^:]*:[^:]*$/.test(host)) {
    throw new RangeError(
      `SWAVLAB_WORKER_HOST: expected a host name or IP address without a port, got ${JSON.stringify(host)}`,
    );
  }
  return port === undefined || port === 0 ? undefined : { host, port };
}

/** Lock settings with `lockDuration` overridden: renewal at a third of it keeps two missed renewals safe. */
function lockSettings(env: NodeJS.ProcessEnv): LockSettings {
  const lockDuration = positiveInt(env, 'SWAVLAB_LOCK_DURATION_MS');
  return {
    lockDuration: lockDuration ?? defaultWorkerOptions.lockDuration,
    lockRenewTime:
      lockDuration === undefined
        ? defaultWorkerOptions.lockRenewTime
        : Math.max(1, Math.floor(lockDuration / 3)),
    stalledInterval: positiveInt(env, 'SWAVLAB_STALLED_INTERVAL_MS') ?? defaultWorkerOptions.stalledInterval,
    maxStalledCount: defaultWorkerOptions.maxStalledCount,
  };
}

/** The configuration described by `env`, for a host whose visible GPUs are `gpus`. */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv, gpus: readonly string[]): WorkerConfig {
  const home = resolve(nonEmpty(env, 'SWAVLAB_HOME') ?? './.swavlab');
  return {
    redisUrl: nonEmpty(env, 'REDIS_URL'),
    databaseUrl: nonEmpty(env, 'DATABASE_URL'),
    home,
    artifacts: openArtifactStore(nonEmpty(env, 'SWAVLAB_ARTIFACTS') ?? join(home, 'artifacts'), env),
    scratchDir: resolve(nonEmpty(env, 'SWAVLAB_SCRATCH') ?? join(home, 'scratch')),
    slots: planSlots(gpus, positiveInt(env, 'SWAVLAB_SLOTS')),
    reserveAfterMs: positiveInt(env, 'SWAVLAB_RESERVE_AFTER_MS', 0) ?? 600_000,
    reconcileIntervalMs: positiveInt(env, 'SWAVLAB_RECONCILE_INTERVAL_MS', 0) ?? 30_000,
    silentRunMs: positiveInt(env, 'SWAVLAB_SILENT_RUN_MS') ?? 600_000,
    pythonBin: nonEmpty(env, 'PYTHON_BIN'),
    trainerModule: DEFAULT_MODULE,
    trainerPythonPath: [DEFAULT_TRAINER_ROOT],
    queuePrefix: nonEmpty(env, 'SWAVLAB_QUEUE_PREFIX'),
    shutdownTimeoutMs: positiveInt(env, 'SWAVLAB_SHUTDOWN_TIMEOUT_MS') ?? 60_000,
    cancelPollMs: positiveInt(env, 'SWAVLAB_CANCEL_POLL_MS') ?? 3_000,
    cancelGraceMs: 120_000,
    killGraceMs: 5_000,
    flushIntervalMs: 1_000,
    flushMaxPoints: 500,
    lock: lockSettings(env),
    workerName: nonEmpty(env, 'SWAVLAB_WORKER_NAME') ?? `${hostname()}:${process.pid}`,
    logLevel: logLevel(env),
    http: httpAddress(env),
  };
}

/** workerConfigFromEnv for this host (GPUs from CUDA_VISIBLE_DEVICES or `nvidia-smi -L`). */
export async function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): Promise<WorkerConfig> {
  return workerConfigFromEnv(env, await detectGpus(env));
}
