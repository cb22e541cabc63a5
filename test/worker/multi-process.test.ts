// Runs of several ranks through the service: submitted over REST, scheduled onto device slots, trained as CPU
// processes (gloo) started by rank 0; killed with their worker and resumed by another one.
import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from '@swavlab/db';
import { type ExperimentSpecInput, hashValidSpec, parseExperimentSpec } from '@swavlab/spec';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../apps/api/src/app.js';
import { loadConfig } from '../../apps/api/src/config.js';
import type { WorkerHandle } from '../../apps/worker/src/main.js';
import {
  buildWorker,
  freshDatabase,
  metricSteps,
  openQueue,
  REDIS_URL,
  Resources,
  spawnWorker,
  startTestWorker,
  submitRun,
  tempDir,
  testConfig,
  testPrefix,
  tinySpec,
  waitFor,
  waitForStatus,
} from './helpers.js';

/** The live processes of a process group (the runner leads one per job: Python, its ranks, data loaders). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) === pgid && state !== 'Z') members.push(Number(name));
    } catch {
      // Gone while listing.
    }
  }
  return members;
}

/** True while `pid` runs (a zombie is dead: it only waits to be reaped). */
function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/**
 * The ranks of a job's tree: rank 0 (pythonia's Python, `rank0`) and the `python -m swavlab.rank` processes it
 * started. A child between fork and exec still shows its parent's command line and is not a rank: a child of rank 0
 * has rank 0's, and one a rank forks (a helper process such as ldconfig, run by ctypes' library lookup) has that
 * rank's, so a `swavlab.rank` process counts only when its parent is not one.
 */
function rankProcesses(pgid: number, rank0: number | undefined): number[] {
  return groupMembers(pgid).filter(
    (pid) =>
      pid === rank0 ||
      (commandLine(pid).includes('swavlab.rank') && !commandLine(parentOf(pid)).includes('swavlab.rank')),
  );
}

