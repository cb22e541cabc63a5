// Where a run's files live: $SWAVLAB_ARTIFACTS/<runId>/attempt-<n>. Checkpoint paths are stored relative to the
// artifacts root when they are inside it, so that the root can move (another mount point, another host).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The folder of one attempt of a run (created). */
export async function attemptDir(artifactsDir: string, runId: string, attempt: number): Promise<string> {
  const dir = join(artifactsDir, runId, `attempt-${attempt}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** How a file path is stored: relative to the artifacts root when inside it, else absolute. */
export function storedPath(artifactsDir: string, path: string): string {
  const inside = relative(resolve(artifactsDir), resolve(path));
  return inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..' && !isAbsolute(inside)
    ? inside
    : resolve(path);
}

/** The file a stored path names. */
export function resolveStoredPath(artifactsDir: string, stored: string): string {
  return isAbsolute(stored) ? stored : join(artifactsDir, stored);
}

/** Hex sha256 of a file, streamed. */
export function fileSha256(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', fail)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => done(hash.digest('hex')));
  });
}
