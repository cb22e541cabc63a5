// Where a run's files live while it trains, and under which key they are stored. The trainer writes into the
// attempt folder `<base>/<runId>/attempt-<n>`, where base is the artifact store's own folder for a filesystem
// store (files are stored in place) or the worker's scratch folder for object storage (files are uploaded).
// A file's key is its path relative to base, so that every backend and every host names it alike.
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type ArtifactStore, checkKey } from '@swavlab/artifacts';

/** The folder attempt folders go in: the store's local root, else `scratchDir`. */
export function localBase(store: ArtifactStore, scratchDir: string): string {
  return store.localRoot ?? resolve(scratchDir);
}

/** The folder of one attempt of a run (created). */
export async function attemptDir(base: string, runId: string, attempt: number): Promise<string> {
  const dir = join(base, runId, `attempt-${attempt}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** The key of a file the trainer wrote below `base`; throws for a file anywhere else. */
export function artifactKey(base: string, path: string): string {
  const inside = relative(resolve(base), resolve(path));
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new RangeError(`the trainer wrote ${path}, outside its attempt folders under ${base}`);
  }
  return checkKey(inside.split(sep).join('/'));
}

/** Where the file of `key` lives (or is downloaded to) on this host. */
export function localPathOf(base: string, key: string): string {
  return join(base, ...checkKey(key).split('/'));
}

/** Removes this host's copies of a run's files once they are all stored elsewhere (object storage only). */
export async function dropScratch(store: ArtifactStore, scratchDir: string, runId: string): Promise<void> {
  if (store.localRoot === undefined)
    await rm(join(resolve(scratchDir), runId), { recursive: true, force: true });
}
