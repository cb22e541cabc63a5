// One delivery of a run: claim it (new attempt, new fencing token), pick the checkpoint to resume from, train in a
// fresh process tree through packages/bridge while persisting its events, and record how it ended. The outcome
// tells the BullMQ processor what to do with the job; every database write carries the attempt's token.
import {
  BridgeProtocolError,
  Diverged,
  JobKilled,
  type JobResult,
  PythonCrashed,
  PythonError,
  type RunningJob,
  startJob,
} from '@swavlab/bridge';
import {
  type ClaimedRun,
  type Database,
  type ErrorKind,
  type Json,
  type JsonObject,
  type RunOutcome,
  StaleAttemptError,
} from '@swavlab/db';
import { issuesToText, parseExperimentSpec } from '@swavlab/spec';
import { attemptDir, dropScratch, localBase } from './artifacts.js';
import type { WorkerConfig } from './config.js';
import type { Reservation } from './device-scheduler.js';
import { type CollapseNote, EventSink, type ProgressReport } from './event-sink.js';
import { childLogger, type Logger } from './logger.js';
import type { JobMetrics } from './metrics.js';
import { chooseResumePoint } from './resume.js';

export interface RunJobDeps {
  db: Database;
  logger: Logger;
  /** The interpreter that imports torch (findPython). */
  pythonBin: string;
  config: Pick<
    WorkerConfig,
    | 'artifacts'
    | 'scratchDir'
    | 'trainerModule'
    | 'trainerPythonPath'
    | 'cancelGraceMs'
    | 'killGraceMs'
    | 'flushIntervalMs'
    | 'flushMaxPoints'
    | 'workerName'
  >;
  /** Step time and persisted events, for the worker's /metrics. */
  metrics?: JobMetrics;
}

export interface RunJobRequest {
  runId: string;
  /** From the job payload: must match the run's, or the job is not this run's. */
  specHash: string;
  /** The device slots the scheduler gave this run (none for a run that cannot be scheduled). */
  devices: Pick<Reservation, 'device' | 'env'>;
  /** Set when no live worker can hold the run: it is claimed and failed with kind `spec` and this message. */
  unschedulable?: string;
  /** No delivery follows this one: an infrastructure failure becomes the run's final status. */
  finalDelivery: boolean;
  /** Live progress (job.updateProgress), after each progress write. */
  onProgress?: (progress: ProgressReport) => void;
}

/** How a delivery ended, and so what becomes of its job. */
export type RunJobOutcome =
  /** Nothing to run: the run is finished, canceled or gone. */
  | { kind: 'skipped'; reason: string }
  /** The payload does not match its run; the run is left untouched. */
  | { kind: 'rejected'; message: string }
  | { kind: 'finished'; status: 'succeeded' | 'canceled' }
  /** Recorded as failed; not worth retrying. */
  | { kind: 'failed'; errorKind: ErrorKind; message: string }
  /** A newer attempt owns the run; this one wrote nothing after that and stopped. */
  | { kind: 'superseded'; message: string }
  /** Worker shutdown: the run is queued again (with a fresh checkpoint when Python could write one). */
  | { kind: 'requeued' }
  /** Infrastructure trouble with deliveries left: the run is queued again, the job should be retried. */
  | { kind: 'retry'; message: string };

export type StopReason = 'cancel' | 'shutdown';

