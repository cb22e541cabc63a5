import type { Readable } from 'node:stream';

/** Bytes `start`..`end` of an object, both inclusive (an HTTP byte range). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where checkpoints and exported backbones live, so that any worker on any host can continue any run and the
 * API can serve them. Keys are relative paths (`<run id>/attempt-<n>/<file>`), the same for every backend. The
 * trainer only sees local files: a worker `put`s each file it wrote and `fetch`es before resuming.
 */
export interface ArtifactStore {
  /** `file:/srv/artifacts` or `s3://bucket/prefix`, for logs and messages. */
  readonly location: string;
  /**
   * The local folder the keys live in when the store is a filesystem path (the trainer then writes in place and
   * `put` only verifies), or undefined for remote stores (the trainer writes into the worker's scratch folder).
   */
  readonly localRoot: string | undefined;
  /**
   * Store the local `file` under `key`. Its sha256 must be `sha256` (checked before anything is stored); resolves
   * once the object is complete and durable. Throws ArtifactMissing when `file` does not exist.
   */
  put(key: string, file: string, sha256: string): Promise<{ bytes: number }>;
  /**
   * A local file with the content of `key`, verified against `sha256`: in place for a filesystem store, else
   * `into` (reused when it already holds that content, downloaded otherwise). Throws ArtifactMissing or
   * ArtifactCorrupt.
   */
  fetch(key: string, sha256: string, into: string): Promise<string>;
  /** The object's size, or null when there is none. */
  stat(key: string): Promise<{ bytes: number } | null>;
  /** The object's bytes (all, or `range`). Throws ArtifactMissing. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Remove the object; a missing one is not an error. */
  delete(key: string): Promise<void>;
}

/** The object (or local file) does not exist. */
export class ArtifactMissing extends Error {
  override readonly name = 'ArtifactMissing';
}

/** The content does not hash to the recorded sha256. */
export class ArtifactCorrupt extends Error {
  override readonly name = 'ArtifactCorrupt';
}
