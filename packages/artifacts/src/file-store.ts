// A filesystem path as the artifact store: local disk for one host, or a shared mount (NFS, a Kubernetes
// ReadWriteMany volume) that every worker and the API see. The trainer writes its files straight into it, so
// storing them costs a hash, not a copy.
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { checkKey } from './keys.js';
import { fileSha256, isMissingFile } from './sha256.js';
import { ArtifactCorrupt, ArtifactMissing, type ArtifactStore, type ByteRange } from './store.js';

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The sha256 of `file`, checked against `expected`; throws ArtifactMissing or ArtifactCorrupt. */
export async function verifyFile(file: string, expected: string, what: string): Promise<number> {
  let actual: string;
  let bytes: number;
  try {
    actual = await fileSha256(file);
    bytes = (await stat(file)).size;
  } catch (error) {
    if (isMissingFile(error)) throw new ArtifactMissing(`${what}: ${file} does not exist`);
    throw error;
  }
  if (actual !== expected) {
    throw new ArtifactCorrupt(`${what}: ${file} has sha256 ${actual}, expected ${expected}`);
  }
  return bytes;
}

export class FileArtifactStore implements ArtifactStore {
  readonly location: string;
  readonly localRoot: string;

  constructor(root: string) {
    this.localRoot = resolve(root);
    this.location = `file:${this.localRoot}`;
  }

  #path(key: string): string {
    return join(this.localRoot, checkKey(key));
  }

  async put(key: string, file: string, sha256: string): Promise<{ bytes: number }> {
    const target = this.#path(key);
    const bytes = await verifyFile(file, sha256, `artifact ${key}`);
    if (resolve(file) !== target) {
      // Copy next to the target and rename, so a reader never sees a partial file.
      await mkdir(dirname(target), { recursive: true });
      const partial = `${target}.partial-${process.pid}`;
      try {
        await copyFile(file, partial);
        await fsync(partial);
        await rename(partial, target);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      await fsync(dirname(target));
    }
    return { bytes };
  }

  async fetch(key: string, sha256: string): Promise<string> {
    const path = this.#path(key);
    await verifyFile(path, sha256, `artifact ${key}`);
    return path;
  }

  async stat(key: string): Promise<{ bytes: number } | null> {
    try {
      return { bytes: (await stat(this.#path(key))).size };
    } catch (error) {
      if (isMissingFile(error)) return null;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.#path(key);
    // Opened before returning, so that a missing file is an error here rather than on the stream.
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissingFile(error)) throw new ArtifactMissing(`artifact ${key}: ${path} does not exist`);
      throw error;
    }
    return handle.createReadStream({ ...(range ?? {}), autoClose: true });
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}
