// Contract tests of every endpoint, on both database backends. The worker does not run: where an endpoint shows
// what a worker records, the test writes those rows through packages/db as a worker would (claimRun's token).
import { redisConnectionOptions, subscribeCancels } from '@swavlab/queue';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, tinySpec } from './fixtures.js';
import { type Backend, expectProblem, type Harness, REDIS_URL, startHarness } from './harness.js';

const BACKENDS: Backend[] = ['pglite', 'postgres'];

describe.each(BACKENDS)('REST contract on %s', (backend) => {
  let h: Harness;
  let seed = 1000;
  /** A spec no other test submits (each call gets a new seed). */
  const uniqueSpec = (overrides: Record<string, unknown> = {}) => ({ ...tinySpec(overrides), seed: seed++ });

  beforeAll(async () => {
    h = await startHarness({ backend });
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const get = (url: string, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'GET', url, headers });

  async function submitted(spec: object = uniqueSpec()): Promise<{ id: string; spec_hash: string }> {
    const response = await post('/v1/runs', spec);
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }

  describe('POST /v1/runs', () => {
    it('creates a queued run with defaults applied and puts it on the queue with its priority', async () => {
      const spec = { ...uniqueSpec(), name: 'k30', tags: ['ablation'], priority: 7 };
      const response = await post('/v1/runs', spec);
      expect(response.statusCode).toBe(201);
      const run = response.json();
      expect(run).toMatchObject({
        name: 'k30',
        tags: ['ablation'],
        status: 'queued',
        priority: 7,
        deduplicated: false,
        attempt: 0,
        progress: { epoch: null, step: null, total_steps: null, eta_seconds: null, fraction: null },
        error: null,
      });
      expect(run.spec.swav).toMatchObject({ prototypes: 30, epsilon: 0.05, sinkhorn_iterations: 3 });
      expect(run.spec.swav.crops).toEqual([
        { count: 2, size: 16, min_scale: 0.14, max_scale: 1 },
        { count: 2, size: 8, min_scale: 0.05, max_scale: 0.14 },
      ]);
      expect(run.spec).not.toHaveProperty('priority');
      expect(run.spec_hash).toMatch(/^[0-9a-f]{64}$/);
      const job = await h.queue.getJob(run.id);
      expect(job?.data).toEqual({ runId: run.id, specHash: run.spec_hash });
      expect(job?.opts.priority).toBe(7);
    });

    it('deduplicates the same spec (other key order, explicit defaults, structured crops): one run', async () => {
      const spec = uniqueSpec();
      const first = await post('/v1/runs', spec);
      const again = await post('/v1/runs', {
        swav: {
          sinkhorn_iterations: 3,
          crops: [
            { count: 2, size: 16, min_scale: 0.14, max_scale: 1 },
            { count: 2, size: 8, min_scale: 0.05, max_scale: 0.14 },
          ],
          prototypes: 30,
        },
        seed: spec.seed,
        optim: spec.optim,
        model: spec.model,
        data: spec.data,
      });
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ id: first.json().id, deduplicated: true });
      const listed = await get(`/v1/runs?q=${encodeURIComponent(`seed = ${spec.seed}`)}`);
      expect(listed.json().runs).toHaveLength(1);
    });

    it('queues a failed run again when its spec is submitted again', async () => {
      const spec = uniqueSpec();
      const run = await submitted(spec);
      const token = await claim(h.db, run.id);
      await h.db.runs.finishRun(run.id, token, {
        status: 'failed',
        error: { kind: 'crashed', message: 'boom' },
      });
      await (await h.queue.getJob(run.id))?.remove();
      const again = await post('/v1/runs', spec);
      expect(again.statusCode).toBe(201);
      expect(again.json()).toMatchObject({ id: run.id, status: 'queued', deduplicated: false, error: null });
      expect(await h.queue.getJob(run.id)).toBeDefined();
    });

    it('honours Idempotency-Key: same body replays, another body is a 422', async () => {
      const key = `key-${seed}`;
      const spec = uniqueSpec();
      const first = await post('/v1/runs', spec, { 'idempotency-key': key });
      const replay = await post('/v1/runs', spec, { 'idempotency-key': key });
      expect(first.statusCode).toBe(201);
      expect(replay.statusCode).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json()).toEqual(first.json());
      const other = await post('/v1/runs', uniqueSpec(), { 'idempotency-key': key });
      expect(expectProblem(other, 422, 'idempotency_key_reused').errors[0]?.path).toBe('Idempotency-Key');
      const bad = await post('/v1/runs', uniqueSpec(), { 'idempotency-key': 'has space' });
      expect(expectProblem(bad, 400, 'validation_failed').errors[0]?.path).toBe('Idempotency-Key');
    });

    it('rejects invalid specs naming each field', async () => {
      const response = await post('/v1/runs', {
        ...uniqueSpec(),
        priority: 0,
        swav: { prototypes: 1, crops: '2x16+2x8', crops_for_assign: [0, 1] },
        optimm: {},
      });
      const problem = expectProblem(response, 400, 'validation_failed');
      expect(problem.errors).toEqual(
        expect.arrayContaining([
          { path: 'priority', message: 'must be >= 1; got 0' },
          { path: 'swav.prototypes', message: 'must be >= 2; got 1' },
          { path: 'optimm', message: 'unknown field "optimm" (did you mean "optim"?)' },
        ]),
      );
      const crossField = await post('/v1/runs', uniqueSpec({ swav: { crops_for_assign: [0, 9] } }));
      expect(expectProblem(crossField, 400).errors[0]?.path).toBe('swav.crops_for_assign[1]');
    });
  });

  describe('GET /v1/runs/{id} and its sub-resources', () => {
    it('shows progress, timings, last metrics, evaluations and checkpoints recorded by the worker', async () => {
      const run = await submitted();
      const token = await claim(h.db, run.id);
      await h.db.runs.updateProgress(run.id, token, { epoch: 1, step: 8, totalSteps: 16, etaSeconds: 12.5 });
      await h.db.metrics.appendMetrics(
        run.id,
        token,
        Array.from({ length: 100 }, (_, step) => ({
          name: 'loss',
          step,
          epoch: 0,
          value: step === 50 ? 99 : 8 - step / 100,
        })),
      );
      await h.db.metrics.appendMetrics(run.id, token, [{ name: 'lr', step: 99, value: 0.1 }]);
      await h.db.evaluations.addEvaluation(run.id, token, {
        name: 'knn_top1@20',
        value: 0.4,
        split: 'test',
        epoch: 1,
        step: 8,
      });
      await h.db.checkpoints.addCheckpoint(run.id, token, {
        epoch: 1,
        step: 8,
        path: `runs/${run.id}/ckpt-8.pt`,
        sha256: 'a'.repeat(64),
        bytes: 12345,
      });

      const detail = (await get(`/v1/runs/${run.id}`)).json();
      expect(detail).toMatchObject({
        id: run.id,
        status: 'running',
        attempt: 1,
        progress: { epoch: 1, step: 8, total_steps: 16, eta_seconds: 12.5, fraction: 0.5 },
        last_metrics: { loss: { step: 99, value: 8 - 99 / 100 }, lr: { step: 99, value: 0.1 } },
        evaluations: [{ name: 'knn_top1@20', value: 0.4, split: 'test', epoch: 1, step: 8 }],
        device: 'cpu',
        worker_host: 'test-host',
      });
      expect(detail.timings.started_at).toEqual(expect.any(String));
      expect(detail.timings.duration_seconds).toBeGreaterThanOrEqual(0);

      const metrics = (await get(`/v1/runs/${run.id}/metrics?name=loss&max_points=10`)).json();
      expect(metrics.series).toHaveLength(1);
      const loss = metrics.series[0];
      expect(loss.total_points).toBe(100);
      expect(loss.points.length).toBeLessThanOrEqual(10);
      expect(loss.points[0].step).toBe(0);
      expect(loss.points.at(-1).step).toBe(99);
      expect(loss.points.map((p: { value: number }) => p.value)).toContain(99);
      const all = (await get(`/v1/runs/${run.id}/metrics`)).json();
      expect(all.series.map((s: { name: string }) => s.name).sort()).toEqual(['loss', 'lr']);

      const checkpoints = (await get(`/v1/runs/${run.id}/checkpoints`)).json();
      expect(checkpoints.checkpoints).toEqual([
        expect.objectContaining({ epoch: 1, step: 8, bytes: 12345, sha256: 'a'.repeat(64), attempt: 1 }),
      ]);
    });

    it('answers unknown runs with 404 and malformed ids with 400, as problems', async () => {
      for (const suffix of ['', '/metrics', '/checkpoints', '/events']) {
        expectProblem(await get(`/v1/runs/01NOSUCHRUN${suffix}`), 404, 'not_found');
        const bad = expectProblem(
          await get(`/v1/runs/${encodeURIComponent('a b')}${suffix}`),
          400,
          'validation_failed',
        );
        expect(bad.errors[0]?.path).toBe('id');
      }
      expectProblem(await post('/v1/runs/01NOSUCHRUN/cancel'), 404, 'not_found');
      expectProblem(await post('/v1/runs/01NOSUCHRUN/retry'), 404, 'not_found');
      const metrics = expectProblem(await get('/v1/runs/01NOSUCHRUN/metrics?max_points=1'), 400);
      expect(metrics.errors[0]?.path).toBe('max_points');
    });
  });

  describe('GET /v1/runs', () => {
    it('pages through every matching run exactly once, newest first', async () => {
      const tag = `page-${backend}`;
      const ids: string[] = [];
      for (let i = 0; i < 11; i++) {
        ids.push((await submitted({ ...uniqueSpec(), tags: [tag] })).id);
      }
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const query: string = `tag=${tag}&page_size=3${token ? `&page_token=${token}` : ''}`;
        const page: { runs: { id: string }[]; next_page_token: string | null } = (
          await get(`/v1/runs?${query}`)
        ).json();
        seen.push(...page.runs.map((run) => run.id));
        token = page.next_page_token;
        pages++;
      } while (token !== null && pages < 10);
      expect(pages).toBe(4);
      expect(seen).toEqual([...ids].reverse());
    });

    it('filters by status, tag, grid and search expression', async () => {
      const tag = `filter-${backend}`;
      const a = await submitted({ ...uniqueSpec({ swav: { prototypes: 500 } }), tags: [tag] });
      const b = await submitted({ ...uniqueSpec({ swav: { prototypes: 700 } }), tags: [tag] });
      const token = await claim(h.db, b.id);
      await h.db.evaluations.addEvaluation(b.id, token, {
        name: 'knn_top1@20',
        value: 0.8,
        split: 'test',
        epoch: 2,
        step: 8,
      });
      await h.db.runs.finishRun(b.id, token, { status: 'succeeded' });
      const ids = async (query: string) =>
        (await get(`/v1/runs?tag=${tag}&${query}`)).json().runs.map((run: { id: string }) => run.id);
      expect(await ids('status=succeeded')).toEqual([b.id]);
      expect(await ids('status=queued&status=succeeded')).toEqual([b.id, a.id]);
      expect(
        await ids(`q=${encodeURIComponent('metrics.knn_top1@20 >= 0.8 and swav.prototypes = 700')}`),
      ).toEqual([b.id]);
      expect(await ids(`q=${encodeURIComponent('swav.prototypes < 600 OR NOT status = "queued"')}`)).toEqual([
        b.id,
        a.id,
      ]);
      expect(await ids('grid=01NOGRID')).toEqual([]);
    });

    it('reports bad parameters and search expressions as problems naming the parameter', async () => {
      const cases: [string, string][] = [
        ['page_size=0', 'page_size'],
        ['page_size=501', 'page_size'],
        ['page_size=ten', 'page_size'],
        ['status=done', 'status[0]'],
        ['page_token=garbage', 'page_token'],
        ['colour=red', 'colour'],
        [`q=${encodeURIComponent('swav.prototypes >')}`, 'q'],
        [`q=${encodeURIComponent("status = 'x'; DROP TABLE runs")}`, 'q'],
      ];
      for (const [query, path] of cases) {
        const problem = expectProblem(await get(`/v1/runs?${query}`), 400, 'validation_failed');
        expect(problem.errors[0]?.path, query).toBe(path);
      }
      const q = expectProblem(await get(`/v1/runs?q=${encodeURIComponent('seed = = 1')}`), 400);
      expect(q.errors[0]?.message).toBe(
        'at character 8: expected a value (a quoted string, a number, TRUE, FALSE or NULL), found "="',
      );
    });
  });

  describe('cancel and retry', () => {
    it('cancels a queued run at once and removes its job', async () => {
      const run = await submitted();
      expect(await h.queue.getJob(run.id)).toBeDefined();
      const response = await post(`/v1/runs/${run.id}/cancel`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ status: 'canceled', cancel_requested: true });
      expect(await h.queue.getJob(run.id)).toBeUndefined();
      expect((await post(`/v1/runs/${run.id}/cancel`)).json().status).toBe('canceled');
    });

    it('moves a running run to stopping and broadcasts the cancel to workers', async () => {
      const channelListener = new Redis(redisConnectionOptions(REDIS_URL, 'worker'));
      const heard: string[] = [];
      const unsubscribe = await subscribeCancels(channelListener, (runId) => heard.push(runId));
      try {
        const run = await submitted();
        await claim(h.db, run.id);
        const response = await post(`/v1/runs/${run.id}/cancel`);
        expect(response.json()).toMatchObject({ status: 'stopping', cancel_requested: true });
        for (let i = 0; i < 100 && !heard.includes(run.id); i++) await new Promise((r) => setTimeout(r, 20));
        expect(heard).toContain(run.id);
      } finally {
        await unsubscribe();
        channelListener.disconnect();
      }
    });

    it('refuses to cancel a finished run and to retry a queued one; retries a failed run', async () => {
      const done = await submitted();
      const token = await claim(h.db, done.id);
      await h.db.runs.finishRun(done.id, token, { status: 'succeeded' });
      expectProblem(await post(`/v1/runs/${done.id}/cancel`), 409, 'run_finished');

      const queued = await submitted();
      expectProblem(await post(`/v1/runs/${queued.id}/retry`), 409, 'not_retryable');

      const failing = await submitted();
      const attempt = await claim(h.db, failing.id);
      await h.db.runs.finishRun(failing.id, attempt, {
        status: 'failed',
        error: { kind: 'diverged', message: 'NaN' },
      });
      await (await h.queue.getJob(failing.id))?.remove();
      const retried = await post(`/v1/runs/${failing.id}/retry`);
      expect(retried.statusCode).toBe(200);
      expect(retried.json()).toMatchObject({ status: 'queued', error: null });
      expect(await h.queue.getJob(failing.id)).toBeDefined();
    });
  });

  describe('GET /v1/runs/{id}/events', () => {
    function parseEvents(body: string): { id: string; event: string; data: Record<string, unknown> }[] {
      return body
        .split('\n\n')
        .filter((block) => block.includes('event: '))
        .map((block) => {
          const field = (name: string) =>
            block
              .split('\n')
              .find((line) => line.startsWith(`${name}: `))
              ?.slice(name.length + 2) ?? '';
          return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) };
        });
    }

    it('streams progress, metrics and status changes, and ends after a terminal status', async () => {
      const run = await submitted();
      const stream = h.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/events` });
      await new Promise((r) => setTimeout(r, 100));
      const token = await claim(h.db, run.id);
      await h.db.runs.updateProgress(run.id, token, { epoch: 0, step: 4, totalSteps: 8 });
      await h.db.metrics.appendMetrics(run.id, token, [
        { name: 'loss', step: 1, value: 6 },
        { name: 'loss', step: 4, value: 5 },
      ]);
      await new Promise((r) => setTimeout(r, 100));
      await h.db.metrics.appendMetrics(run.id, token, [{ name: 'loss', step: 8, value: Number.NaN }]);
      await h.db.runs.finishRun(run.id, token, { status: 'succeeded' });
      const response = await stream;
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      const events = parseEvents(response.body);
      const names = events.map((e) => e.event);
      expect(names[0]).toBe('run');
      expect(names.at(-1)).toBe('end');
      expect(names).toContain('progress');
      expect(events.filter((e) => e.event === 'status').map((e) => e.data.status)).toEqual([
        'running',
        'succeeded',
      ]);
      const points = events
        .filter((e) => e.event === 'metrics')
        .flatMap((e) => e.data.points as { step: number; value: number | null }[]);
      expect(points.map((p) => [p.step, p.value])).toEqual([
        [1, 6],
        [4, 5],
        [8, null],
      ]);

      // Resuming from an event id sends only what came after it.
      const upToStep4 = events.find(
        (e) => e.event === 'metrics' && (e.data.points as { step: number }[]).some((p) => p.step === 4),
      );
      expect(upToStep4).toBeDefined();
      const resumed = await h.app.inject({
        method: 'GET',
        url: `/v1/runs/${run.id}/events`,
        headers: { 'last-event-id': upToStep4?.id ?? '' },
      });
      const resumedPoints = parseEvents(resumed.body)
        .filter((e) => e.event === 'metrics')
        .flatMap((e) => e.data.points as { step: number }[]);
      expect(resumedPoints.map((p) => p.step)).toEqual([8]);
      const bad = await h.app.inject({
        method: 'GET',
        url: `/v1/runs/${run.id}/events`,
        headers: { 'last-event-id': 'xyz' },
      });
      expect(expectProblem(bad, 400).errors[0]?.path).toBe('Last-Event-ID');
    });

    it('re-sends the points a resumed attempt replaced', async () => {
      const run = await submitted();
      const first = await claim(h.db, run.id);
      await h.db.metrics.appendMetrics(
        run.id,
        first,
        [1, 2, 3, 4, 5, 6].map((step) => ({ name: 'loss', step, value: step })),
      );
      await h.db.checkpoints.addCheckpoint(run.id, first, {
        epoch: 0,
        step: 4,
        path: 'c4.pt',
        sha256: 'b'.repeat(64),
        bytes: 1,
      });
      const stream = h.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/events` });
      await new Promise((r) => setTimeout(r, 150));
      await h.db.runs.requeueRun(run.id, first);
      const second = await claim(h.db, run.id);
      await h.db.metrics.appendMetrics(
        run.id,
        second,
        [5, 6, 7].map((step) => ({ name: 'loss', step, value: step * 10 })),
      );
      await h.db.runs.finishRun(run.id, second, { status: 'succeeded' });
      const points = parseEvents((await stream).body)
        .filter((e) => e.event === 'metrics')
        .flatMap((e) => e.data.points as { step: number; value: number }[])
        .map((p) => [p.step, p.value]);
      expect(points).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 6],
        [5, 50],
        [6, 60],
        [7, 70],
      ]);
    });
  });

  describe('grids', () => {
    const grid = (name: string, prototypes: number[], base: object = uniqueSpec()) => ({
      name,
      base,
      axes: { 'swav.prototypes': prototypes, 'swav.sinkhorn_iterations': [1, 3] },
      seeds: [1, 2],
      metric: { name: 'knn_top1@20', goal: 'max' },
    });

    it('expands a dry run without storing or queueing anything', async () => {
      const jobsBefore = await h.queue.count();
      const response = await post('/v1/grids?dry_run=true', grid('dry', [10, 20]));
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ dry_run: true, cell_count: 8, new_cells: 8 });
      expect(body.cells[0]).toMatchObject({
        index: 0,
        axis_values: { 'swav.prototypes': 10, 'swav.sinkhorn_iterations': 1 },
        seed: 1,
        existing_run_id: null,
      });
      expect(body.cells[7]).toMatchObject({
        axis_values: { 'swav.prototypes': 20, 'swav.sinkhorn_iterations': 3 },
        seed: 2,
      });
      const hashes = new Set(body.cells.map((c: { hash: string }) => c.hash));
      expect(hashes.size).toBe(8);
      expect(await h.queue.count()).toBe(jobsBefore);
      for (const cell of body.cells) {
        const found = (
          await get(
            `/v1/runs?q=${encodeURIComponent(`seed = ${cell.seed} and swav.prototypes = ${cell.axis_values['swav.prototypes']} and swav.sinkhorn_iterations = ${cell.axis_values['swav.sinkhorn_iterations']}`)}`,
          )
        ).json();
        expect(found.runs).toEqual([]);
      }
    });

    it('creates a grid with its runs, links cells that already exist, and reports status counts', async () => {
      const base = uniqueSpec();
      const first = await post('/v1/grids', grid('protos-a', [40, 50], base));
      expect(first.statusCode, first.body).toBe(201);
      const created = first.json();
      expect(created).toMatchObject({
        dry_run: false,
        name: 'protos-a',
        cell_count: 8,
        metric: { name: 'knn_top1@20', goal: 'max' },
        runs: { created: 8, deduplicated: 0 },
        status_counts: { queued: 8, total: 8 },
      });
      for (const id of created.runs.run_ids) expect(await h.queue.getJob(id)).toBeDefined();

      const second = (await post('/v1/grids', grid('protos-b', [50, 60], base))).json();
      expect(second.runs).toEqual(expect.objectContaining({ created: 4, deduplicated: 4 }));
      expect(second.runs.run_ids.slice(0, 4)).toEqual(created.runs.run_ids.slice(4, 8));

      const status = (await get(`/v1/grids/${created.id}`)).json();
      expect(status.status_counts).toMatchObject({ queued: 8, running: 0, succeeded: 0, total: 8 });
      expectProblem(await get('/v1/grids/01NOSUCHGRID'), 404, 'not_found');
    });

    it('summarises final metric values per group (mean, sample std, n, min, max) and reruns failed cells', async () => {
      const created = (await post('/v1/grids', grid('results', [70, 80]))).json();
      const runIds: string[] = created.runs.run_ids;
      const runs = await Promise.all(runIds.map((id) => h.db.runs.getRun(id)));
      // knn value = prototypes / 100 + seed / 10 + iterations / 1000: known groups.
      const expected = new Map<number, number[]>();
      for (const run of runs) {
        if (run === null) throw new Error('missing run');
        const axes = run.axisValues as Record<string, number>;
        const prototypes = axes['swav.prototypes'] as number;
        const token = await claim(h.db, run.id);
        if (prototypes === 80 && run.seed === 2 && axes['swav.sinkhorn_iterations'] === 3) {
          await h.db.runs.finishRun(run.id, token, {
            status: 'failed',
            error: { kind: 'crashed', message: 'x' },
          });
          continue;
        }
        const value = prototypes / 100 + run.seed / 10 + (axes['swav.sinkhorn_iterations'] as number) / 1000;
        await h.db.evaluations.addEvaluation(run.id, token, {
          name: 'knn_top1@20',
          value: value - 0.5,
          split: 'test',
          epoch: 1,
          step: 4,
        });
        await h.db.evaluations.addEvaluation(run.id, token, {
          name: 'knn_top1@20',
          value,
          split: 'test',
          epoch: 2,
          step: 8,
        });
        await h.db.metrics.appendMetrics(run.id, token, [{ name: 'loss', step: 8, value: prototypes }]);
        await h.db.runs.finishRun(run.id, token, { status: 'succeeded' });
        expected.set(prototypes, [...(expected.get(prototypes) ?? []), value]);
      }
      const results = (await get(`/v1/grids/${created.id}/results?group_by=swav.prototypes`)).json();
      expect(results).toMatchObject({
        metric: 'knn_top1@20',
        group_by: ['swav.prototypes'],
        runs_not_finished: 1,
      });
      for (const group of results.groups) {
        const values = expected.get(group.key['swav.prototypes']) ?? [];
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
        expect(group.n).toBe(values.length);
        expect(group.mean).toBeCloseTo(mean, 12);
        expect(group.std).toBeCloseTo(std, 12);
        expect(group.min).toBe(Math.min(...values));
        expect(group.max).toBe(Math.max(...values));
      }
      expect(results.groups.map((g: { n: number }) => g.n)).toEqual([4, 3]);

      const byBoth = (
        await get(`/v1/grids/${created.id}/results?metric=loss&group_by=swav.prototypes,seed`)
      ).json();
      expect(byBoth.groups).toHaveLength(4);
      expect(byBoth.groups[0]).toMatchObject({
        key: { 'swav.prototypes': 70, seed: 1 },
        n: 2,
        mean: 70,
        std: 0,
      });
      const byAxes = (await get(`/v1/grids/${created.id}/results`)).json();
      expect(byAxes.group_by).toEqual(['swav.prototypes', 'swav.sinkhorn_iterations']);

      const badPath = expectProblem(await get(`/v1/grids/${created.id}/results?group_by=swav.nope`), 400);
      expect(badPath.errors[0]?.path).toBe('group_by[0]');
      expect(
        expectProblem(await get(`/v1/grids/${created.id}/results?metric=accuracy`), 400).errors[0]?.path,
      ).toBe('metric');

      const rerun = (await post(`/v1/grids/${created.id}/rerun-failed`)).json();
      expect(rerun.requeued).toBe(1);
      expect((await h.db.runs.getRun(rerun.run_ids[0]))?.status).toBe('queued');
      expect(await h.queue.getJob(rerun.run_ids[0])).toBeDefined();
      expectProblem(await post('/v1/grids/01NOSUCHGRID/rerun-failed'), 404);
    });

    it('rejects invalid grids naming the field', async () => {
      const badAxis = await post('/v1/grids', { base: uniqueSpec(), axes: { 'swav.protoypes': [1, 2] } });
      expect(expectProblem(badAxis, 400).errors[0]).toEqual({
        path: 'axes["swav.protoypes"]',
        message: 'unknown spec path "swav.protoypes" (did you mean "swav.prototypes"?)',
      });
      const badCell = await post('/v1/grids', { base: uniqueSpec(), axes: { 'swav.prototypes': [1, 2000] } });
      expect(expectProblem(badCell, 400).errors[0]?.path).toBe('cells[0].swav.prototypes');
      const badQuery = await post('/v1/grids?dry_run=maybe', {
        base: uniqueSpec(),
        axes: { 'swav.prototypes': [5] },
      });
      expect(expectProblem(badQuery, 400).errors[0]?.path).toBe('dry_run');
    });
  });

  describe('operations and HTTP errors', () => {
    it('answers health, readiness and Prometheus metrics', async () => {
      await get('/no/such/route');
      expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
      expect((await get('/readyz')).json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', redis: 'ok' },
      });
      const metrics = await get('/metrics');
      expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(metrics.body).toMatch(/^swavlab_queue_jobs\{queue="pretrain",state="waiting"\} \d+$/m);
      expect(metrics.body).toMatch(/^swavlab_runs\{status="queued"\} [1-9]\d*$/m);
      expect(metrics.body).toMatch(/^# TYPE swavlab_reconciler_actions_total counter$/m);
      expect(metrics.body).toMatch(/^swavlab_reconciler_actions_total\{action="enqueued"\} \d+$/m);
      expect(metrics.body).toMatch(
        /^http_request_duration_seconds_bucket\{method="GET",route="\/v1\/runs\/:id",status="200",le="\+Inf"\} \d+$/m,
      );
      expect(metrics.body).toMatch(
        /^http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} \d+$/m,
      );
    });

    it('answers every HTTP-level error with a problem', async () => {
      expectProblem(await get('/v1/nothing-here'), 404, 'route_not_found');
      const notAllowed = expectProblem(
        await h.app.inject({ method: 'DELETE', url: '/v1/runs/abc' }),
        405,
        'method_not_allowed',
      );
      expect(notAllowed.detail).toContain('GET');
      const text = await h.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { 'content-type': 'text/plain' },
        payload: 'seed=1',
      });
      expectProblem(text, 415, 'unsupported_media_type');
      const malformed = await h.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { 'content-type': 'application/json' },
        payload: '{"seed": 1,',
      });
      expectProblem(malformed, 400, 'malformed_json');
      const huge = await h.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expectProblem(huge, 413, 'body_too_large');
      const empty = await h.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { 'content-type': 'application/json' },
      });
      expect(expectProblem(empty, 400, 'validation_failed').errors[0]?.message).toBe(
        'a JSON body is required',
      );
    });
  });
});
