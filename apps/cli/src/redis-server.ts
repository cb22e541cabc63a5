// A private redis-server for `swavlab up` when REDIS_URL is unset: a free port on loopback, its files under
// $SWAVLAB_HOME/redis, and the settings docs/queue.md asks for (AOF with fsync every second, noeviction, no RDB).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, EXIT } from './errors.js';

export interface LocalRedis {
  url: string;
  pid: number;
  /** SIGTERM (redis flushes the AOF and exits), SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** A TCP port that was free on 127.0.0.1 a moment ago. */
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

/** Whether redis on `port` answers PING with PONG (not LOADING, not refused). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A redis-server of an earlier `swavlab up` that was killed without cleaning up (the home lock guarantees
 * that its owner is gone) is stopped, so that two servers never write the same AOF.
 */
async function stopLeftover(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes('redis-server')) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < STOP_TIMEOUT_MS && processExists(pid); waited += 100) await sleep(100);
  if (processExists(pid)) process.kill(pid, 'SIGKILL');
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function logTail(logFile: string): Promise<string[]> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-5);
}

/** Starts redis-server from PATH in `dir`; resolves once it answers PING. */
export async function startRedisServer(dir: string, bin = 'redis-server'): Promise<LocalRedis> {
  await mkdir(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  const logFile = join(dir, 'redis.log');
  await stopLeftover(pidFile);
  const port = await freePort();
  // Its own process group (detached): a Ctrl-C in the terminal must not stop Redis before the worker has
  // handed its jobs back; `up` stops it last.
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--pidfile',
      pidFile,
      '--logfile',
      logFile,
      '--daemonize',
      'no',
    ],
    { detached: true, stdio: 'ignore' },
  );
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited(child);
      clearTimeout(timer);
    }
  };
  const exit = exited(child).then(() => 'exited' as const);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const outcome = await Promise.race([
      spawnError,
      exit,
      answersPing(port).then((ok) => (ok ? ('ready' as const) : ('waiting' as const))),
    ]);
    if (outcome === 'ready') break;
    if (outcome instanceof Error) {
      const missing = (outcome as NodeJS.ErrnoException).code === 'ENOENT';
      throw new CliError(
        missing
          ? `${bin} was not found on PATH: install it (\`apt-get install redis-server\`) or set REDIS_URL to a running Redis`
          : `cannot start ${bin}: ${outcome.message}`,
        EXIT.failure,
      );
    }
    if (outcome === 'exited') {
      throw new CliError(`${bin} exited at start (log: ${logFile})`, EXIT.failure, await logTail(logFile));
    }
    if (Date.now() > deadline) {
      await stop();
      throw new CliError(
        `${bin} did not answer within ${START_TIMEOUT_MS / 1000} s (log: ${logFile})`,
        EXIT.failure,
      );
    }
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid ?? 0, stop };
}
