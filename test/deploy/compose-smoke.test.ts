// The compose smoke test (issue 15). Containers cannot run on these machines, so each service that
// docker/compose.yaml builds from this repository is started as a local process with what its container would run:
// the image's ENTRYPOINT and CMD (or compose's), the image's ENV under compose's environment, the secrets as files.
// PostgreSQL and Redis are this machine's. Only what makes sense inside a container alone is rewritten (each
// rewrite is explained in `rewritesFor`); anything else left pointing into a container fails the test. The
// migration step runs to its end first; then /readyz of every service (and each image's HEALTHCHECK) passes,
// `swavlab demo --quick --url … --token …` runs from the host, and a tiny run submitted with the CLI and the token
// from the secret trains, with its checkpoints in the artifacts volume's folder.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, freePort, REPO_ROOT } from '../cli/helpers.js';
import { buildOnce } from '../shared/build-once.js';
import { PYTHON, REDIS_URL, tinySpec } from '../worker/helpers.js';
import { type ComposeFile, type ComposeService, loadCompose } from './compose-file.js';
import { type ContainerSpec, containerOf, leftovers, localise, type Rewrites } from './container-process.js';
import { parseDockerfile } from './dockerfile.js';

const DOCKER_DIR = join(REPO_ROOT, 'docker');
const POSTGRES_ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };
/** Where this machine serves what compose's `postgres` and `redis` services serve. */
const LOCAL_STORES: Record<string, string> = { postgres: '127.0.0.1:5432', redis: new URL(REDIS_URL).host };
const READY_TIMEOUT_MS = 90_000;
const RUN_TIMEOUT_MS = 90_000;

interface Started {
  service: string;
  container: ContainerSpec;
  /** Where its /readyz answers. */
  url: string;
  child: ChildProcess;
  output: () => string;
}

const scratch = { root: '', databaseName: '', role: '', queuePrefix: '', redisPrefix: '' };
const secrets: Record<string, string> = {};
const started: Started[] = [];
/** What each one-shot step (the migration) printed. */
const stepOutput: Record<string, string> = {};
let compose: ComposeFile;
let artifactsDir = '';

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client(POSTGRES_ADMIN);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The processes run apps/cli/bin/swavlab.mjs, which imports the compiled dist of every workspace. */
function ensureBuilt(): Promise<void> {
  const stamp = join(REPO_ROOT, 'apps/cli/dist/.compose-smoke-built');
  return buildOnce({
    // The same lock as test/cli's build: both run `tsc -b apps/cli`.
    name: 'cli',
    output: stamp,
    sources: ['apps/cli/src', 'apps/api/src', 'apps/worker/src', 'packages/spec/src', 'packages/db/src']
      .concat([
        'packages/queue/src',
        'packages/bridge/src',
        'packages/artifacts/src',
        'packages/telemetry/src',
      ])
      .map((path) => join(REPO_ROOT, path)),
    build: async () => {
      await promisify(execFile)('npx', ['tsc', '-b', 'apps/cli'], { cwd: REPO_ROOT });
      await writeFile(stamp, '');
    },
  });
}

/** The services built from this repository (api, worker, worker-cpu) and what their containers run. */
function swavlabContainers(): { service: ComposeService; container: ContainerSpec }[] {
  return Object.values(compose.services)
    .filter((service) => service.build !== undefined)
    .map((service) => {
      const build = service.build as { context: string; dockerfile: string };
      const text = readFileSync(join(DOCKER_DIR, build.context, build.dockerfile), 'utf8');
      return { service, container: containerOf(service, parseDockerfile(text)) };
    });
}

/** A URL pointing at compose's `postgres` or `redis` service, pointed at this machine's. */
function localStoreUrl(value: string): string {
  const url = new URL(value);
  const local = LOCAL_STORES[url.hostname];
  if (local === undefined) return value;
  url.host = local;
  if (url.protocol.startsWith('postgres')) {
    // The test's own database and role, so that the migrations start from nothing and nothing else is touched.
    url.username = scratch.role;
    url.pathname = `/${scratch.databaseName}`;
  }
  return url.toString();
}

