import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CreateRunInput,
  type Database,
  InvalidInputError,
  type Run,
  StaleAttemptError,
} from '../src/index.js';
import { testBackends } from './backends.js';

/** A fresh spec and its hash; every call is a different experiment. */
function newSpec(extra: Partial<CreateRunInput> = {}): CreateRunInput {
  const spec = { name: `run-${randomUUID()}`, swav: { prototypes: 3000 }, seed: 7 };
  return {
    spec,
    specHash: createHash('sha256').update(JSON.stringify(spec)).digest('hex'),
    seed: 7,
    ...extra,
  };
}

const worker = { workerHost: 'host-a', device: 'cpu' };

describe.each(testBackends())('runs on $kind', (backend) => {
  let db: Database;

  beforeAll(async () => {
    ({ db } = await backend.fresh());
  });

  async function claimed(input = newSpec()) {
    const { run } = await db.runs.createRun(input);
    const claim = await db.runs.claimRun(run.id, worker);
    if (claim === null) throw new Error('a queued run must be claimable');
    return claim;
  }

  it('creates a run once per spec hash', async () => {
    const input = newSpec({ name: 'k3000', tags: ['ablation', 'prototypes'], priority: 5 });
    const first = await db.runs.createRun(input);
    expect(first.created).toBe(true);
    expect(first.run).toMatchObject({
      name: 'k3000',
      spec: input.spec,
      specHash: input.specHash,
      seed: 7,
      status: 'queued',
      priority: 5,
      attempt: 0,
      tags: ['ablation', 'prototypes'],
      cancelRequested: false,
      error: null,
      gridId: null,
      startedAt: null,
    });
    const again = await db.runs.createRun({ ...input, name: 'other name' });
    expect(again).toEqual({ run: first.run, created: false });
    expect(await db.runs.getRun(first.run.id)).toEqual(first.run);
    expect(await db.runs.getRun('no-such-run')).toBeNull();
  });

  it('lets exactly one of several concurrent identical submissions create the run', async () => {
    const input = newSpec();
    const results = await Promise.all(Array.from({ length: 5 }, () => db.runs.createRun(input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
  });

  it('requeues a failed or canceled run when its spec is submitted again', async () => {
    const { run, token } = await claimed();
    await db.runs.finishRun(run.id, token, {
      status: 'failed',
      error: { kind: 'diverged', message: 'loss is NaN at step 12', traceback: 'Traceback ...' },
    });
    const failed = await db.runs.getRun(run.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toEqual({
      kind: 'diverged',
      message: 'loss is NaN at step 12',
      traceback: 'Traceback ...',
    });

    const again = await db.runs.createRun({ spec: run.spec, specHash: run.specHash, seed: run.seed });
    expect(again.created).toBe(true);
    expect(again.run).toMatchObject({
      id: run.id,
      status: 'queued',
      error: null,
      finishedAt: null,
      attempt: 1,
    });
    await expect(db.runs.updateProgress(run.id, token, { step: 1 })).rejects.toBeInstanceOf(
      StaleAttemptError,
    );

    const canceled = await db.runs.createRun(newSpec());
    await db.runs.requestCancel(canceled.run.id);
    expect(
      (await db.runs.createRun(newSpec({ spec: canceled.run.spec, specHash: canceled.run.specHash })))
        .created,
    ).toBe(true);
    expect(await db.runs.retryRun(canceled.run.id)).toBeNull(); // already queued again
  });

  it('retryRun resets only failed and canceled runs', async () => {
    const { run, token } = await claimed();
    expect(await db.runs.retryRun(run.id)).toBeNull();
    await db.runs.finishRun(run.id, token, {
      status: 'failed',
      error: { kind: 'crashed', message: 'SIGKILL' },
    });
    expect(await db.runs.retryRun(run.id)).toMatchObject({ status: 'queued', error: null });
  });

  it('gives every claim a new attempt and fencing token, and rejects writes from older attempts', async () => {
    const first = await claimed();
    expect(first.run).toMatchObject({ status: 'running', attempt: 1, workerHost: 'host-a', device: 'cpu' });
    expect(first.run.startedAt).toBeInstanceOf(Date);
    expect(first.resumeFrom).toBeNull();

    // The job is delivered again (the first worker lost its lock): a second attempt takes over.
    const second = await db.runs.claimRun(first.run.id, { workerHost: 'host-b', device: 'cuda:0' });
    expect(second?.run).toMatchObject({ attempt: 2, workerHost: 'host-b', device: 'cuda:0' });
    expect(second?.token).not.toBe(first.token);
    const token = second?.token ?? '';

    const stale = first.token;
    const id = first.run.id;
    await expect(db.runs.updateProgress(id, stale, { epoch: 1 })).rejects.toThrow(/superseded by attempt 2/);
    await expect(db.runs.finishRun(id, stale, { status: 'succeeded' })).rejects.toBeInstanceOf(
      StaleAttemptError,
    );
    await expect(db.runs.requeueRun(id, stale)).rejects.toBeInstanceOf(StaleAttemptError);
    await expect(
      db.metrics.appendMetrics(id, stale, [{ name: 'loss', step: 1, value: 1 }]),
    ).rejects.toBeInstanceOf(StaleAttemptError);
    await expect(
      db.checkpoints.addCheckpoint(id, stale, {
        epoch: 0,
        step: 1,
        path: 'a.pt',
        sha256: 'a'.repeat(64),
        bytes: 1,
      }),
    ).rejects.toBeInstanceOf(StaleAttemptError);
    await expect(
      db.evaluations.addEvaluation(id, stale, {
        name: 'knn_top1@20',
        value: 0.5,
        split: 'val',
        epoch: 0,
        step: 1,
      }),
    ).rejects.toBeInstanceOf(StaleAttemptError);
    expect(await db.metrics.metricSeries(id, 'loss')).toEqual([]);

    const progressed = await db.runs.updateProgress(id, token, {
      epoch: 2,
      step: 40,
      totalSteps: 400,
      etaSeconds: 12.5,
    });
    expect(progressed.progress).toEqual({ epoch: 2, step: 40, totalSteps: 400, etaSeconds: 12.5 });
    const done = await db.runs.finishRun(id, token, { status: 'succeeded', finalMetrics: { loss: 3.2 } });
    expect(done).toMatchObject({ status: 'succeeded', finalMetrics: { loss: 3.2 }, error: null });
    expect(done.finishedAt).toBeInstanceOf(Date);

    // A finished run takes no more writes, not even from the attempt that finished it, and is not claimable.
    await expect(db.runs.updateProgress(id, token, { step: 41 })).rejects.toThrow(/already succeeded/);
    expect(await db.runs.claimRun(id, worker)).toBeNull();
    expect(await db.runs.claimRun('no-such-run', worker)).toBeNull();
  });

  it('checks finish outcomes', async () => {
    const { run, token } = await claimed();
    const attempt = (outcome: unknown) =>
      db.runs.finishRun(run.id, token, outcome as Parameters<Database['runs']['finishRun']>[2]);
    await expect(attempt({ status: 'failed' })).rejects.toThrow(
      new InvalidInputError('outcome.error', 'a failed run needs an error {kind, message}'),
    );
    await expect(attempt({ status: 'failed', error: { kind: 'oops', message: 'x' } })).rejects.toThrow(
      /^outcome\.error\.kind: expected one of spec, diverged, crashed, infrastructure/,
    );
    await expect(attempt({ status: 'succeeded', error: { kind: 'spec', message: 'x' } })).rejects.toThrow(
      /^outcome\.error: only a failed run/,
    );
    await expect(attempt({ status: 'running' })).rejects.toThrow(
      /^outcome\.status: expected one of succeeded, failed, canceled/,
    );
    await expect(db.runs.updateProgress(run.id, token, { step: -1 })).rejects.toThrow(
      /^progress\.step: must be between 0/,
    );
    expect((await db.runs.getRun(run.id))?.status).toBe('running');
  });

  it('cancels a queued run at once and a running one through stopping', async () => {
    const queued = await db.runs.createRun(newSpec());
    const canceled = await db.runs.requestCancel(queued.run.id);
    expect(canceled).toMatchObject({ status: 'canceled', cancelRequested: true });
    expect(await db.runs.claimRun(queued.run.id, worker)).toBeNull();

    const { run, token } = await claimed();
    expect(await db.runs.requestCancel(run.id)).toMatchObject({ status: 'stopping', cancelRequested: true });
    expect(await db.runs.requestCancel(run.id)).toMatchObject({ status: 'stopping' });
    // The attempt learns about the request from its next progress write, and ends the run.
    expect((await db.runs.updateProgress(run.id, token, { step: 3 })).cancelRequested).toBe(true);
    expect(await db.runs.finishRun(run.id, token, { status: 'canceled' })).toMatchObject({
      status: 'canceled',
    });
    expect(await db.runs.requestCancel(run.id)).toMatchObject({ status: 'canceled' });
    expect(await db.runs.requestCancel('no-such-run')).toBeNull();
  });

  it('cancels a stopping run whose attempt was lost instead of running it again', async () => {
    const { run, token } = await claimed();
    await db.runs.requestCancel(run.id);
    expect(await db.runs.claimRun(run.id, worker)).toBeNull();
    expect(await db.runs.getRun(run.id)).toMatchObject({ status: 'canceled' });
    await expect(db.runs.finishRun(run.id, token, { status: 'canceled' })).rejects.toBeInstanceOf(
      StaleAttemptError,
    );
  });

  it('requeues a run on graceful shutdown, or cancels it when a cancel is pending', async () => {
    const { run, token } = await claimed();
    const requeued = await db.runs.requeueRun(run.id, token);
    expect(requeued).toMatchObject({ status: 'queued', attempt: 1 });
    await expect(db.runs.updateProgress(run.id, token, { step: 1 })).rejects.toBeInstanceOf(
      StaleAttemptError,
    );
    const again = await db.runs.claimRun(run.id, worker);
    expect(again?.run.attempt).toBe(2);

    await db.runs.requestCancel(run.id);
    expect(await db.runs.requeueRun(run.id, again?.token ?? '')).toMatchObject({ status: 'canceled' });
  });

  it('discards what a dead attempt recorded after the checkpoint the next attempt resumes from', async () => {
    const first = await claimed();
    const id = first.run.id;
    await db.metrics.appendMetrics(
      id,
      first.token,
      Array.from({ length: 10 }, (_, i) => ({
        name: 'loss',
        step: i + 1,
        epoch: Math.floor(i / 5),
        value: 10 - i,
      })),
    );
    await db.checkpoints.addCheckpoint(id, first.token, {
      epoch: 0,
      step: 5,
      path: `${id}/epoch-0.pt`,
      sha256: 'b'.repeat(64),
      bytes: 1234,
    });
    for (const step of [5, 8]) {
      await db.evaluations.addEvaluation(id, first.token, {
        name: 'knn_top1@20',
        value: step / 10,
        split: 'val',
        epoch: 0,
        step,
      });
    }

    const second = await db.runs.claimRun(id, worker);
    expect(second?.resumeFrom).toMatchObject({ step: 5, epoch: 0, attempt: 1 });
    expect((await db.metrics.metricSeries(id, 'loss')).map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
    expect((await db.evaluations.listEvaluations(id)).map((e) => e.step)).toEqual([5]);
    // The resumed attempt's own values for steps 6.. are stored, not skipped as duplicates.
    expect(
      await db.metrics.appendMetrics(id, second?.token ?? '', [{ name: 'loss', step: 6, value: 42 }]),
    ).toBe(1);
    expect((await db.metrics.metricSeries(id, 'loss')).at(-1)).toMatchObject({ step: 6, value: 42 });
  });

  it('discards further back when the attempt falls back to an older checkpoint, for its own token only', async () => {
    const first = await claimed();
    const id = first.run.id;
    await db.metrics.appendMetrics(
      id,
      first.token,
      Array.from({ length: 9 }, (_, i) => ({ name: 'loss', step: i + 1, value: i })),
    );
    for (const step of [3, 6]) {
      await db.checkpoints.addCheckpoint(id, first.token, {
        epoch: step / 3,
        step,
        path: `${id}/ckpt-${step}.pt`,
        sha256: 'c'.repeat(64),
        bytes: 10,
      });
    }
    const second = await db.runs.claimRun(id, worker);
    if (second === null) throw new Error('the run must be claimable again');
    expect(second.resumeFrom?.step).toBe(6);
    // The file of step 6 turned out corrupt: the attempt resumes from step 3 and drops everything after it.
    await expect(db.runs.discardAfterStep(id, first.token, 3)).rejects.toBeInstanceOf(StaleAttemptError);
    await db.runs.discardAfterStep(id, second.token, 3);
    expect((await db.metrics.metricSeries(id, 'loss')).map((p) => p.step)).toEqual([1, 2, 3]);
    expect((await db.checkpoints.listCheckpoints(id)).map((c) => c.step)).toEqual([3]);
    await db.runs.discardAfterStep(id, second.token, -1);
    expect(await db.metrics.metricSeries(id, 'loss')).toEqual([]);
    expect(await db.checkpoints.listCheckpoints(id)).toEqual([]);
    await expect(db.runs.discardAfterStep(id, second.token, -2)).rejects.toThrow(/step/);
  });
  describe('listing', () => {
    const tag = `page-${randomUUID()}`;
    let all: Run[];

    beforeAll(async () => {
      all = [];
      for (let i = 0; i < 13; i++)
        all.push((await db.runs.createRun(newSpec({ tags: [tag, i % 2 ? 'odd' : 'even'] }))).run);
      // A grid's runs are written by one statement and may share a created_at: the id breaks the tie.
      const { runs } = await db.grids.createGrid({
        name: 'tie',
        spec: {},
        metricName: 'knn_top1@20',
        metricGoal: 'max',
        cellCount: 9,
        cells: [Array.from({ length: 9 }, (_, i) => ({ ...newSpec({ tags: [tag] }), axisValues: { i } }))],
      });
      all.push(...(await db.runs.getRuns(runs.map((r) => r.run.id))));
    });

    async function pageThrough(
      pageSize: number,
      query: { status?: 'queued' | 'running'; tag?: string } = { tag },
    ) {
      const seen: string[] = [];
      let pageToken: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await db.runs.listRuns({ ...query, pageSize, ...(pageToken ? { pageToken } : {}) });
        expect(page.runs.length).toBeLessThanOrEqual(pageSize);
        seen.push(...page.runs.map((r) => r.id));
        if (page.nextPageToken === null) return seen;
        pageToken = page.nextPageToken;
      }
      throw new Error('pagination did not end');
    }

    it('visits every run exactly once, newest first, whatever the page size', async () => {
      const expected = [...all]
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
        .map((r) => r.id);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 25 }), async (pageSize) => {
          expect(await pageThrough(pageSize)).toEqual(expected);
        }),
        { numRuns: 12 },
      );
    });

    it('filters by status, grid and tag', async () => {
      const target = all[3] as Run;
      await db.runs.claimRun(target.id, worker);
      expect(await pageThrough(4, { tag, status: 'running' })).toEqual([target.id]);
      expect((await pageThrough(4, { tag: 'odd' })).length).toBeGreaterThanOrEqual(6);
      const gridId = all.at(-1)?.gridId ?? '';
      const gridRuns = await db.runs.listRuns({ gridId, pageSize: 100 });
      expect(gridRuns.runs).toHaveLength(9);
      expect(gridRuns.nextPageToken).toBeNull();
    });

    it('rejects bad page sizes and tokens, naming the field', async () => {
      await expect(db.runs.listRuns({ pageSize: 0 })).rejects.toThrow(/^pageSize: must be between 1 and 500/);
      await expect(db.runs.listRuns({ pageToken: 'not-a-token' })).rejects.toThrow(
        /^pageToken: is not a page token/,
      );
      await expect(db.runs.listRuns({ status: 'sleeping' as 'queued' })).rejects.toThrow(
        /^status\[0\]: expected one of/,
      );
    });
  });
});
