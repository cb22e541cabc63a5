#!/usr/bin/env node
// What the service costs on top of the trainer, measured side by side in one run:
//  1. the same spec through `python -m swavlab train` directly and through the worker (BullMQ job on a real
//     Redis → claim → forked runner → pythonia → trainer, events persisted to the database): wall-time ratio;
//  2. the event rate the bridge sustains (metrics events through runner → worker → database), with a
//     stand-in trainer (flood_trainer.py) that sends events as fast as the bridge takes them.
//
// Usage (the worker runs from its build):
//   npx tsc -b apps/worker && node bench/bridge/overhead.mjs [--seconds 60] [--repeat 1] [--side-by-side] [--events 20000]
//     [--database memory://|postgres://…] [--redis redis://127.0.0.1:6379] [--python /usr/bin/python3]
// --seconds is the target length of the training run (its epochs are sized from a 2-epoch calibration run).
// --repeat N runs N pairs in alternating order and reports the median ratio and the ratio of the fastest
// runs. --side-by-side runs the two of each pair at the same time instead, so that both see the same load
// (on a machine busy with other work, sequential runs differ by more than the overhead being measured).
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '@swavlab/db';
import { createPretrainQueue, enqueueRun, redisConnectionOptions } from '@swavlab/queue';
import { hashValidSpec, parseExperimentSpec } from '@swavlab/spec';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER_DIST = join(ROOT, 'apps/worker/dist/index.js');
const TRAINER_ROOT = join(ROOT, 'packages/trainer');
const METRICS_PER_EVENT = 5;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    repeat: { type: 'string', default: '1' },
    'side-by-side': { type: 'boolean', default: false },
    events: { type: 'string', default: '20000' },
    database: { type: 'string', default: 'memory://' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    python: { type: 'string', default: process.env.PYTHON_BIN ?? '/usr/bin/python3' },
  },
});
const targetSeconds = Number(args.seconds);
const floodEvents = Number(args.events);
const repeat = Number(args.repeat);
if (!Number.isInteger(repeat) || repeat < 1)
  throw new RangeError(`--repeat: expected a positive integer, got ${args.repeat}`);
if (!(targetSeconds > 0)) throw new RangeError(`--seconds: expected a positive number, got ${args.seconds}`);
if (!Number.isInteger(floodEvents) || floodEvents < 1) {
  throw new RangeError(`--events: expected a positive integer, got ${args.events}`);
}
if (!existsSync(WORKER_DIST))
  throw new Error(`${WORKER_DIST} is missing: run \`npx tsc -b apps/worker\` first`);
const { loadWorkerConfig, startWorker, createJsonLogger } = await import(WORKER_DIST);

/** A small but real SwAV run on the CPU: 32 px images, 2x32+2x16 crops, k-NN evaluation at the end. */
function benchSpec(epochs) {
  const parsed = parseExperimentSpec({
    seed: randomInt(1, 2 ** 31 - 1),
    model: { arch: 'tiny', small_stem: true, hidden_mlp: 128, feat_dim: 32 },
    data: { num_images: 1024, image_size: 32 },
    swav: { prototypes: 100, crops: '2x32+2x16', freeze_prototypes_iters: 0 },
    optim: { batch_size: 32, epochs, warmup_epochs: 0, base_lr: 0.1, final_lr: 0.001 },
    runtime: { workers: 0, threads: 1 },
    checkpoint: { every_epochs: 1 },
    eval: { knn: { k: [5] }, linear: null },
  });
  if (!parsed.ok) throw new Error(`bench spec invalid: ${JSON.stringify(parsed.errors)}`);
  return { spec: JSON.parse(JSON.stringify(parsed.spec)), specHash: hashValidSpec(parsed.spec) };
}