describe('a 2-process CPU run through REST, the worker and the bridge', () => {
  const resources = new Resources();
  let db: Database;
  let app: FastifyInstance;
  let worker: WorkerHandle;

  beforeAll(async () => {
    ({ db } = await freshDatabase('pglite', resources));
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const redis = new Redis(REDIS_URL);
    resources.add(() => redis.disconnect());
    app = await buildApp({
      db,
      queue,
      redis,
      config: { ...loadConfig({}), logLevel: 'silent', redisPrefix: prefix, rateLimitPerMinute: 0 },
    });
    resources.add(() => app.close());
    ({ worker } = await startTestWorker(
      resources,
      db,
      testConfig({ artifactsDir: await tempDir(resources), queuePrefix: prefix, slots: twoSlots() }),
    ));
  });
  afterAll(() => resources.cleanup());

  function twoSlots() {
    return [
      { index: 0, device: 'cpu' },
      { index: 1, device: 'cpu' },
    ];
  }

  async function submit(body: ExperimentSpecInput): Promise<string> {
    const response = await app.inject({ method: 'POST', url: '/v1/runs', payload: body });
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { id: string }).id;
  }

  it('trains like one process with the same global batch, and reports from rank 0 only', async () => {
    const seed = 20261206;
    const base = tinySpec({ seed, epochs: 1 }).spec as ExperimentSpecInput & {
      optim: object;
      runtime: object;
    };
    const two = await submit({
      ...base,
      optim: { ...base.optim, batch_size: 8 },
      runtime: { ...base.runtime, processes: 2 },
    });
    const one = await submit({ ...base, optim: { ...base.optim, batch_size: 16 } });
    const [twoRun, oneRun] = await Promise.all(
      [two, one].map((id) => waitForStatus(db, id, ['succeeded', 'failed'])),
    );
    expect(twoRun?.error).toBeNull();
    expect(oneRun?.error).toBeNull();
    expect(twoRun).toMatchObject({
      status: 'succeeded',
      device: 'cpu×2',
      progress: { step: 6, totalSteps: 6 },
    });

    const losses = async (id: string) =>
      new Map((await db.metrics.metricSeries(id, 'loss')).map((point) => [point.step, point.value]));
    const [twoLoss, oneLoss] = [await losses(two), await losses(one)];
    const common = [...twoLoss.keys()].filter((step) => oneLoss.has(step));
    expect(common.length).toBeGreaterThan(0);
    for (const step of common) {
      const expected = oneLoss.get(step) as number;
      // Float rounding only (all-reduced sums in another order): without BatchNorm over the global batch the
      // two runs differ by several percent.
      expect(Math.abs((twoLoss.get(step) as number) - expected)).toBeLessThan(1e-3 * Math.abs(expected));
    }
    // Each point and each evaluation once: rank 0 is the only rank that reports.
    const usage = (await db.metrics.metricSeries(two, 'prototype_usage')).map((point) => point.step);
    expect(usage.length).toBeGreaterThan(0);
    expect(new Set(usage).size).toBe(usage.length);
    const evaluations = await db.evaluations.listEvaluations(two);
    expect(evaluations.map((e) => [e.name, e.step]).sort()).toEqual([
      ['knn_top1@5', 6],
      ['random_init_knn_top1@5', 6],
    ]);
  });

  /** A 2-process run of many epochs, started, with the process ids of its ranks. */
  async function runningTwoProcessRun() {
    const base = tinySpec({ epochs: 200, checkpoint: { every_epochs: 0 } }).spec as ExperimentSpecInput & {
      runtime: object;
    };
    const id = await submit({ ...base, runtime: { ...base.runtime, processes: 2 } });
    // Two Python processes import torch and meet over gloo before the first step: minutes when the CI machine's
    // two cores also run other test files (a clean CI run once took over 60 s here).
    const active = await waitFor(
      'the run to be training',
      async () => {
        const run = worker.activeRuns().find((one) => one.runId === id);
        const steps = await metricSteps(db, id);
        return run?.runnerPid !== undefined && steps.length > 0 ? run : undefined;
      },
      240_000,
    );
    const pgid = active.runnerPid as number;
    const ranks = rankProcesses(pgid, active.pythonPid);
    expect(ranks).toHaveLength(2);
    return { id, pgid, ranks };
  }

  it('cancels a 2-process run: one checkpoint, from rank 0, and no process left', async () => {
    const { id, pgid } = await runningTwoProcessRun();
    const response = await app.inject({
      method: 'POST',
      url: `/v1/runs/${id}/cancel`,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode, response.body).toBe(200);
    const run = await waitForStatus(db, id, ['canceled', 'failed', 'succeeded']);
    expect(run.status).toBe('canceled');
    const checkpoints = await db.checkpoints.listCheckpoints(id);
    expect(checkpoints).toHaveLength(1);
    expect(checkpoints[0]?.step).toBe((await metricSteps(db, id)).at(-1)); // the step it stopped after
    await waitFor('the job processes to be gone', () => groupMembers(pgid).length === 0, 10_000, 50);
  }, 300_000);

  it('fails a 2-process run as crashed within 5 s when a rank dies, naming it, and leaves no process', async () => {
    const { id, pgid, ranks } = await runningTwoProcessRun();
    const rank1 = ranks.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('swavlab.rank'));
    expect(rank1).toBeDefined();
    process.kill(rank1 as number, 'SIGKILL');
    const killedAt = Date.now();
    const run = await waitForStatus(db, id, ['failed', 'canceled', 'succeeded']);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(run.error?.kind).toBe('crashed');
    expect(run.error?.message).toMatch(/^rank 1 of the run was killed by SIGKILL/);
    await waitFor('the job processes to be gone', () => groupMembers(pgid).length === 0, 10_000, 50);
  }, 300_000);

  it('refuses a run no live worker can hold, naming the field and what the workers have', async () => {
    const base = tinySpec({ epochs: 1 }).spec as ExperimentSpecInput & { runtime: object };
    const id = await submit({ ...base, runtime: { ...base.runtime, processes: 3 } });
    const run = await waitForStatus(db, id, ['failed']);
    expect(run.error?.kind).toBe('spec');
    expect(run.error?.message).toMatch(
      /^runtime\.processes: the run needs 3 device slots; this worker has 2, and no live worker can hold 3 ranks \(.+: 2 slots, no GPU\)/,
    );
  });
});

