// One delivery of an evaluation request: claim it (new attempt, new fencing token), fetch the checkpoint it names
// from the artifact store, run the trainer's `evaluate` on it in a fresh process tree through packages/bridge with
// the run's spec whose eval section is the requested one, store the results as the run's evaluations at the
// checkpoint's step, and end the request. An evaluation has no state worth resuming: a re-delivered job (its worker
// died) or a retried one starts it again from scratch.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ArtifactCorrupt, ArtifactMissing } from '@swavlab/artifacts';
import {
  BridgeProtocolError,
  Diverged,
  type JobResult,
  PythonCrashed,
  PythonError,
  type RunningJob,
  startJob,
} from '@swavlab/bridge';
import {
  type ClaimedEvaluation,
  type Database,
  type ErrorKind,
  type JsonObject,
  StaleEvaluationError,
} from '@swavlab/db';
import { issuesToText, parseExperimentSpec } from '@swavlab/spec';
import type { WorkerConfig } from './config.js';
import type { Reservation } from './device-scheduler.js';
import { childLogger, type Logger } from './logger.js';
import { type MetricValues, parseTrainerEvent } from './trainer-events.js';

export interface EvaluationJobDeps {
  db: Database;
  logger: Logger;
  /** The interpreter that imports torch (findPython). */
  pythonBin: string;
  config: Pick<
    WorkerConfig,
    'artifacts' | 'scratchDir' | 'trainerModule' | 'trainerPythonPath' | 'killGraceMs' | 'workerName'
  >;
}

export interface EvaluationJobRequest {
  /** The evaluation request (also the queue job's id). */
  requestId: string;
  /** From the job payload: must be the request's run, or the job is not this request's. */
  runId: string;
  /** The device slot the scheduler gave the evaluation. */
  devices: Pick<Reservation, 'device' | 'env'>;
  /** No delivery follows this one: an infrastructure failure becomes the request's final status. */
  finalDelivery: boolean;
}

/** How a delivery ended, and so what becomes of its job (as RunJobOutcome). */
export type EvaluationJobOutcome =
  | { kind: 'skipped'; reason: string }
  | { kind: 'rejected'; message: string }
  | { kind: 'finished' }
  | { kind: 'failed'; errorKind: ErrorKind; message: string }
  | { kind: 'superseded'; message: string }
  | { kind: 'requeued' }
  | { kind: 'retry'; message: string };

interface Failure {
  kind: ErrorKind;
  message: string;
  traceback?: string | null;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/** Metric values as JSON (numbers, null for non-finite ones), skipping anything else a result may carry. */
function metricValues(source: unknown): MetricValues {
  const values: MetricValues = {};
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return values;
  for (const [name, value] of Object.entries(source)) {
    if (typeof value === 'number') values[name] = Number.isFinite(value) ? value : null;
    else if (value === null) values[name] = null;
  }
  return values;
}

export class EvaluationJob {
  readonly done: Promise<EvaluationJobOutcome>;
  readonly #deps: EvaluationJobDeps;
  readonly #request: EvaluationJobRequest;
  #python: RunningJob | undefined;
  #attempt: number | undefined;
  #shutdown = false;

  constructor(deps: EvaluationJobDeps, request: EvaluationJobRequest) {
    this.#deps = deps;
    this.#request = request;
    this.done = this.#execute();
  }

  get runId(): string {
    return this.#request.runId;
  }

  get requestId(): string {
    return this.#request.requestId;
  }

  get attempt(): number | undefined {
    return this.#attempt;
  }

  /** Every line about this job carries its run and request ids, and its attempt once claimed. */
  get #log(): Logger {
    const { runId, requestId } = this.#request;
    const attempt = this.#attempt;
    return childLogger(
      this.#deps.logger,
      attempt === undefined ? { runId, requestId } : { runId, requestId, attempt },
    );
  }

  get pythonPid(): number | undefined {
    return this.#python?.pythonPid;
  }

  get runnerPid(): number | undefined {
    return this.#python?.runnerPid;
  }