/** Runs `python -m swavlab train` on `spec`; resolves with its wall time (s) and its stdout. */
async function trainDirectly(spec, dir, json) {
  const specFile = join(dir, `spec-${randomBytes(4).toString('hex')}.json`);
  await writeFile(specFile, JSON.stringify(spec));
  const argv = [
    '-m',
    'swavlab',
    'train',
    '--spec',
    specFile,
    '--out',
    join(dir, 'direct'),
    ...(json ? ['--json'] : []),
  ];
  const started = process.hrtime.bigint();
  // A session of its own, like the worker's job trees (forked detached): with the kernel's autogroup scheduling
  // a session is one scheduling group, and sharing the bench's would handicap the direct run on a busy machine.
  const child = spawn(args.python, argv, {
    detached: true,
    env: { ...process.env, PYTHONPATH: TRAINER_ROOT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    stdout += text;
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`python -m swavlab train exited with ${code}`);
  return { seconds, stdout };
}

/** Runs a spec as a queued job through a started worker; resolves with enqueue → succeeded wall time (s). */
async function trainThroughWorker(db, queue, { spec, specHash }) {
  const { run } = await db.runs.createRun({ spec, specHash, seed: spec.seed });
  const started = process.hrtime.bigint();
  await enqueueRun(queue, { runId: run.id, specHash, attempts: 1 });
  for (;;) {
    const now = await db.runs.getRun(run.id);
    if (now.status === 'succeeded')
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, run: now };
    if (now.status === 'failed' || now.status === 'canceled') {
      throw new Error(`run ${run.id} ended ${now.status}: ${now.error?.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function withWorker(db, dir, overrides, body) {
  const prefix = `swavlab-bench-${randomBytes(4).toString('hex')}`;
  const queue = createPretrainQueue(redisConnectionOptions(args.redis, 'worker'), { prefix });
  await queue.waitUntilReady();
  const base = await loadWorkerConfig({
    ...process.env,
    SWAVLAB_SLOTS: '1',
    PYTHON_BIN: args.python,
    SWAVLAB_ARTIFACTS: join(dir, 'artifacts'),
  });
  const config = { ...base, redisUrl: args.redis, queuePrefix: prefix };
  const worker = await startWorker({ ...config, ...overrides }, { db, logger: createJsonLogger('warn') });
  try {
    return await body(queue);
  } finally {
    await worker.close(10_000);
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'swavlab-bench-bridge-'));
const db = await openDatabase({ url: args.database });
try {
  // Calibration: 2 epochs directly, to size the run to --seconds.
  const calibration = await trainDirectly(benchSpec(2).spec, dir, true);
  const epochSeconds = calibration.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .flatMap((event) =>
      event.type === 'metrics_batch' ? event.points : event.type === 'metrics' ? [event] : [],
    )
    .filter((point) => typeof point.values.epoch_seconds === 'number')
    .map((point) => point.values.epoch_seconds);
  const perEpoch = Math.max(...epochSeconds);
  const fixed = Math.max(0, calibration.seconds - epochSeconds.reduce((a, b) => a + b, 0));
  const epochs = Math.max(1, Math.round((targetSeconds - fixed) / perEpoch));
  const { spec } = benchSpec(epochs);

  const pairs = await withWorker(db, dir, {}, async (queue) => {
    const measured = [];
    for (let i = 0; i < repeat; i += 1) {
      if (args['side-by-side']) {
        const [direct, viaWorker] = await Promise.all([
          trainDirectly(spec, dir, false),
          trainThroughWorker(db, queue, benchSpec(epochs)),
        ]);
        measured.push({ direct: direct.seconds, worker: viaWorker.seconds, runId: viaWorker.run.id });
        continue;
      }
      // Alternating which side goes first spreads drifts in machine load over both.
      const direct = i % 2 === 0 ? await trainDirectly(spec, dir, false) : undefined;
      const viaWorker = await trainThroughWorker(db, queue, benchSpec(epochs));
      const directAfter = direct ?? (await trainDirectly(spec, dir, false));
      measured.push({ direct: directAfter.seconds, worker: viaWorker.seconds, runId: viaWorker.run.id });
    }
    return measured;
  });
  const median = (values) => {
    const sorted = values.toSorted((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const [{ count: points }] =
    await db.query`SELECT count(*)::int AS count FROM metric_points WHERE run_id = ${pairs[0].runId}`;

  const mode = args['side-by-side'] ? 'side by side' : 'one after the other';
  console.log(
    `bridge overhead: ${epochs} epochs (~${perEpoch.toFixed(2)} s each + ~${fixed.toFixed(1)} s start-up/eval), ${mode}`,
  );
  for (const [i, pair] of pairs.entries()) {
    console.log(
      `  pair ${i + 1}: direct python -m swavlab train ${pair.direct.toFixed(2)} s, ` +
        `worker enqueue → run succeeded ${pair.worker.toFixed(2)} s, ratio ${(pair.worker / pair.direct).toFixed(3)}`,
    );
  }
  console.log(`  (${points} metric points stored per run through the worker)`);
  const fastest = Math.min(...pairs.map((p) => p.worker)) / Math.min(...pairs.map((p) => p.direct));
  console.log(
    `  ratio worker / direct: median ${median(pairs.map((p) => p.worker / p.direct)).toFixed(3)}, ` +
      `fastest runs ${fastest.toFixed(3)}  (goal ≤ 1.05)`,
  );

  // Event rate: the flood trainer with 0 events gives the fixed cost, subtracted from the run with N events.
  const flood = {
    trainerModule: 'flood_trainer',
    trainerPythonPath: [fileURLToPath(new URL('.', import.meta.url)), TRAINER_ROOT],
  };
  const timings = await withWorker(db, dir, flood, async (queue) => {
    process.env.FLOOD_EVENTS = '0';
    const empty = await trainThroughWorker(db, queue, benchSpec(1));
    process.env.FLOOD_EVENTS = String(floodEvents);
    const full = await trainThroughWorker(db, queue, benchSpec(1));
    return { empty, full };
  });
  const [{ count: stored }] =
    await db.query`SELECT count(*)::int AS count FROM metric_points WHERE run_id = ${timings.full.run.id}`;
  if (stored !== floodEvents * METRICS_PER_EVENT) {
    throw new Error(`expected ${floodEvents * METRICS_PER_EVENT} stored points, found ${stored}`);
  }
  const busy = timings.full.seconds - timings.empty.seconds;
  console.log(
    `event rate (${db.kind}): ${floodEvents} metrics events × ${METRICS_PER_EVENT} values, all stored`,
  );
  console.log(
    `  ${timings.full.seconds.toFixed(2)} s with events − ${timings.empty.seconds.toFixed(2)} s without = ` +
      `${busy.toFixed(2)} s → ${Math.round(floodEvents / busy)} events/s (${Math.round((floodEvents * METRICS_PER_EVENT) / busy)} points/s)`,
  );
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
