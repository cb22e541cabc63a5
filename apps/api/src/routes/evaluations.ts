// /v1/runs/{id}/evaluations: evaluate one of a run's checkpoints after the fact with an eval section of the spec
// (a linear probe with the paper's protocol on a run trained with the fast one, say), and follow such requests.
// A request is stored, then queued on the `evaluate` queue, which a worker processes like a one-rank run; its
// results are also stored as the run's evaluations at the checkpoint's step, replacing an earlier value there.
import type { Checkpoint, JsonObject, Run } from '@swavlab/db';
import { createEvaluateQueue, type EvaluateQueue, enqueueEvaluation, QueueUnavailable } from '@swavlab/queue';
import { Eval, EvaluationRequestView, type Issue, parseExperimentSpec } from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AppContext, RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { notFound, ProblemError } from '../problem.js';
import { guardRedis } from '../redis-guard.js';
import { evaluationRequestView } from '../run-view.js';
import { ResourceId, type ZodTypeProvider } from '../validation.js';

const EvaluationBody = z
  .strictObject({
    eval: Eval.meta({
      description:
        'what to evaluate, as the eval section of a spec (defaults apply: `{}` means k-NN and the fast linear ' +
        'probe); every_epochs must be 0',
    }),
    checkpoint_step: z
      .int()
      .min(0)
      .max(2_147_483_647)
      .optional()
      .meta({ description: "the step of the run's checkpoint to evaluate; default: its latest checkpoint" }),
  })
  .meta({ id: 'EvaluationSubmission' });

const RunParams = z.strictObject({ id: ResourceId });
const RequestParams = z.strictObject({ id: ResourceId, evaluation_id: ResourceId });

/** The eval section's own errors are 422 (the request is well-formed JSON asking for an impossible evaluation). */
function invalidEval(errors: readonly Issue[]): ProblemError {
  const first = errors[0];
  return new ProblemError(
    422,
    'invalid_eval',
    `invalid evaluation: ${first ? `${first.path}: ${first.message}` : 'invalid eval section'}` +
      (errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''),
    errors,
  );
}

/**
 * Turns a body validation failure into the problem to answer: 422 when the body has an eval section and every
 * error lies inside it, else the validator's own 400 (a body that is not an object, or lacks `eval`).
 */
function bodyProblem(error: Error, body: unknown): ProblemError | Error {
  if (!(error instanceof ProblemError)) return error;
  const hasEval = typeof body === 'object' && body !== null && 'eval' in body;
  const inEval = error.errors.every((issue) => issue.path === 'eval' || issue.path.startsWith('eval.'));
  return hasEval && inEval && error.errors.length > 0 ? invalidEval(error.errors) : error;
}

/**
 * The eval section as the worker will run it: the run's spec with its eval replaced must be valid (the spec's
 * cross-field rules apply), and the section must ask for something that a single evaluation can do.
 */
function evalFor(run: Run, section: z.output<typeof Eval>): z.output<typeof Eval> {
  const errors: Issue[] = [];
  if (section.every_epochs !== 0) {
    errors.push({
      path: 'eval.every_epochs',
      message:
        'applies while a run trains; a later evaluation runs once, on one checkpoint: leave it out or 0',
    });
  }
  if (section.knn === null && section.linear === null && section.semisup === null) {
    errors.push({ path: 'eval', message: 'asks for nothing: set at least one of knn, linear, semisup' });
  }
  const parsed = parseExperimentSpec({ ...run.spec, eval: section });
  if (!parsed.ok) errors.push(...parsed.errors);
  if (errors.length > 0 || !parsed.ok) throw invalidEval(errors);
  return parsed.spec.eval;
}

