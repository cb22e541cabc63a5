// Builds a test's prerequisite (the CLI's dist, the dashboard's bundle) once when it is stale. Test files run in
// parallel processes, so a lock directory keeps two builds from writing the same files at once.
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The newest modification time of a file, or of any file below a folder. */
export async function newestMtime(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

export interface BuildTarget {
  /** Names the lock directory under the temporary folder. */
  name: string;
  /** The file the build writes last. */
  output: string;
  /** Files and folders whose changes make the output stale. */
  sources: readonly string[];
  build(): Promise<unknown>;
}

/** Runs `target.build()` unless its output is at least as new as every source, one process at a time. */
export async function buildOnce(target: BuildTarget): Promise<void> {
  const fresh = async (): Promise<boolean> => {
    if (!existsSync(target.output)) return false;
    const times = await Promise.all(target.sources.map((source) => newestMtime(source)));
    return statSync(target.output).mtimeMs >= Math.max(...times);
  };
  const lock = join(tmpdir(), `swavlab-${target.name}-build.lock`);
  for (;;) {
    if (await fresh()) return;
    try {
      await mkdir(lock);
      break;
    } catch {
      await sleep(500);
    }
  }
  try {
    if (!(await fresh())) await target.build();
  } finally {
    await rmdir(lock);
  }
}
