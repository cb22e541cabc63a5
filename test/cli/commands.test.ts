// The `swavlab` client commands against a live `swavlab up` (own redis-server, embedded database, temp home):
// output, --json, exit codes, spec-file errors, authentication, and the home lock.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliEnv,
  ensureCliBuilt,
  freePort,
  processExists,
  type RunningUp,
  removeHome,
  startUp,
  swavlab,
  tempHome,
  tinySpec,
} from './helpers.js';

interface RunJson {
  id: string;
  status: string;
  grid_id: string | null;
}

let home: string;
let up: RunningUp;
let adminToken: string;
let readToken: string;
/** Environment of client commands: the server's URL and the admin token. */
let env: NodeJS.ProcessEnv;

async function writeJson(name: string, value: unknown): Promise<string> {
  const file = join(home, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

async function runStatus(id: string): Promise<string> {
  const shown = await swavlab(['show', id, '--json'], env);
  expect(shown.code).toBe(0);
  return (JSON.parse(shown.stdout) as RunJson).status;
}

async function waitForStatus(id: string, statuses: string[], timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await runStatus(id);
    if (statuses.includes(status) || Date.now() > deadline) return status;
    await sleep(300);
  }
}

beforeAll(async () => {
  await ensureCliBuilt();
  home = await tempHome();
  // Tokens first, straight into the embedded database (no server holds it yet); with a token in the database
  // the server requires authentication even on loopback.
  const admin = await swavlab(
    ['token', 'create', 'ci-admin', '--scopes', 'admin'],
    cliEnv({ SWAVLAB_HOME: home }),
  );
  expect(admin.code, admin.stderr).toBe(0);
  adminToken = admin.stdout.trim();
  const reader = await swavlab(
    ['token', 'create', 'reader', '--scopes', 'read', '--json'],
    cliEnv({ SWAVLAB_HOME: home }),
  );
  expect(reader.code, reader.stderr).toBe(0);
  readToken = (JSON.parse(reader.stdout) as { token: string }).token;
  // A third token, listed then revoked: list shows no secret, revoke ends it at once.
  const spare = await swavlab(
    ['token', 'create', 'spare', '--scopes', 'read', '--json'],
    cliEnv({ SWAVLAB_HOME: home }),
  );
  const spareToken = JSON.parse(spare.stdout) as { id: string; token: string };
  const listed = await swavlab(['token', 'list', '--json'], cliEnv({ SWAVLAB_HOME: home }));
  expect(listed.code, listed.stderr).toBe(0);
  expect(listed.stdout).not.toContain(spareToken.token);
  const tokens = JSON.parse(listed.stdout) as { id: string; name: string; revoked_at: string | null }[];
  expect(tokens.map((t) => t.name)).toEqual(['ci-admin', 'reader', 'spare']);
  const revoked = await swavlab(['token', 'revoke', spareToken.id], cliEnv({ SWAVLAB_HOME: home }));
  expect(revoked.code, revoked.stderr).toBe(0);
  expect(revoked.stdout.trim()).toBe(`token ${spareToken.id} revoked`);
  const again = await swavlab(['token', 'revoke', spareToken.id], cliEnv({ SWAVLAB_HOME: home }));
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('no active token has the id');
  const table = await swavlab(['token', 'list'], cliEnv({ SWAVLAB_HOME: home }));
  expect(table.stdout).toMatch(/^ID +NAME +SCOPES +CREATED +LAST USED +REVOKED$/m);
  expect(table.stdout).toMatch(new RegExp(`^${spareToken.id} +spare +read +\\S+ ago +never +\\S+ ago$`, 'm'));
  await mkdir(join(home, 'data', 'imagenet'), { recursive: true });
  up = await startUp(cliEnv({ SWAVLAB_HOME: home, SWAVLAB_DATA_ROOTS: join(home, 'data') }));
  env = cliEnv({ SWAVLAB_URL: up.url, SWAVLAB_TOKEN: adminToken });
}, 120_000);

afterAll(async () => {
  if (up !== undefined) {
    const redisPid = Number(
      (await readFile(join(home, 'redis', 'redis.pid'), 'utf8').catch(() => '0')).trim(),
    );
    const code = await up.stop();
    expect(code, up.stderr()).toBe(0);
    expect(up.stdout()).toContain('stopped');
    if (redisPid > 0) expect(processExists(redisPid)).toBe(false);
  }
  if (home !== undefined) await removeHome(home);
}, 120_000);

describe('swavlab up', () => {
  it('prints its URL, the database and its own redis-server with an AOF', async () => {
    expect(up.stdout()).toMatch(/swavlab is up at http:\/\/127\.0\.0\.1:\d+ \(ready in [\d.]+ s\)/);
    expect(up.stdout()).toContain(`embedded PGlite in ${home}/db`);
    expect(up.stdout()).toMatch(/redis:\s+redis:\/\/127\.0\.0\.1:\d+ \(redis-server with AOF in/);
    const readyz = await fetch(`${up.url}/readyz`);
    expect(readyz.status).toBe(200);
  });

  it('holds the home: a second process on the embedded database is refused with the reason', async () => {
    const second = await swavlab(
      ['token', 'create', 'late', '--scopes', 'read'],
      cliEnv({ SWAVLAB_HOME: home }),
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('is in use by `swavlab up`');
    expect(second.stderr).toContain('DATABASE_URL');
  });
});

describe('usage and exit codes', () => {
  it('prints usage for --help and for each command', async () => {
    const main = await swavlab(['--help'], env);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Usage: swavlab COMMAND');
    for (const command of [
      'up',
      'demo',
      'submit',
      'grid',
      'ls',
      'show',
      'watch',
      'cancel',
      'results',
      'token',
    ]) {
      expect(main.stdout).toContain(`  ${command} `);
    }
    const submit = await swavlab(['submit', '--help'], env);
    expect(submit.code).toBe(0);
    expect(submit.stdout).toContain('Usage: swavlab submit [FILE] [--recipe NAME]');
  });

  it('exits 2 on usage errors', async () => {
    expect((await swavlab([], env)).code).toBe(2);
    const unknown = await swavlab(['frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = await swavlab(['ls', '--colour'], env);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--colour'");
    const limit = await swavlab(['ls', '--limit', 'ten'], env);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit: expected a whole number');
    const missing = await swavlab(['show'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('show: missing ID');
  });

  it('exits 3 when no server answers', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await swavlab(['ls', '--url', url], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot reach the swavlab server at ${url}`);
  });

  it('exits 1 with a hint without a token, and when the token lacks the scope', async () => {
    const anonymous = await swavlab(['ls'], cliEnv({ SWAVLAB_URL: up.url }));
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('--token');
    const file = await writeJson('reader.json', tinySpec(900));
    const forbidden = await swavlab(['submit', file, '--token', readToken], env);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/submit/);
    expect((await swavlab(['ls', '--token', readToken], env)).code).toBe(0);
  });
});

describe('spec files', () => {
  it('names a file that cannot be read', async () => {
    const missing = join(home, 'missing.json');
    const result = await swavlab(['submit', missing], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${missing}: cannot read the file: no such file`);
  });

  it('gives the line and column of invalid JSON', async () => {
    const file = await writeJson('bad.json', '{\n  "seed": 1,\n  "swav": {"prototypes": 10,}\n}\n');
    const result = await swavlab(['submit', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:3:29: invalid JSON: trailing comma before '}'`);
    const grid = await writeJson('bad-grid.json', "{'name': 'x'}");
    const gridResult = await swavlab(['grid', grid], env);
    expect(gridResult.code).toBe(2);
    expect(gridResult.stderr).toContain(`${grid}:1:2: invalid JSON`);
  });

  it('lists schema errors as path: message lines before sending anything', async () => {
    const spec = tinySpec(901);
    const file = await writeJson('schema.json', { ...spec, swav: { prototypes: 1, sinkhorn_iters: 3 } });
    const result = await swavlab(['submit', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: invalid experiment spec`);
    expect(result.stderr).toContain('swav.prototypes: must be >= 2; got 1');
    expect(result.stderr).toContain('swav.sinkhorn_iters: unknown field "sinkhorn_iters"');
    const grid = await writeJson('grid-schema.json', { base: spec, axes: { 'swav.prototypes': [10, 1] } });
    const gridResult = await swavlab(['grid', grid, '--dry-run'], env);
    expect(gridResult.code).toBe(2);
    expect(gridResult.stderr).toMatch(
      /cells\[1\]\.swav\.prototypes: in cell \(swav\.prototypes=1, seed=\d+\): must be >= 2/,
    );
  });

  it("shows the server's field errors when only the server can tell", async () => {
    const file = await writeJson('folder.json', {
      ...tinySpec(902),
      data: { source: 'folder', path: '/nonexistent/images' },
    });
    const result = await swavlab(['submit', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ {2}data\.path: /m);
  });
});

describe('recipes', () => {
  it('lists the recipes and shows one with its source, without a server', async () => {
    const list = await swavlab(['recipes'], cliEnv());
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^swav-bs256-queue +The paper's small-batch ImageNet recipe/m);
    const one = await swavlab(['recipes', 'cifar10'], cliEnv());
    expect(one.stdout).toContain('source: https://github.com/vturrisi/solo-learn');
    expect(one.stdout).toContain('"queue_length": 3840');
    const unknown = await swavlab(['recipes', 'imagenet'], cliEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('known recipes: swav-bs4096');
  });

  it('submits a recipe with --set overrides; the server stores the expanded spec', async () => {
    const refused = await swavlab(
      ['submit', '--recipe', 'swav-bs256-queue', '--set', 'data.path=imagenet'],
      env,
    );
    // 4 GPUs: this machine's worker has none, so the server says so instead of queueing forever.
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/runtime\.gpus: /);
    const submitted = await swavlab(
      [
        'submit',
        '--recipe',
        'swav-bs256-queue',
        '--set',
        'data.path=imagenet',
        '--set',
        'runtime.gpus=1',
        '--set',
        'runtime.device="cpu"',
        '--set',
        'runtime.precision="fp32"',
        '--set',
        'seed=9031',
        '--json',
      ],
      env,
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = JSON.parse(submitted.stdout) as RunJson & { spec: Record<string, Record<string, unknown>> };
    expect(run.spec.recipe).toBe('swav-bs256-queue');
    expect(run.spec.swav).toMatchObject({ queue_length: 3840, freeze_prototypes_iters: 5005 });
    expect(run.spec.runtime).toMatchObject({ gpus: 1, device: 'cpu' });
    // The data root's imagenet/ folder is empty: the trainer refuses it, naming the field and what is missing.
    expect(await waitForStatus(run.id, ['failed', 'succeeded', 'canceled'])).toBe('failed');
    const shown = JSON.parse((await swavlab(['show', run.id, '--json'], env)).stdout) as RunJson & {
      error: { kind: string; message: string };
    };
    expect(shown.error.kind).toBe('spec');
    expect(shown.error.message).toContain('data.path');
  });

  it('prints the warnings of a likely-wasted spec to stderr and still submits it', async () => {
    const file = await writeJson('warned.json', tinySpec(903, { prototypes: 500 }));
    const result = await swavlab(['submit', file, '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^warning: swav\.prototypes: Sinkhorn spreads \d+ samples over 500 prototypes/m,
    );
    const run = JSON.parse(result.stdout) as RunJson;
    const canceled = await swavlab(['cancel', run.id], env);
    expect(canceled.code, canceled.stderr).toBe(0);
  });

  it('names a bad --set', async () => {
    const result = await swavlab(['submit', '--set', 'optim.epochs'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected PATH=VALUE');
    const nothing = await swavlab(['submit'], env);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('give a spec FILE, --recipe NAME or --set PATH=VALUE');
  });
});

describe('runs', () => {
  let runId: string;

  it('submits, watches to the end and exits 0 on success', async () => {
    const file = await writeJson('tiny.json', tinySpec(1));
    const result = await swavlab(['submit', file, '--watch'], env);
    expect(result.code, result.stderr).toBe(0);
    const id = /^run (\S+) queued$/m.exec(result.stdout)?.[1];
    expect(id).toBeDefined();
    runId = id as string;
    // Not a terminal: one line per update, ending with the outcome.
    expect(result.stdout).toMatch(/^(running|succeeded) +\[[#.]+\] +\d+%/m);
    expect(result.stdout).toMatch(
      new RegExp(`^run ${runId} succeeded in \\S+: knn_top1@5 [\\d.]+% \\(random init [\\d.]+%\\)$`, 'm'),
    );

    const again = await swavlab(['submit', file], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`run ${runId} already exists for this spec (succeeded)`);
  });

  it('downloads the backbone and a checkpoint, verified, and resumes a partial download', async () => {
    const backbone = join(home, 'backbone.pt');
    const result = await swavlab(['download', runId, '-o', backbone], env);
    expect(result.code, result.stderr).toBe(0);
    const bytes = await readFile(backbone);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(result.stdout.trim()).toBe(
      `${backbone}: ${(bytes.length / 1024).toFixed(1)} KiB, sha256 ${sha256} verified`,
    );
    // Not a terminal: the progress goes to stderr, one line per redraw, ending at the whole size.
    expect(result.stderr).toMatch(/\[#{24}\] [\d.]+ KiB \/ [\d.]+ KiB/);

    // An interrupted download left its first half and the ETag it belongs to: only the rest is fetched.
    const resumed = join(home, 'resumed.pt');
    await writeFile(`${resumed}.partial`, bytes.subarray(0, 1000));
    await writeFile(`${resumed}.partial.etag`, `"${sha256}"`);
    const again = await swavlab(['download', runId, '-o', resumed, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ path: resumed, bytes: bytes.length, sha256 });
    expect((await readFile(resumed)).equals(bytes)).toBe(true);
    expect(existsSync(`${resumed}.partial`) || existsSync(`${resumed}.partial.etag`)).toBe(false);

    const checkpoint = await swavlab(['download', runId, '--checkpoint', 'latest', '--json'], env, home);
    expect(checkpoint.code, checkpoint.stderr).toBe(0);
    expect(JSON.parse(checkpoint.stdout)).toMatchObject({ path: `${runId}-checkpoint-latest.pt` });

    const unknown = await swavlab(['download', runId, '--checkpoint', '99999'], env, home);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`has no checkpoint at step 99999`);
    const bad = await swavlab(['download', runId, '--checkpoint', 'first'], env);
    expect(bad.code).toBe(2);
  });

  it('lists runs as a table and as JSON', async () => {
    const table = await swavlab(['ls', '--status', 'succeeded'], env);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +STATUS +PROGRESS +RESULT +CREATED +NAME$/);
    expect(table.stdout).toMatch(new RegExp(`^${runId} +succeeded +\\S+ +knn_top1@5 [\\d.]+%`, 'm'));
    const json = await swavlab(['ls', '--json', '-q', `id = '${runId}'`], env);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as { runs: RunJson[] };
    expect(page.runs.map((run) => run.id)).toEqual([runId]);
    const badQuery = await swavlab(['ls', '-q', 'swav.prototypes >'], env);
    expect(badQuery.code).toBe(2);
    expect(badQuery.stderr).toMatch(/^ {2}q: /m);
  });

  it('shows a run, and exits 1 for an unknown one', async () => {
    const shown = await swavlab(['show', runId], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`run ${runId}`);
    expect(shown.stdout).toMatch(/status: +succeeded/);
    expect(shown.stdout).toMatch(/spec: +data synthetic 128, arch tiny, prototypes 10/);
    expect(shown.stdout).toMatch(
      /dataset: +synthetic: 4 classes, 102 pretraining images, 102 evaluation train \/ 26 test images$/m,
    );
    expect(shown.stdout).toMatch(/knn_top1@5 +[\d.]+% +test/);
    expect(shown.stdout).toMatch(
      /^ {2}learning: +(learned|NOT LEARNING): knn_top1@5 [\d.]+ % against [\d.]+ % for the same backbone at random init/m,
    );
    const json = JSON.parse((await swavlab(['show', runId, '--json'], env)).stdout) as RunJson & {
      evaluations: { name: string; value: number }[];
      learning_check: { learned: boolean; value: number; random_init: number; causes: string[] };
    };
    expect(json).toMatchObject({ id: runId, status: 'succeeded' });
    // The check compares the run's k-NN with the random-init one the trainer stored beside it.
    const value = (name: string) => json.evaluations.find((e) => e.name === name)?.value;
    const check = json.learning_check;
    expect(check).toMatchObject({ value: value('knn_top1@5'), random_init: value('random_init_knn_top1@5') });
    expect(check.learned).toBe(check.value > check.random_init);
    expect(check.causes.length > 0).toBe(!check.learned);
    expect(shown.stdout.includes('likely causes:')).toBe(!check.learned);
    const unknown = await swavlab(['show', 'NO-SUCH-RUN'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"NO-SUCH-RUN" does not exist');
  });

  it("evaluates the run's latest checkpoint later, waits for the result, and show lists it", async () => {
    const nothing = await swavlab(['evaluate', runId], env);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('say what to evaluate');
    const badFile = await writeJson('bad-eval.json', { linear: { protocol: 'slow' } });
    const bad = await swavlab(['evaluate', runId, '--file', badFile], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ {2}eval\.linear\.protocol: must be one of "fast", "paper"/m);

    const result = await swavlab(['evaluate', runId, '--linear', 'paper', '--epochs', '1', '--wait'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^evaluation \\S+ succeeded: run ${runId}, checkpoint at step 12$`, 'm'),
    );
    expect(result.stdout).toMatch(/^ {2}linear_top1 +[\d.]+%$/m);
    const shown = await swavlab(['show', runId], env);
    expect(shown.stdout).toMatch(/linear_top1 +[\d.]+% +test +2 +12/);
  });

  it('cancels a queued and a running run; watch exits 1 for a canceled run', async () => {
    const long = await swavlab(
      ['submit', await writeJson('long.json', tinySpec(2, { epochs: 400 })), '--json'],
      env,
    );
    expect(long.code, long.stderr).toBe(0);
    const longId = (JSON.parse(long.stdout) as RunJson).id;
    // One device slot: the second run waits behind the first.
    const queued = await swavlab(['submit', await writeJson('queued.json', tinySpec(3)), '--json'], env);
    const queuedId = (JSON.parse(queued.stdout) as RunJson).id;
    const canceled = await swavlab(['cancel', queuedId], env);
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(canceled.stdout).toBe(`run ${queuedId} canceled\n`);

    expect(await waitForStatus(longId, ['running'])).toBe('running');
    const stopping = await swavlab(['cancel', longId], env);
    expect(stopping.code).toBe(0);
    expect(stopping.stdout).toContain(`run ${longId} stopping`);
    const watched = await swavlab(['watch', longId], env);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(new RegExp(`^run ${longId} canceled after`, 'm'));

    const finished = await swavlab(['cancel', runId], env);
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain('already succeeded');
  });
});

describe('grids', () => {
  let gridFile: string;
  let gridId: string;

  beforeAll(async () => {
    gridFile = await writeJson('grid.json', {
      name: 'cli-test-grid',
      tags: ['cli-test'],
      base: tinySpec(0),
      axes: { 'swav.prototypes': [10, 20] },
      seeds: [11, 12],
      metric: { name: 'knn_top1@5', goal: 'max' },
    });
  });

  it('previews the cells with --dry-run', async () => {
    const preview = await swavlab(['grid', gridFile, '--dry-run'], env);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout.split('\n')[0]).toMatch(/^CELL +swav\.prototypes +SEED +EXISTING RUN$/);
    expect(preview.stdout).toMatch(/^ +3 +20 +12 +-$/m);
    expect(preview.stdout).toContain('4 cells, 4 new (dry run: nothing was submitted)');
    const json = JSON.parse((await swavlab(['grid', gridFile, '--dry-run', '--json'], env)).stdout) as {
      cell_count: number;
    };
    expect(json.cell_count).toBe(4);
  });

  it('submits the grid and summarises its results', async () => {
    const submitted = await swavlab(['grid', gridFile], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    gridId =
      /^grid (\S+) "cli-test-grid": 4 cells, 4 queued, 0 already had a run$/m.exec(submitted.stdout)?.[1] ??
      '';
    expect(gridId).not.toBe('');

    const deadline = Date.now() + 150_000;
    let runs: RunJson[] = [];
    while (Date.now() < deadline) {
      runs = (
        JSON.parse((await swavlab(['ls', '--grid', gridId, '--json'], env)).stdout) as { runs: RunJson[] }
      ).runs;
      if (runs.length === 4 && runs.every((run) => run.status === 'succeeded')) break;
      await sleep(1_000);
    }
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);

    const byTag = await swavlab(['ls', '--tag', 'cli-test', '-q', 'swav.prototypes = 20', '--json'], env);
    expect((JSON.parse(byTag.stdout) as { runs: RunJson[] }).runs).toHaveLength(2);

    const table = await swavlab(['results', gridId], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(`grid ${gridId}: knn_top1@5 (%) by swav.prototypes`);
    expect(table.stdout).toMatch(
      /^ +swav\.prototypes +knn_top1@5 \(%\) mean ± std +95% CI +n +min +max +p vs best$/m,
    );
    // Each row: the mark (★ best, ≈ tied with it, blank), mean ± std, the CI over 2 seeds, n = 2, min, max, p.
    const row = (prototypes: number) =>
      new RegExp(
        `^[★≈ ] +${prototypes} +[\\d.]+ ± [\\d.]+ +\\[-?[\\d.]+, [\\d.]+\\] +2 +[\\d.]+ +[\\d.]+ +(-|[\\d.e-]+)$`,
        'm',
      );
    expect(table.stdout).toMatch(row(10));
    expect(table.stdout).toMatch(row(20));
    expect(table.stdout.match(/^★ /gm)).toHaveLength(2); // the best row, and the legend under the table
    expect(table.stdout).toContain(
      "Welch's two-sided t-test of each group against the best group, Holm-corrected",
    );
    expect(table.stdout).toMatch(/^95% CI: mean ± t\(0\.975, n − 1\) · std \/ √n/m);

    const json = JSON.parse(
      (await swavlab(['results', gridId, '--by', 'swav.sinkhorn_iterations', '--json'], env)).stdout,
    ) as {
      groups: { key: Record<string, unknown>; n: number }[];
    };
    expect(json.groups).toEqual([expect.objectContaining({ key: { 'swav.sinkhorn_iterations': 3 }, n: 4 })]);

    const pivot = await swavlab(
      ['results', gridId, '--by', 'swav.prototypes', '--by', 'seed', '--pivot'],
      env,
    );
    expect(pivot.code, pivot.stderr).toBe(0);
    expect(pivot.stdout).toMatch(/^swav\.prototypes \\ seed +11 +12$/m);
    // Grouped by seed, every cell holds one run: n=1, no CI, and no test is possible.
    expect(pivot.stdout).toMatch(/^10 +[★ ] [\d.]+ n=1 +[★ ] [\d.]+ n=1$/m);
    expect(pivot.stdout).toContain('no test against it is possible');
    expect(pivot.stdout).toContain('every group has one value (n = 1): no test is possible; add seeds');
  });

  it('reports bad result queries and unknown grids', async () => {
    const metric = await swavlab(['results', gridId, '--metric', 'accuracy'], env);
    expect(metric.code).toBe(2);
    expect(metric.stderr).toMatch(/^ {2}metric: must be a metric name/m);
    const unknown = await swavlab(['results', 'NO-SUCH-GRID'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"NO-SUCH-GRID" does not exist');
  });

  it('estimates the seeds a difference needs with --power, and adds seeds to the grid', async () => {
    const powered = await swavlab(['results', gridId, '--power', '2'], env);
    expect(powered.code, powered.stderr).toBe(0);
    expect(powered.stdout).toMatch(
      /^to resolve 2\.0 points: (\d+ seeds per group \(from the observed variance\)|.+)$/m,
    );
    // 2 points of a percentage are 0.02 of the 0..1 accuracy the API holds.
    const json = JSON.parse((await swavlab(['results', gridId, '--power', '2', '--json'], env)).stdout) as {
      resolution: { difference: number; pooled_df: number };
    };
    expect(json.resolution.difference).toBeCloseTo(0.02, 12);
    expect(json.resolution.pooled_df).toBe(2);
    const bad = await swavlab(['results', gridId, '--power', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--power: expected a number above 0, got "0"');

    const added = await swavlab(['grid', 'seeds', gridId, '--seeds', '12,13'], env);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(
      `grid ${gridId} "cli-test-grid": added seed 13; already had 12: 2 cells, 2 queued, 0 already had a run; 6 cells in all`,
    );
    const again = await swavlab(['grid', 'seeds', gridId, '--seeds', '13'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`grid ${gridId} "cli-test-grid": no new seeds; already had 13`);
    const listed = JSON.parse((await swavlab(['ls', '--grid', gridId, '--json'], env)).stdout) as {
      runs: RunJson[];
    };
    expect(listed.runs).toHaveLength(6);
    const neither = await swavlab(['grid', 'seeds', gridId], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('grid seeds: give either --add N or --seeds S,S,...');
    const tooMany = await swavlab(['grid', 'seeds', gridId, '--add', '999'], env);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(
      /^ {2}add: the grid would have 1002 seeds; a grid may have at most 1000$/m,
    );
  });
});