/** The checkpoint to evaluate: the one at `step`, else the latest; 409 when there is none. */
async function checkpointFor(ctx: AppContext, run: Run, step: number | undefined): Promise<Checkpoint> {
  if (step === undefined) {
    const latest = await ctx.db.checkpoints.latestCheckpoint(run.id);
    if (latest !== null) return latest;
    throw new ProblemError(
      409,
      'no_checkpoint',
      `run ${run.id} has no checkpoint yet, and an evaluation reads one: a run writes them every ` +
        'checkpoint.every_epochs epochs and when it ends; evaluate it once it has',
    );
  }
  const checkpoint = await ctx.db.checkpoints.getCheckpoint(run.id, step);
  if (checkpoint !== null) return checkpoint;
  const steps = (await ctx.db.checkpoints.listCheckpoints(run.id)).map((one) => one.step);
  throw new ProblemError(409, 'checkpoint_not_found', `run ${run.id} has no checkpoint at step ${step}`, [
    {
      path: 'checkpoint_step',
      message:
        steps.length === 0
          ? 'the run has no checkpoint'
          : `no checkpoint at step ${step}; the run has checkpoints at steps ${steps.join(', ')}`,
    },
  ]);
}

async function loadRun(ctx: AppContext, id: string): Promise<Run> {
  const run = await ctx.db.runs.getRun(id);
  if (run === null) throw notFound('run', id);
  return run;
}

export const evaluationRoutes: FastifyPluginAsync<RouteOptions> = async (instance, { ctx }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  // On the API's producer connection, under the pretrain queue's prefix: workers read both queues under one prefix.
  const queue: EvaluateQueue = createEvaluateQueue(
    ctx.redis,
    ctx.queue.opts.prefix === undefined ? {} : { prefix: ctx.queue.opts.prefix },
  );
  app.addHook('onClose', () => queue.close());

  app.post(
    '/runs/:id/evaluations',
    {
      config: { scope: 'submit' },
      attachValidation: true,
      schema: {
        summary: "Evaluate one of a run's checkpoints",
        description:
          "Queues an evaluation of the run's checkpoint at `checkpoint_step` (default: the latest) with the given " +
          'eval section, e.g. `{"eval": {"linear": {"protocol": "paper"}, "knn": null}}`. A worker runs it with ' +
          "the run's spec and that eval section on one device slot; its results are stored as the run's " +
          "evaluations at the checkpoint's step, replacing the value of the same metric at the same step. " +
          '422 when the eval section is invalid (naming the field), 409 when the run has no such checkpoint.',
        tags: ['runs'],
        params: RunParams,
        body: EvaluationBody,
        response: {
          202: EvaluationRequestView,
          ...problemResponses(400, 401, 403, 404, 409, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError !== undefined) throw bodyProblem(request.validationError, request.body);
      const run = await loadRun(ctx, request.params.id);
      const section = evalFor(run, request.body.eval);
      const checkpoint = await checkpointFor(ctx, run, request.body.checkpoint_step);
      const created = await ctx.db.evaluationRequests.createRequest({
        runId: run.id,
        eval: section as unknown as JsonObject,
        checkpointStep: checkpoint.step,
      });
      try {
        await guardRedis(ctx.redis, `enqueue evaluation ${created.id}`, () =>
          enqueueEvaluation(queue, { requestId: created.id, runId: run.id }),
        );
      } catch (error) {
        if (!(error instanceof QueueUnavailable)) throw error;
        // Nothing would ever pick it up: end it rather than leave it queued.
        await ctx.db.evaluationRequests.abandonRequest(
          created.id,
          'the queue (Redis) was not reachable when the evaluation was requested; request it again',
        );
        throw error;
      }
      return reply
        .code(202)
        .header('location', `/v1/runs/${run.id}/evaluations/${created.id}`)
        .send(evaluationRequestView(created));
    },
  );

  app.get(
    '/runs/:id/evaluations',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A run's requested evaluations",
        description: 'Oldest first, each with its status, and its results once it succeeded.',
        tags: ['runs'],
        params: RunParams,
        response: {
          200: z.object({ run_id: z.string(), requests: z.array(EvaluationRequestView) }),
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const run = await loadRun(ctx, request.params.id);
      const requests = await ctx.db.evaluationRequests.listRequests(run.id);
      return { run_id: run.id, requests: requests.map(evaluationRequestView) };
    },
  );

  app.get(
    '/runs/:id/evaluations/:evaluation_id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One requested evaluation',
        tags: ['runs'],
        params: RequestParams,
        response: { 200: EvaluationRequestView, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const found = await ctx.db.evaluationRequests.getRequest(request.params.evaluation_id);
      if (found === null || found.runId !== request.params.id) {
        throw notFound('evaluation', request.params.evaluation_id);
      }
      return evaluationRequestView(found);
    },
  );
};