function describe(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/** The result's final metrics and evaluations (numbers; null for non-finite), plus collapse warnings. */
function finalMetrics(result: JobResult | null, warnings: readonly CollapseNote[]): JsonObject {
  const metrics: JsonObject = {};
  for (const source of [result?.final_metrics, result?.evals]) {
    if (typeof source !== 'object' || source === null || Array.isArray(source)) continue;
    for (const [name, value] of Object.entries(source)) {
      if (typeof value === 'number') metrics[name] = Number.isFinite(value) ? value : null;
      else if (value === null) metrics[name] = null;
    }
  }
  if (warnings.length > 0) metrics.warnings = warnings.map((warning) => ({ ...warning }) as Json);
  return metrics;
}

export class RunJob {
  readonly done: Promise<RunJobOutcome>;
  readonly #deps: RunJobDeps;
  readonly #request: RunJobRequest;
  #stopReason: StopReason | undefined;
  #killRequested = false;
  #python: RunningJob | undefined;
  #attempt: number | undefined;

  constructor(deps: RunJobDeps, request: RunJobRequest) {
    this.#deps = deps;
    this.#request = request;
    this.done = this.#execute();
  }

  get runId(): string {
    return this.#request.runId;
  }

  /** Every line about this job carries its run id, and its attempt once claimed. */
  get #log(): Logger {
    const { runId } = this.#request;
    return childLogger(
      this.#deps.logger,
      this.#attempt === undefined ? { runId } : { runId, attempt: this.#attempt },
    );
  }

  /** The attempt number once claimed. */
  get attempt(): number | undefined {
    return this.#attempt;
  }

  get pythonPid(): number | undefined {
    return this.#python?.pythonPid;
  }

  get runnerPid(): number | undefined {
    return this.#python?.runnerPid;
  }

  /**
   * Ask the run to stop cooperatively (Python checkpoints and returns): a cancel ends it `canceled`, a shutdown
   * hands it back to the queue. A cancel outranks a shutdown.
   */
  stop(reason: StopReason): void {
    if (this.#stopReason === 'cancel') return;
    const first = this.#stopReason === undefined;
    this.#stopReason = reason;
    if (first) this.#python?.cancel();
  }

  /** Stop now, without a checkpoint (shutdown bound expired). */
  kill(): void {
    this.#killRequested = true;
    this.#python?.kill();
  }

  async #execute(): Promise<RunJobOutcome> {
    const { db, config } = this.#deps;
    const { runId, devices } = this.#request;
    let claim: ClaimedRun | null;
    try {
      const run = await db.runs.getRun(runId);
      if (run === null) return { kind: 'skipped', reason: 'the run does not exist' };
      if (run.specHash !== this.#request.specHash) {
        return {
          kind: 'rejected',
          message: `the job's spec hash ${this.#request.specHash} is not the run's (${run.specHash})`,
        };
      }
      claim = await db.runs.claimRun(runId, { workerHost: config.workerName, device: devices.device });
      if (claim === null) {
        const now = await db.runs.getRun(runId);
        return { kind: 'skipped', reason: `the run is ${now?.status ?? 'gone'}` };
      }
    } catch (error) {
      this.#log.error('cannot claim the run', { error });
      return { kind: 'retry', message: `cannot claim the run: ${describe(error)}` };
    }
    this.#attempt = claim.run.attempt;
    try {
      const outcome = await this.#runAttempt(claim);
      // An ended run's files are all in the object store: this host's copies can go.
      if (outcome.kind === 'finished' || outcome.kind === 'failed') {
        await dropScratch(config.artifacts, config.scratchDir, runId).catch((error: unknown) =>
          this.#log.warn('cannot remove the run scratch folder', { error }),
        );
      }
      return outcome;
    } catch (error) {
      if (error instanceof StaleAttemptError) {
        this.#log.info('a newer attempt owns the run; this one stops');
        return { kind: 'superseded', message: error.message };
      }
      this.#log.error('the attempt could not record its outcome', { error });
      return { kind: 'retry', message: describe(error) };
    }
  }

  async #runAttempt(claim: ClaimedRun): Promise<RunJobOutcome> {
    const { db, config, pythonBin } = this.#deps;
    const logger = this.#log;
    const { runId, devices, unschedulable } = this.#request;
    const { token } = claim;
    const attempt = claim.run.attempt;

    const parsed = parseExperimentSpec(claim.run.spec);
    if (!parsed.ok) {
      return this.#fail(token, { kind: 'spec', message: issuesToText(parsed.errors) }, null, []);
    }
    if (unschedulable !== undefined)
      return this.#fail(token, { kind: 'spec', message: unschedulable }, null, []);
    if (this.#stopReason !== undefined) return this.#stopped(token, null, []);

    const base = localBase(config.artifacts, config.scratchDir);
    const store = config.artifacts;
    const resume = await chooseResumePoint(db, runId, claim.resumeFrom, { store, base }, logger);
    const resumeStep = resume?.checkpoint.step ?? -1;
    // The claim discarded records after the latest checkpoint only; falling back further discards the rest.
    if (claim.resumeFrom !== null && resumeStep < claim.resumeFrom.step) {
      await db.runs.discardAfterStep(runId, token, resumeStep);
    }
    const outDir = await attemptDir(base, runId, attempt);
    logger.info('attempt starts', {
      device: devices.device,
      outDir,
      resumeFrom: resume?.file ?? null,
      resumeStep,
    });

    const sink = new EventSink({
      db,
      runId,
      token,
      attempt,
      store,
      base,
      keepLast: parsed.spec.checkpoint.keep_last,
      logger,
      ...(this.#deps.metrics === undefined ? {} : { metrics: this.#deps.metrics }),
      flushIntervalMs: config.flushIntervalMs,
      flushMaxPoints: config.flushMaxPoints,
      ...(this.#request.onProgress === undefined ? {} : { onProgress: this.#request.onProgress }),
      onCancelRequested: () => this.stop('cancel'),
      onFailure: (error) => {
        if (!(error instanceof StaleAttemptError)) logger.error('cannot persist events', { error });
        this.#python?.kill();
      },
    });
    let python: RunningJob;
    try {
      python = startJob({
        specJson: JSON.stringify(claim.run.spec),
        runOptions: { outDir, resumeFrom: resume?.file ?? null },
        pythonBin,
        module: config.trainerModule,
        pythonPath: config.trainerPythonPath,
        env: devices.env,
        onEvent: (event) => sink.push(event),
        onOutput: (text, stream) => logger.debug('trainer output', { stream, text }),
        cancelGraceMs: config.cancelGraceMs,
        killGraceMs: config.killGraceMs,
      });
    } catch (error) {
      await sink.close().catch(() => undefined);
      return this.#infrastructure(token, `cannot start the trainer: ${describe(error)}`, null, sink);
    }
    this.#python = python;
    logger.info('trainer started', { runnerPid: python.runnerPid });
    // A stop or kill that arrived while the attempt was being prepared.
    if (this.#stopReason !== undefined) python.cancel();
    if (this.#killRequested) python.kill();

    let result: JobResult | null = null;
    let failure: unknown;
    try {
      result = await python.result;
    } catch (error) {
      failure = error;
    }
    try {
      await sink.close();
    } catch (error) {
      if (error instanceof StaleAttemptError) throw error;
      return this.#infrastructure(token, `cannot persist the run's events: ${describe(error)}`, result, sink);
    }
    logger.info('trainer finished', {
      status: result?.status ?? null,
      error: failure,
      events: sink.counts.events,
      points: sink.counts.points,
    });
    return this.#conclude(token, result, failure, sink);
  }

  /** Maps the bridge's result or error onto the run's final status (the bridge's errors → error.kind). */
  async #conclude(
    token: string,
    result: JobResult | null,
    failure: unknown,
    sink: EventSink,
  ): Promise<RunJobOutcome> {
    const stop = this.#stopReason;
    const { warnings } = sink;
    if (result !== null) {
      if (result.status === 'succeeded') {
        return this.#finish(token, { status: 'succeeded', finalMetrics: finalMetrics(result, warnings) });
      }
      return this.#stopped(token, result, warnings);
    }
    // Stopping kills a Python that does not return in time; a signal to the whole host may kill it first.
    if (stop !== undefined && (failure instanceof JobKilled || failure instanceof PythonCrashed)) {
      return this.#stopped(token, null, warnings);
    }
    if (failure instanceof Diverged) {
      return this.#fail(token, { kind: 'diverged', message: failure.message }, failure.result, warnings);
    }
    if (failure instanceof PythonError) {
      const kind = failure.errorKind === 'spec' ? 'spec' : 'crashed';
      const error = { kind, message: failure.message, traceback: failure.traceback || null } as const;
      return this.#fail(token, error, failure.result, warnings);
    }
    if (failure instanceof PythonCrashed || failure instanceof BridgeProtocolError) {
      const error = {
        kind: 'crashed',
        message: failure.message,
        traceback: failure.stderrTail || null,
      } as const;
      return this.#fail(token, error, null, warnings);
    }
    return this.#infrastructure(token, describe(failure), null, sink);
  }

  /** A stopped attempt: canceled for a cancel, handed back to the queue for a shutdown. */
  async #stopped(
    token: string,
    result: JobResult | null,
    warnings: readonly CollapseNote[],
  ): Promise<RunJobOutcome> {
    if (this.#stopReason === 'shutdown') {
      const run = await this.#deps.db.runs.requeueRun(this.#request.runId, token);
      this.#log.info('run handed back to the queue', { status: run.status });
      return run.status === 'canceled' ? { kind: 'finished', status: 'canceled' } : { kind: 'requeued' };
    }
    return this.#finish(token, { status: 'canceled', finalMetrics: finalMetrics(result, warnings) });
  }

  async #fail(
    token: string,
    error: { kind: ErrorKind; message: string; traceback?: string | null },
    result: JobResult | null,
    warnings: readonly CollapseNote[],
  ): Promise<RunJobOutcome> {
    await this.#deps.db.runs.finishRun(this.#request.runId, token, {
      status: 'failed',
      error: { ...error, message: error.message || `${error.kind} failure` },
      finalMetrics: finalMetrics(result, warnings),
    });
    this.#log.warn('run failed', {
      kind: error.kind,
      message: error.message,
    });
    return { kind: 'failed', errorKind: error.kind, message: error.message };
  }

  async #finish(
    token: string,
    outcome: RunOutcome & { status: 'succeeded' | 'canceled' },
  ): Promise<RunJobOutcome> {
    await this.#deps.db.runs.finishRun(this.#request.runId, token, outcome);
    this.#log.info('run finished', { status: outcome.status });
    return { kind: 'finished', status: outcome.status };
  }

  /** Not the run's fault: retry while deliveries are left, else record `infrastructure`. */
  async #infrastructure(
    token: string,
    message: string,
    result: JobResult | null,
    sink: EventSink,
  ): Promise<RunJobOutcome> {
    if (this.#request.finalDelivery) {
      return this.#fail(token, { kind: 'infrastructure', message }, result, sink.warnings);
    }
    const run = await this.#deps.db.runs.requeueRun(this.#request.runId, token);
    if (run.status === 'canceled') return { kind: 'finished', status: 'canceled' };
    this.#log.warn('attempt failed for infrastructure reasons; the job will be retried', {
      message,
    });
    return { kind: 'retry', message };
  }
}
