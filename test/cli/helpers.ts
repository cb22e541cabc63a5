// Runs the built `swavlab` bin as a real subprocess, and `swavlab up` on a free port with its own redis-server
// and a temporary SWAVLAB_HOME.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildOnce } from '../shared/build-once.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_BIN = join(REPO_ROOT, 'apps/cli/bin/swavlab.mjs');
const CLI_DIST = join(REPO_ROOT, 'apps/cli/dist/main.js');
const CLI_SRC = join(REPO_ROOT, 'apps/cli/src');

/** Builds apps/cli (and what it references) when its dist is missing or older than its sources. */
export function ensureCliBuilt(): Promise<void> {
  return buildOnce({
    name: 'cli',
    output: CLI_DIST,
    sources: [CLI_SRC],
    build: () => promisify(execFile)('npx', ['tsc', '-b', 'apps/cli'], { cwd: REPO_ROOT }),
  });
}

/** The environment of a CLI subprocess: nothing inherited that selects a server, database or Redis. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PYTHON_BIN: '/usr/bin/python3',
    SWAVLAB_LOG_LEVEL: 'warn',
  };
  for (const name of [
    'SWAVLAB_URL',
    'SWAVLAB_TOKEN',
    'SWAVLAB_HOME',
    'DATABASE_URL',
    'REDIS_URL',
    'HOST',
    'PORT',
  ]) {
    delete env[name];
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `swavlab ARGS` to completion. */
export function swavlab(args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { env, cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function tempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'swavlab-cli-'));
}

export async function removeHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true });
}

export interface RunningUp {
  url: string;
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then waits for the exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export interface SpawnedCli {
  child: ChildProcess;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with its exit code. */
  exited: Promise<number | null>;
}

/** Starts the built `swavlab` with `args`, collecting what it prints. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv): SpawnedCli {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** `swavlab up --port 0` in `home`; resolves once it printed its URL. */
export async function startUp(env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunningUp> {
  const { child, stdout, stderr, exited } = spawnCli(['up', '--port', '0'], env);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /swavlab is up at (http:\/\/\S+)/.exec(stdout());
    if (match?.[1]) {
      return {
        url: match[1],
        process: child,
        stdout,
        stderr,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`swavlab up did not start (exit ${child.exitCode}):\n${stdout()}\n${stderr()}`);
    }
    await sleep(100);
  }
}

/** Whether a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A tiny CPU spec (seconds per run); `seed` makes each call a distinct run. */
export function tinySpec(
  seed: number,
  overrides: { epochs?: number; prototypes?: number } = {},
): Record<string, unknown> {
  return {
    seed,
    data: { source: 'synthetic', num_images: 128, num_classes: 4, image_size: 16 },
    model: { arch: 'tiny', small_stem: true, hidden_mlp: 32, feat_dim: 16 },
    swav: { prototypes: overrides.prototypes ?? 10, crops: '2x16', freeze_prototypes_iters: 0 },
    optim: {
      optimizer: 'sgd',
      base_lr: 0.1,
      final_lr: 0.001,
      warmup_epochs: 0,
      batch_size: 16,
      epochs: overrides.epochs ?? 2,
    },
    runtime: { device: 'cpu', workers: 0, threads: 1 },
    checkpoint: { every_epochs: 1, keep_last: 1 },
    eval: { knn: { k: [5] }, linear: null },
  };
}
