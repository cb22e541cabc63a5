// Evaluation requests (later evaluations of a checkpoint) and the dataset counts of a run.
import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Database, StaleAttemptError, StaleEvaluationError } from '../src/index.js';
import { testBackends } from './backends.js';

const worker = { workerHost: 'host-a', device: 'cpu' };
const linearPaper = { every_epochs: 0, knn: null, linear: { protocol: 'paper', epochs: 1 }, semisup: null };

describe.each(testBackends())('evaluation requests on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  /** A run that trained to step 12, checkpointed there and evaluated k-NN itself; finished. */
  async function finishedRun() {
    const spec = { id: randomUUID() };
    const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
    const { run } = await db.runs.createRun({ spec, specHash: hash, seed: 1 });
    const claim = await db.runs.claimRun(run.id, worker);
    if (claim === null) throw new Error('a queued run must be claimable');
    const checkpoint = await db.checkpoints.addCheckpoint(run.id, claim.token, {
      epoch: 2,
      step: 12,
      path: `${run.id}/attempt-1/ckpt.pt`,
      sha256: 'a'.repeat(64),
      bytes: 10,
    });
    await db.evaluations.addEvaluation(run.id, claim.token, {
      name: 'linear_top1',
      value: 0.25,
      split: 'test',
      epoch: 2,
      step: 12,
      checkpointId: checkpoint.id,
    });
    await db.runs.finishRun(run.id, claim.token, { status: 'succeeded' });
    return { runId: run.id, checkpointId: checkpoint.id };
  }

  it('creates, lists and reads requests, queued until claimed', async () => {
    const { runId } = await finishedRun();
    const first = await db.evaluationRequests.createRequest({ runId, eval: linearPaper, checkpointStep: 12 });
    const second = await db.evaluationRequests.createRequest({
      runId,
      eval: linearPaper,
      checkpointStep: 12,
    });
    expect(first).toMatchObject({
      runId,
      status: 'queued',
      eval: linearPaper,
      checkpointStep: 12,
      attempt: 0,
      error: null,
      results: null,
      startedAt: null,
      finishedAt: null,
    });
    expect((await db.evaluationRequests.listRequests(runId)).map((r) => r.id)).toEqual([first.id, second.id]);
    expect(await db.evaluationRequests.getRequest(second.id)).toEqual(second);
    expect(await db.evaluationRequests.getRequest('missing')).toBeNull();
    await expect(
      db.evaluationRequests.createRequest({ runId, eval: linearPaper, checkpointStep: -1 }),
    ).rejects.toThrow(/^checkpointStep: must be between 0/);
  });

  it('replaces the stored value of the same metric and step, linked to the checkpoint, then succeeds', async () => {
    const { runId, checkpointId } = await finishedRun();
    const request = await db.evaluationRequests.createRequest({
      runId,
      eval: linearPaper,
      checkpointStep: 12,
    });
    const claim = await db.evaluationRequests.claimRequest(request.id, worker);
    expect(claim?.request).toMatchObject({
      status: 'running',
      attempt: 1,
      workerHost: 'host-a',
      device: 'cpu',
    });
    const token = claim?.token as string;

    const stored = await db.evaluationRequests.recordResult(request.id, token, {
      name: 'linear_top1',
      value: 0.5,
      epoch: 2,
      step: 12,
    });
    expect(stored).toMatchObject({
      runId,
      name: 'linear_top1',
      value: 0.5,
      split: 'test',
      step: 12,
      checkpointId,
    });
    await db.evaluationRequests.recordResult(request.id, token, {
      name: 'linear_top5',
      value: Number.POSITIVE_INFINITY,
      epoch: 2,
      step: 12,
    });
    const evaluations = await db.evaluations.listEvaluations(runId);
    expect(evaluations.map((e) => [e.name, e.value, e.step])).toEqual([
      ['linear_top1', 0.5, 12],
      ['linear_top5', Number.NaN, 12],
    ]);

    const done = await db.evaluationRequests.finishRequest(request.id, token, {
      status: 'succeeded',
      results: { linear_top1: 0.5, linear_top5: null },
    });
    expect(done).toMatchObject({ status: 'succeeded', results: { linear_top1: 0.5, linear_top5: null } });
    expect(done.finishedAt).toBeInstanceOf(Date);
    // Finished: no new attempt, and the old token writes nothing more.
    expect(await db.evaluationRequests.claimRequest(request.id, worker)).toBeNull();
    await expect(
      db.evaluationRequests.recordResult(request.id, token, {
        name: 'linear_top1',
        value: 0,
        epoch: 2,
        step: 12,
      }),
    ).rejects.toThrow(StaleEvaluationError);
  });

  it('fences a superseded attempt: a re-delivery claims again and the old token is refused', async () => {
    const { runId } = await finishedRun();
    const request = await db.evaluationRequests.createRequest({
      runId,
      eval: linearPaper,
      checkpointStep: 12,
    });
    const lost = await db.evaluationRequests.claimRequest(request.id, worker);
    const again = await db.evaluationRequests.claimRequest(request.id, {
      workerHost: 'host-b',
      device: 'cpu',
    });
    expect(again?.request).toMatchObject({ attempt: 2, workerHost: 'host-b' });
    const write = db.evaluationRequests.recordResult(request.id, lost?.token as string, {
      name: 'linear_top1',
      value: 0.9,
      epoch: 2,
      step: 12,
    });
    await expect(write).rejects.toThrow(/superseded by attempt 2/);
    await expect(
      db.evaluationRequests.finishRequest(request.id, lost?.token as string, {
        status: 'succeeded',
        results: {},
      }),
    ).rejects.toThrow(StaleEvaluationError);

    const failed = await db.evaluationRequests.finishRequest(request.id, again?.token as string, {
      status: 'failed',
      error: { kind: 'crashed', message: 'boom', traceback: 'Traceback …' },
    });
    expect(failed).toMatchObject({
      status: 'failed',
      error: { kind: 'crashed', message: 'boom', traceback: 'Traceback …' },
      results: null,
    });
  });

  it('hands a request back to the queue on shutdown, and fails one the queue gave up on', async () => {
    const { runId } = await finishedRun();
    const request = await db.evaluationRequests.createRequest({
      runId,
      eval: linearPaper,
      checkpointStep: 12,
    });
    const claim = await db.evaluationRequests.claimRequest(request.id, worker);
    const requeued = await db.evaluationRequests.requeueRequest(request.id, claim?.token as string);
    expect(requeued.status).toBe('queued');
    const abandoned = await db.evaluationRequests.abandonRequest(request.id, 'the queue gave up');
    expect(abandoned).toMatchObject({
      status: 'failed',
      error: { kind: 'infrastructure', message: 'the queue gave up', traceback: null },
    });
    expect(await db.evaluationRequests.abandonRequest(request.id, 'again')).toBeNull();
  });

  it('scans requests by status in id order, and those not written since a time', async () => {
    const { runId } = await finishedRun();
    const queued = await db.evaluationRequests.createRequest({
      runId,
      eval: linearPaper,
      checkpointStep: 12,
    });
    const running = await db.evaluationRequests.createRequest({
      runId,
      eval: linearPaper,
      checkpointStep: 12,
    });
    await db.evaluationRequests.claimRequest(running.id, worker);
    const mine = (requests: { id: string }[]) =>
      requests.map((r) => r.id).filter((id) => id === queued.id || id === running.id);
    expect(mine(await db.evaluationRequests.scanRequests({ statuses: ['queued'] }))).toEqual([queued.id]);
    expect(mine(await db.evaluationRequests.scanRequests({ statuses: ['queued', 'running'] }))).toEqual([
      queued.id,
      running.id,
    ]);
    const after = await db.evaluationRequests.scanRequests({
      statuses: ['queued', 'running'],
      afterId: queued.id,
    });
    expect(mine(after)).toEqual([running.id]);
    const old = await db.evaluationRequests.scanRequests({
      statuses: ['queued', 'running'],
      updatedBefore: new Date(Date.now() - 60_000),
    });
    expect(mine(old)).toEqual([]);
  });

  it("stores the attempt's dataset counts on the run, fenced by its token", async () => {
    const spec = { id: randomUUID() };
    const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
    const { run } = await db.runs.createRun({ spec, specHash: hash, seed: 1 });
    expect(run.dataset).toBeNull();
    const claim = await db.runs.claimRun(run.id, worker);
    const counts = {
      source: 'synthetic',
      pretrain_images: 102,
      eval_train_images: 102,
      eval_test_images: 26,
      classes: 10,
      skipped: 0,
    };
    const stored = await db.runs.recordDataset(run.id, claim?.token as string, counts);
    expect(stored.dataset).toEqual(counts);
    expect((await db.runs.getRun(run.id))?.dataset).toEqual(counts);
    await expect(db.runs.recordDataset(run.id, 'not-the-token', counts)).rejects.toThrow(StaleAttemptError);
  });
});
