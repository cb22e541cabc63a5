// POST/GET /v1/runs/{id}/evaluations: validation of the eval section (422 naming the field), the checkpoint it
// reads (409 without one), the stored request, its queue job and the OpenAPI document; the run view's dataset.
import { createEvaluateQueue, type EvaluateQueue } from '@swavlab/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, createRun } from './fixtures.js';
import { expectProblem, type Harness, startHarness } from './harness.js';

let h: Harness;
let queue: EvaluateQueue;

beforeAll(async () => {
  h = await startHarness({ backend: 'pglite' });
  queue = createEvaluateQueue(h.redis, { prefix: h.queue.opts.prefix });
});
afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  await h?.close();
});

/** A run that wrote checkpoints at steps 4 and 8 and reported its dataset. */
async function checkpointedRun() {
  const run = await createRun(h.db, { seed: Math.floor(Math.random() * 1e9) });
  const token = await claim(h.db, run.id);
  for (const step of [4, 8]) {
    await h.db.checkpoints.addCheckpoint(run.id, token, {
      epoch: step / 4,
      step,
      path: `${run.id}/attempt-1/ckpt-${step}.pt`,
      sha256: 'c'.repeat(64),
      bytes: 100,
    });
  }
  await h.db.runs.recordDataset(run.id, token, {
    source: 'synthetic',
    pretrain_images: 52,
    eval_train_images: 52,
    eval_test_images: 12,
    classes: 10,
    skipped: 0,
  });
  return run;
}

function post(runId: string, body: unknown) {
  return h.app.inject({ method: 'POST', url: `/v1/runs/${runId}/evaluations`, payload: body as object });
}

describe('POST /v1/runs/{id}/evaluations', () => {
  it("queues an evaluation of the latest checkpoint, defaults applied, and lists it with the run's requests", async () => {
    const run = await checkpointedRun();
    const response = await post(run.id, { eval: { linear: { protocol: 'paper', epochs: 1 }, knn: null } });
    expect(response.statusCode, response.body).toBe(202);
    const created = response.json();
    expect(created).toMatchObject({
      run_id: run.id,
      status: 'queued',
      checkpoint_step: 8,
      attempt: 0,
      results: null,
      error: null,
      started_at: null,
      eval: {
        every_epochs: 0,
        knn: null,
        linear: { protocol: 'paper', epochs: 1, lr: 0.3, batch_size: 256 },
        semisup: null,
      },
    });
    expect(response.headers.location).toBe(`/v1/runs/${run.id}/evaluations/${created.id}`);
    const job = await queue.getJob(created.id);
    expect(job?.data).toEqual({ requestId: created.id, runId: run.id });

    const earlier = await post(run.id, { eval: {}, checkpoint_step: 4 });
    expect(earlier.statusCode, earlier.body).toBe(202);
    expect(earlier.json()).toMatchObject({ checkpoint_step: 4, eval: { knn: { k: [20, 200] } } });

    const list = await h.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/evaluations` });
    expect(list.statusCode).toBe(200);
    expect(list.json().requests.map((r: { id: string }) => r.id)).toEqual([created.id, earlier.json().id]);
    const one = await h.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/evaluations/${created.id}` });
    expect(one.json()).toEqual(created);
    const elsewhere = await h.app.inject({
      method: 'GET',
      url: `/v1/runs/${(await checkpointedRun()).id}/evaluations/${created.id}`,
    });
    expectProblem(elsewhere, 404, 'not_found');
  });

  it('answers 422 naming the field for a bad eval section', async () => {
    const run = await checkpointedRun();
    const protocol = expectProblem(
      await post(run.id, { eval: { linear: { protocol: 'slow' } } }),
      422,
      'invalid_eval',
    );
    expect(protocol.errors).toEqual([
      { path: 'eval.linear.protocol', message: 'must be one of "fast", "paper"; got string "slow"' },
    ]);
    const typo = expectProblem(await post(run.id, { eval: { linaer: null } }), 422, 'invalid_eval');
    expect(typo.errors[0]).toEqual({
      path: 'eval.linaer',
      message: 'unknown field "linaer" (did you mean "linear"?)',
    });
    const during = expectProblem(await post(run.id, { eval: { every_epochs: 2 } }), 422, 'invalid_eval');
    expect(during.errors[0]?.path).toBe('eval.every_epochs');
    const nothing = expectProblem(
      await post(run.id, { eval: { knn: null, linear: null, semisup: null } }),
      422,
      'invalid_eval',
    );
    expect(nothing.errors).toEqual([
      { path: 'eval', message: 'asks for nothing: set at least one of knn, linear, semisup' },
    ]);
    // A cross-field rule of the spec applies to the section too.
    const decay = expectProblem(
      await post(run.id, { eval: { semisup: { decay_epochs: [5, 3] } } }),
      422,
      'invalid_eval',
    );
    expect(decay.errors[0]?.path).toBe('eval.semisup.decay_epochs[1]');
    expect(await h.db.evaluationRequests.listRequests(run.id)).toEqual([]);
  });

  it('answers 400 for a malformed body outside the eval section', async () => {
    const run = await checkpointedRun();
    const missing = expectProblem(await post(run.id, { checkpoint_step: 4 }), 400, 'validation_failed');
    expect(missing.errors).toEqual([{ path: 'eval', message: 'is required' }]);
    const step = expectProblem(
      await post(run.id, { eval: {}, checkpoint_step: -1 }),
      400,
      'validation_failed',
    );
    expect(step.errors[0]?.path).toBe('checkpoint_step');
  });

  it('answers 404 for an unknown run and 409 without the checkpoint', async () => {
    expectProblem(await post('01NOSUCHRUN', { eval: {} }), 404, 'not_found');
    const fresh = await createRun(h.db, { seed: 7 });
    const none = expectProblem(await post(fresh.id, { eval: {} }), 409, 'no_checkpoint');
    expect(none.detail).toMatch(/has no checkpoint yet/);
    const run = await checkpointedRun();
    const wrong = expectProblem(
      await post(run.id, { eval: {}, checkpoint_step: 5 }),
      409,
      'checkpoint_not_found',
    );
    expect(wrong.errors).toEqual([
      { path: 'checkpoint_step', message: 'no checkpoint at step 5; the run has checkpoints at steps 4, 8' },
    ]);
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/runs/01NOSUCHRUN/evaluations' }), 404);
  });
});

describe('the run view', () => {
  it('carries the dataset counts once reported, null before', async () => {
    const fresh = await createRun(h.db, { seed: 8 });
    expect((await h.app.inject({ method: 'GET', url: `/v1/runs/${fresh.id}` })).json().dataset).toBeNull();
    const run = await checkpointedRun();
    const view = (await h.app.inject({ method: 'GET', url: `/v1/runs/${run.id}` })).json();
    expect(view.dataset).toEqual({
      source: 'synthetic',
      pretrain_images: 52,
      eval_train_images: 52,
      eval_test_images: 12,
      classes: 10,
      skipped: 0,
    });
  });

  it('documents the evaluation routes in the OpenAPI document', async () => {
    const document = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const route = document.paths['/v1/runs/{id}/evaluations'];
    expect(Object.keys(route).sort()).toEqual(['get', 'post']);
    expect(Object.keys(route.post.responses)).toContain('202');
    expect(document.paths['/v1/runs/{id}/evaluations/{evaluation_id}'].get).toBeDefined();
  });
});