async function rewritesFor(service: ComposeService, container: ContainerSpec): Promise<Rewrites> {
  const home = container.env.SWAVLAB_HOME ?? '/var/lib/swavlab';
  const ownDisk = join(scratch.root, `${service.name}-disk`);
  await mkdir(ownDisk, { recursive: true });
  const paths: Record<string, string> = {
    // The image's WORKDIR holds the repository's built tree, laid out as in the checkout (docker/assemble.sh).
    [container.workdir]: REPO_ROOT,
    // The image's state folder lives on the container's own disk: a folder of this service's own here.
    [home]: ownDisk,
  };
  // A named volume is one folder here, shared by every service that mounts it, as Docker shares the volume.
  for (const volume of service.volumes) {
    if (volume.named) paths[volume.target] = join(scratch.root, 'volumes', volume.source);
  }
  // Compose mounts each secret's file at /run/secrets/NAME; here the test's own secret files.
  for (const secret of service.secrets) paths[secret.target] = join(scratch.root, 'secrets', secret.source);

  const env: Record<string, string | undefined> = {
    // The image's PATH comes from its base image; here this machine's, with the Node running the tests first.
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    // Both stores and the queue are shared with tests running at the same time: keys under prefixes of our own.
    SWAVLAB_QUEUE_PREFIX: scratch.queuePrefix,
    SWAVLAB_REDIS_PREFIX: scratch.redisPrefix,
  };
  for (const [name, value] of Object.entries(container.env)) {
    // Service names resolve on compose's network only.
    if (/^[a-z]+:\/\//.test(value)) env[name] = localStoreUrl(value);
  }
  // A container has its own network namespace: 0.0.0.0 and fixed ports there become loopback and free ports here,
  // since several services listen on one host.
  for (const [hostVariable, portVariable] of [
    ['HOST', 'PORT'],
    ['SWAVLAB_WORKER_HOST', 'SWAVLAB_WORKER_PORT'],
  ] as const) {
    if (container.env[portVariable] === undefined) continue;
    if (container.env[hostVariable] === '0.0.0.0') env[hostVariable] = '127.0.0.1';
    env[portVariable] = String(await freePort());
  }
  // The CUDA image's interpreter (/opt/conda) exists in that image only; the CPU image's is this machine's.
  if (container.env.PYTHON_BIN?.startsWith('/opt/conda/')) env.PYTHON_BIN = PYTHON;
  return { paths, env };
}

function start(service: string, container: ContainerSpec): Started {
  const [command, ...args] = container.argv;
  if (command === undefined) throw new Error(`${service}: no command`);
  const child = spawn(command, args, {
    cwd: container.workdir,
    env: container.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const port = container.env.PORT ?? container.env.SWAVLAB_WORKER_PORT;
  return { service, container, url: `http://127.0.0.1:${port}`, child, output: () => output };
}

async function readyz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
}

async function waitReady(running: Started): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while ((await readyz(running.url)) !== 200) {
    if (running.child.exitCode !== null || running.child.signalCode !== null) {
      throw new Error(`${running.service} exited (${running.child.exitCode}):\n${running.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`${running.service} not ready in time:\n${running.output()}`);
    await sleep(250);
  }
}

async function stop(running: Started): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  if ((await Promise.race([exited, sleep(30_000, 'timeout')])) === 'timeout') running.child.kill('SIGKILL');
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  const [, loaded] = await Promise.all([ensureBuilt(), loadCompose(join(DOCKER_DIR, 'compose.yaml'))]);
  compose = loaded;
  const id = randomBytes(5).toString('hex');
  scratch.root = await mkdtemp(join(tmpdir(), 'swavlab-compose-'));
  scratch.databaseName = `swavlab_compose_${id}`;
  scratch.role = `swavlab_compose_${id}`;
  scratch.queuePrefix = `swavlab-compose-${id}`;
  scratch.redisPrefix = `swavlab-compose-api-${id}`;

  // The secrets the README has the operator create; the password has characters a URL must encode.
  expect(Object.keys(compose.secrets).sort()).toEqual(['api_tokens', 'db_password']);
  secrets.db_password = `${randomBytes(9).toString('base64url')}@:/%#?é`;
  secrets.api_tokens = randomBytes(24).toString('hex');
  await mkdir(join(scratch.root, 'secrets'));
  for (const [name, value] of Object.entries(secrets)) {
    await writeFile(join(scratch.root, 'secrets', name), `${value}\n`, { mode: 0o600 });
  }
  // The role the compose file's postgres service creates (POSTGRES_USER, POSTGRES_PASSWORD_FILE), owning a fresh
  // database. (The local server trusts loopback connections, so the password travels but is not checked here.)
  await adminQuery(`CREATE ROLE ${scratch.role} LOGIN PASSWORD '${secrets.db_password.replace(/'/g, "''")}'`);
  await adminQuery(`CREATE DATABASE ${scratch.databaseName} OWNER ${scratch.role}`);

  const serviceNames = Object.keys(compose.services);
  // Steps that other services wait for with service_completed_successfully: compose runs them to their end first.
  const oneShots = new Set(
    Object.values(compose.services).flatMap((service) =>
      Object.entries(service.dependsOn)
        .filter(([, condition]) => condition === 'service_completed_successfully')
        .map(([dependency]) => dependency),
    ),
  );
  const servers: { name: string; local: ContainerSpec }[] = [];
  const steps: { name: string; local: ContainerSpec }[] = [];
  for (const { service, container } of swavlabContainers()) {
    const local = localise(container, await rewritesFor(service, container));
    // Docker creates a named volume before the first container that mounts it starts.
    for (const volume of service.volumes) {
      if (volume.named) await mkdir(join(scratch.root, 'volumes', volume.source), { recursive: true });
    }
    expect(
      leftovers(local, serviceNames, ['PATH']),
      `${service.name}: values that only make sense in a container`,
    ).toEqual([]);
    (oneShots.has(service.name) ? steps : servers).push({ name: service.name, local });
  }
  for (const { name, local } of steps) {
    const [command, ...args] = local.argv;
    const { stdout } = await promisify(execFile)(command ?? 'false', args, {
      cwd: local.workdir,
      env: local.env,
    });
    stepOutput[name] = stdout;
  }
  for (const { name, local } of servers) started.push(start(name, local));
  artifactsDir = join(scratch.root, 'volumes', 'artifacts');
  await Promise.all(started.map(waitReady));
}, 180_000);

afterAll(async () => {
  await Promise.all(started.map(stop));
  await adminQuery(`DROP DATABASE IF EXISTS ${scratch.databaseName} WITH (FORCE)`).catch(() => undefined);
  await adminQuery(`DROP ROLE IF EXISTS ${scratch.role}`).catch(() => undefined);
  await Promise.all([deleteKeys(scratch.queuePrefix), deleteKeys(scratch.redisPrefix)]);
  if (scratch.root) await rm(scratch.root, { recursive: true, force: true });
}, 90_000);

describe('docker/compose.yaml as local processes', () => {
  it('runs the migration step on the fresh database first', () => {
    expect(Object.keys(stepOutput)).toEqual(['migrate']);
    expect(stepOutput.migrate).toMatch(/^[1-9]\d* applied, 0 were already applied$/m);
  });

  it('starts the API, the GPU worker and the CPU worker, each ready with its image health check passing', async () => {
    expect(started.map((running) => running.service).sort()).toEqual(['api', 'worker', 'worker-cpu']);
    for (const running of started) {
      expect(await readyz(running.url), running.service).toBe(200);
      const [command, ...args] = running.container.healthcheck ?? [];
      const check = promisify(execFile)(command ?? 'false', args, { env: running.container.env });
      await expect(check, `${running.service}: the image's HEALTHCHECK`).resolves.toBeDefined();
    }
  });

  it('refuses API requests without the token from the secret (the API listens beyond loopback in its container)', async () => {
    const api = started.find((running) => running.service === 'api') as Started;
    expect((await fetch(`${api.url}/v1/runs`)).status).toBe(401);
  });

  it('runs `swavlab demo --quick --url … --token …` from the host against the services', async () => {
    const api = started.find((running) => running.service === 'api') as Started;
    const demo = await promisify(execFile)(
      process.execPath,
      [CLI_BIN, 'demo', '--quick', '--url', api.url, '--token', secrets.api_tokens as string],
      { env: { PATH: process.env.PATH ?? '' } },
    );
    expect(demo.stdout).toContain('k-NN top-1 accuracy');
    expect(demo.stdout).toMatch(/^4\/4 runs succeeded/m);
  }, 120_000);

  it('trains a tiny run submitted through the API with the CLI; its checkpoints land in the artifacts volume', async () => {
    const api = started.find((running) => running.service === 'api') as Started;
    const token = secrets.api_tokens as string;
    const specFile = join(scratch.root, 'spec.json');
    await writeFile(specFile, JSON.stringify(tinySpec({ epochs: 2 }).spec));
    // The host's CLI against the published API, as docker/README.md tells the operator.
    const submitted = await promisify(execFile)(
      process.execPath,
      [CLI_BIN, 'submit', specFile, '--url', api.url, '--token', token, '--json'],
      { env: { PATH: process.env.PATH ?? '' } },
    );
    const runId = (JSON.parse(submitted.stdout) as { id: string }).id;

    const headers = { authorization: `Bearer ${token}` };
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    let run: { status: string; error?: unknown } = { status: 'queued' };
    while (!['succeeded', 'failed', 'canceled'].includes(run.status) && Date.now() < deadline) {
      await sleep(500);
      run = (await (await fetch(`${api.url}/v1/runs/${runId}`, { headers })).json()) as typeof run;
    }
    expect(run.status, JSON.stringify(run)).toBe('succeeded');

    const { checkpoints } = (await (
      await fetch(`${api.url}/v1/runs/${runId}/checkpoints`, { headers })
    ).json()) as {
      checkpoints: { step: number; sha256: string; bytes: number }[];
    };
    expect(checkpoints.length).toBeGreaterThan(0);
    const files = (await filesBelow(artifactsDir)).filter((file) =>
      relative(artifactsDir, file).startsWith(runId),
    );
    const hashes = new Set(
      await Promise.all(
        files.map(async (file) =>
          createHash('sha256')
            .update(await readFile(file))
            .digest('hex'),
        ),
      ),
    );
    for (const checkpoint of checkpoints)
      expect(hashes, `checkpoint at step ${checkpoint.step}`).toContain(checkpoint.sha256);

    // The API reads the same volume: it serves the newest checkpoint's bytes.
    const newest = checkpoints.reduce((a, b) => (b.step > a.step ? b : a));
    const download = await fetch(`${api.url}/v1/runs/${runId}/checkpoints/${newest.step}/file`, { headers });
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(newest.sha256);
  });
});