  /**
   * Worker shutdown: an evaluation keeps nothing worth a graceful stop (the next delivery starts it again), so
   * Python is stopped at once and the request goes back to the queue.
   */
  stop(): void {
    this.#shutdown = true;
    this.#python?.kill();
  }

  kill(): void {
    this.stop();
  }

  async #execute(): Promise<EvaluationJobOutcome> {
    const { db, config } = this.#deps;
    const { requestId, runId, devices } = this.#request;
    let claim: ClaimedEvaluation | null;
    try {
      const request = await db.evaluationRequests.getRequest(requestId);
      if (request === null) return { kind: 'skipped', reason: 'the evaluation request does not exist' };
      if (request.runId !== runId) {
        return {
          kind: 'rejected',
          message: `the job's run ${runId} is not the request's (${request.runId})`,
        };
      }
      claim = await db.evaluationRequests.claimRequest(requestId, {
        workerHost: config.workerName,
        device: devices.device,
      });
      if (claim === null) return { kind: 'skipped', reason: `the evaluation is ${request.status}` };
    } catch (error) {
      this.#log.error('cannot claim the evaluation', { error });
      return { kind: 'retry', message: `cannot claim the evaluation: ${describe(error)}` };
    }
    this.#attempt = claim.request.attempt;
    try {
      return await this.#evaluate(claim);
    } catch (error) {
      if (error instanceof StaleEvaluationError) {
        this.#log.info('a newer attempt owns the evaluation; this one stops');
        return { kind: 'superseded', message: error.message };
      }
      this.#log.error('the evaluation could not record its outcome', { error });
      return { kind: 'retry', message: describe(error) };
    }
  }

  async #evaluate({ request, token }: ClaimedEvaluation): Promise<EvaluationJobOutcome> {
    const { db, config } = this.#deps;
    const logger = this.#log;
    const { requestId, runId, devices } = this.#request;
    const run = await db.runs.getRun(runId);
    const checkpoint = await db.checkpoints.getCheckpoint(runId, request.checkpointStep);
    if (run === null || checkpoint === null) {
      return this.#fail(token, {
        kind: 'infrastructure',
        message:
          run === null
            ? `run ${runId} no longer exists`
            : `run ${runId} no longer has a checkpoint at step ${request.checkpointStep} ` +
              '(checkpoint.keep_last pruned it since the request); evaluate a newer one',
      });
    }
    const parsed = parseExperimentSpec({ ...run.spec, eval: request.eval });
    if (!parsed.ok) return this.#fail(token, { kind: 'spec', message: issuesToText(parsed.errors) });
    if (this.#shutdown) return this.#requeue(token);

    // A folder store verifies the checkpoint in place; object storage downloads it into this folder.
    const scratch = resolve(config.scratchDir);
    await mkdir(scratch, { recursive: true });
    const folder = await mkdtemp(join(scratch, `evaluation-${requestId}-`));
    try {
      let file: string;
      try {
        file = await config.artifacts.fetch(
          checkpoint.path,
          checkpoint.sha256,
          join(folder, basename(checkpoint.path)),
        );
      } catch (error) {
        if (!(error instanceof ArtifactMissing || error instanceof ArtifactCorrupt)) {
          return this.#infrastructure(token, `cannot fetch the checkpoint: ${describe(error)}`);
        }
        return this.#fail(token, {
          kind: 'infrastructure',
          message: `the checkpoint at step ${checkpoint.step} is not usable in ${config.artifacts.location}: ${error.message}`,
        });
      }
      logger.info('evaluation starts', {
        device: devices.device,
        checkpointStep: checkpoint.step,
      });
      const { result, failure, values } = await this.#runPython(
        JSON.stringify(parsed.spec),
        file,
        devices.env,
      );
      if (result === null) return this.#pythonFailed(token, failure);
      // The result is authoritative; events only matter for values it would lack.
      const results: MetricValues = { ...values, ...metricValues(result.evals) };
      for (const [name, value] of Object.entries(results)) {
        await db.evaluationRequests.recordResult(requestId, token, {
          name,
          value: value ?? Number.NaN,
          epoch: checkpoint.epoch,
          step: checkpoint.step,
        });
      }
      await db.evaluationRequests.finishRequest(requestId, token, {
        status: 'succeeded',
        results: results as JsonObject,
      });
      logger.info('evaluation finished', { results });
      return { kind: 'finished' };
    } finally {
      await rm(folder, { recursive: true, force: true }).catch((error: unknown) =>
        logger.warn('cannot remove the evaluation scratch folder', { folder, error }),
      );
    }
  }

  /** Runs `evaluate` to its end; `values` collects the eval events' values in order. */
  async #runPython(
    specJson: string,
    checkpoint: string,
    env: Record<string, string>,
  ): Promise<{ result: JobResult | null; failure: unknown; values: MetricValues }> {
    const { config, pythonBin } = this.#deps;
    const logger = this.#log;
    const values: MetricValues = {};
    let python: RunningJob;
    try {
      python = startJob({
        specJson,
        evaluate: { checkpoint },
        pythonBin,
        module: config.trainerModule,
        pythonPath: config.trainerPythonPath,
        env,
        onEvent: (event) => {
          try {
            const parsed = parseTrainerEvent(event);
            if (parsed?.type === 'eval') Object.assign(values, parsed.values);
            if (parsed?.type === 'eval_progress') {
              const { evaluation, epoch, epochs } = parsed;
              logger.info('evaluation progress', {
                evaluation,
                epoch,
                epochs,
                values: parsed.values,
              });
            }
          } catch (error) {
            logger.warn('malformed trainer event dropped', { error });
          }
        },
        onOutput: (text, stream) => logger.debug('trainer output', { stream, text }),
        killGraceMs: config.killGraceMs,
      });
    } catch (error) {
      return { result: null, failure: error, values };
    }
    this.#python = python;
    if (this.#shutdown) python.kill();
    try {
      return { result: await python.result, failure: undefined, values };
    } catch (error) {
      return { result: null, failure: error, values };
    }
  }

  /** Maps the bridge's error onto the request's status (a stop for shutdown hands it back instead). */
  async #pythonFailed(token: string, failure: unknown): Promise<EvaluationJobOutcome> {
    if (this.#shutdown) return this.#requeue(token);
    if (failure instanceof PythonError) {
      return this.#fail(token, {
        kind: failure.errorKind === 'spec' ? 'spec' : 'crashed',
        message: failure.message,
        traceback: failure.traceback || null,
      });
    }
    if (failure instanceof PythonCrashed || failure instanceof BridgeProtocolError) {
      return this.#fail(token, {
        kind: 'crashed',
        message: failure.message,
        traceback: failure.stderrTail || null,
      });
    }
    // An evaluation trains no backbone, so a diverged result is a broken trainer, not a diverged run.
    if (failure instanceof Diverged) return this.#fail(token, { kind: 'crashed', message: failure.message });
    return this.#infrastructure(token, describe(failure));
  }

  async #fail(token: string, error: Failure): Promise<EvaluationJobOutcome> {
    const { requestId } = this.#request;
    await this.#deps.db.evaluationRequests.finishRequest(requestId, token, {
      status: 'failed',
      error: { ...error, message: error.message || `${error.kind} failure` },
    });
    this.#log.warn('evaluation failed', { kind: error.kind, message: error.message });
    return { kind: 'failed', errorKind: error.kind, message: error.message };
  }

  async #requeue(token: string): Promise<EvaluationJobOutcome> {
    await this.#deps.db.evaluationRequests.requeueRequest(this.#request.requestId, token);
    this.#log.info('evaluation handed back to the queue');
    return { kind: 'requeued' };
  }

  /** Not the evaluation's fault: retried while deliveries are left, else recorded as `infrastructure`. */
  async #infrastructure(token: string, message: string): Promise<EvaluationJobOutcome> {
    if (this.#request.finalDelivery) return this.#fail(token, { kind: 'infrastructure', message });
    await this.#deps.db.evaluationRequests.requeueRequest(this.#request.requestId, token);
    this.#log.warn('evaluation failed for infrastructure reasons; the job will be retried', { message });
    return { kind: 'retry', message };
  }
}