describe('a worker with 4 CPU slots and runs of 1 to 4 processes', () => {
  const resources = new Resources();
  afterAll(() => resources.cleanup());

  it('never runs more than 4 ranks at once, finishes every run, and starts a 4-process run behind a stream of 1-process runs in bounded time', async () => {
    const { db } = await freshDatabase('pglite', resources);
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const reserveAfterMs = 4_000;
    const slots = [0, 1, 2, 3].map((index) => ({ index, device: 'cpu' }));
    const { worker, entries } = await startTestWorker(
      resources,
      db,
      testConfig({ artifactsDir: await tempDir(resources), queuePrefix: prefix, slots, reserveAfterMs }),
    );
    const spec = (processes: number, epochs = 1) => {
      const input = tinySpec({ epochs, numImages: 96 }).spec as ExperimentSpecInput & { runtime: object };
      const parsed = parseExperimentSpec({ ...input, runtime: { ...input.runtime, processes } });
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      return {
        spec: JSON.parse(JSON.stringify(parsed.spec)),
        specHash: hashValidSpec(parsed.spec),
        seed: parsed.spec.seed,
      };
    };

    // The worker's own count of the ranks it runs, and the rank processes alive on the machine.
    let mostGranted = 0;
    let mostAlive = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const active = worker.activeRuns();
        const ranks = active.reduce((sum, run) => sum + run.ranks, 0);
        const pythons = active.reduce(
          (sum, run) => sum + (run.runnerPid ? rankProcesses(run.runnerPid, run.pythonPid).length : 0),
          0,
        );
        mostGranted = Math.max(mostGranted, ranks);
        mostAlive = Math.max(mostAlive, pythons);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    // Mixed sizes, in an order where big runs arrive while small ones hold slots.
    const mixed = [];
    for (const processes of [2, 1, 4, 3, 1, 2]) mixed.push(await submitRun(db, queue, spec(processes)));
    // Then a 4-process run behind a stream of 1-process runs that keeps every slot wanted.
    for (let i = 0; i < 3; i += 1) mixed.push(await submitRun(db, queue, spec(1, 2)));
    const big = await submitRun(db, queue, spec(4));
    const stream = [];
    for (let i = 0; i < 6; i += 1) {
      stream.push(await submitRun(db, queue, spec(1, 2)));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    for (const run of [...mixed, big, ...stream]) {
      expect((await waitForStatus(db, run.id, ['succeeded', 'failed'], 300_000)).status).toBe('succeeded');
    }
    sampling = false;
    await sampler;
    expect(Math.max(mostGranted, mostAlive)).toBeGreaterThan(1);
    expect(mostGranted, 'ranks the worker ran at once').toBeLessThanOrEqual(4);
    expect(mostAlive, 'rank processes alive at once').toBeLessThanOrEqual(4);

    // The bound: reserveAfterMs plus the longest run that was running when the reservation began (slack for
    // fetching and starting processes on a busy machine).
    const durations = await Promise.all(
      [...mixed, ...stream].map(async (run) => {
        const done = await db.runs.getRun(run.id);
        return (done?.finishedAt?.getTime() ?? 0) - (done?.startedAt?.getTime() ?? 0);
      }),
    );
    const granted = entries.find((entry) => entry.msg === 'device slots granted' && entry.runId === big.id);
    expect(granted?.device).toBe('cpu×4');
    expect(granted?.waitedMs as number).toBeLessThanOrEqual(reserveAfterMs + Math.max(...durations) + 5_000);
  }, 400_000);
});

describe('a 2-process run whose worker is SIGKILLed', () => {
  const resources = new Resources();
  afterAll(() => resources.cleanup());

  it('leaves no process of the job, and a second worker resumes it from the last checkpoint', async () => {
    await buildWorker();
    const { db, url } = await freshDatabase('postgres', resources);
    const prefix = testPrefix();
    const queue = await openQueue(resources, prefix);
    const artifactsDir = await tempDir(resources);
    const input = tinySpec({ epochs: 3, numImages: 512, checkpoint: { keep_last: 100 } })
      .spec as ExperimentSpecInput & {
      runtime: object;
      swav: object;
      optim: object;
    };
    const parsed = parseExperimentSpec({
      ...input,
      optim: { ...input.optim, batch_size: 8 },
      swav: { ...input.swav, queue_length: 32, queue_start_epoch: 1 },
      runtime: { ...input.runtime, processes: 2 },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const spec = {
      spec: JSON.parse(JSON.stringify(parsed.spec)),
      specHash: hashValidSpec(parsed.spec),
      seed: parsed.spec.seed,
    };
    const run = await submitRun(db, queue, spec, 3);

    const first = spawnWorker(resources, {
      DATABASE_URL: url,
      SWAVLAB_HOME: await tempDir(resources),
      SWAVLAB_ARTIFACTS: artifactsDir,
      SWAVLAB_QUEUE_PREFIX: prefix,
      SWAVLAB_SLOTS: '2',
      SWAVLAB_LOCK_DURATION_MS: '4000',
      SWAVLAB_STALLED_INTERVAL_MS: '1000',
      SWAVLAB_LOG_LEVEL: 'debug',
    });
    const started = await first.waitForLog((entry) => entry.msg === 'trainer started');
    const runnerPid = started.runnerPid as number;
    const checkpoint = await waitFor(
      'the epoch-1 checkpoint row',
      async () => (await db.checkpoints.listCheckpoints(run.id)).find((c) => c.epoch === 1),
      120_000,
      20,
    );
    await first.waitForLog(
      (entry) =>
        entry.msg === 'trainer event' && ((entry.event as { step?: number }).step ?? 0) > checkpoint.step,
    );
    const tree = groupMembers(runnerPid);
    expect(rankProcesses(runnerPid, undefined)).toHaveLength(1); // rank 1, started by rank 0
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(
      'every process of the job to be gone',
      () => groupMembers(runnerPid).length === 0,
      15_000,
      50,
    );
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(tree.filter(isLive)).toEqual([]);

    const { entries } = await startTestWorker(
      resources,
      db,
      testConfig({
        artifactsDir,
        queuePrefix: prefix,
        slots: [
          { index: 0, device: 'cpu' },
          { index: 1, device: 'cpu' },
        ],
      }),
    );
    const done = await waitForStatus(db, run.id, ['succeeded', 'failed'], 180_000);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, device: 'cpu×2' });
    const resumed = entries.find((entry) => entry.msg === 'attempt starts' && entry.attempt === 2);
    const latest = (await db.checkpoints.listCheckpoints(run.id)).filter((c) => c.attempt === 1).at(-1);
    expect(resumed?.resumeStep).toBe(latest?.step);
    const steps = await metricSteps(db, run.id);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(done.progress?.totalSteps);
  }, 300_000);
});
