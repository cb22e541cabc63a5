// One swavlab process tree per $SWAVLAB_HOME: the embedded PGlite database serves a single process, and the
// local redis-server's files live there too. A second process gets a clear message instead of a corrupt database.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, EXIT } from './errors.js';

interface LockOwner {
  pid: number;
  command: string;
}

export interface HomeLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' ? { pid: owner.pid, command: String(owner.command) } : null;
  } catch {
    return null;
  }
}

/**
 * Takes `$home/swavlab.lock` for `command`; a lock left by a process that no longer exists is taken over.
 * Throws (exit 1) while another live process holds it.
 */
export async function lockHome(home: string, command: string): Promise<HomeLock> {
  await mkdir(home, { recursive: true });
  const file = join(home, 'swavlab.lock');
  const mine = JSON.stringify({ pid: process.pid, command, started_at: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const owner = readOwner(file);
      if (owner !== null && owner.pid !== process.pid && isAlive(owner.pid)) {
        throw new CliError(
          `${home} is in use by \`swavlab ${owner.command}\` (pid ${owner.pid}): the embedded database serves one process`,
          EXIT.failure,
          [
            'stop that process first, or give this one another SWAVLAB_HOME;',
            'to run api and worker as separate processes, set DATABASE_URL to a PostgreSQL database (and REDIS_URL)',
          ],
        );
      }
      rmSync(file, { force: true });
    }
  }
  const release = () => {
    if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
    process.off('exit', release);
  };
  // Also on an abrupt exit (an uncaught error), so the next start does not have to take over a stale lock.
  process.on('exit', release);
  return { release };
}
