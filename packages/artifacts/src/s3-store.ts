// S3-compatible object storage as the artifact store (AWS S3, MinIO, Ceph RGW, any server speaking the S3 API):
// every worker uploads the checkpoints it writes and downloads the one it resumes from, so that no disk has to be
// shared. Each object carries its sha256 as metadata; uploads send Content-MD5 so that servers that check it
// refuse a damaged body, and downloads are hashed and compared with the recorded sha256 before use.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { verifyFile } from './file-store.js';
import { checkKey } from './keys.js';
import { ArtifactCorrupt, ArtifactMissing, type ArtifactStore, type ByteRange } from './store.js';

/** S3 takes at most 5 GiB in one PUT; bigger files, and files above this size, go up in parts. */
export const DEFAULT_PART_BYTES = 64 * 1024 * 1024;

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing '/'; '' for the bucket's root. */
  prefix: string;
  /** Part size of multipart uploads, and the size above which they are used (S3's minimum part is 5 MiB). */
  partBytes?: number;
}

function isNotFound(error: unknown): boolean {
  const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return (
    failure?.name === 'NoSuchKey' ||
    failure?.name === 'NotFound' ||
    failure?.$metadata?.httpStatusCode === 404
  );
}

/** MD5 of `bytes` in base64, the Content-MD5 header. */
function contentMd5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

async function readPart(path: string, start: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    if (bytesRead !== length) throw new ArtifactCorrupt(`${path} changed while it was uploaded`);
    return buffer;
  } finally {
    await handle.close();
  }
}

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

export class S3ArtifactStore implements ArtifactStore {
  readonly location: string;
  readonly localRoot = undefined;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partBytes: number;

  constructor(options: S3StoreOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix;
    this.#partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
    this.location = `s3://${options.bucket}${options.prefix === '' ? '' : `/${options.prefix}`}`;
  }

  #objectKey(key: string): string {
    checkKey(key);
    return this.#prefix === '' ? key : `${this.#prefix}/${key}`;
  }

  async put(key: string, file: string, sha256: string): Promise<{ bytes: number }> {
    const Key = this.#objectKey(key);
    const bytes = await verifyFile(file, sha256, `artifact ${key}`);
    const Metadata = { sha256 };
    if (bytes <= this.#partBytes) {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key,
          Body: createReadStream(file),
          ContentLength: bytes,
          ContentMD5: await md5OfFile(file),
          ContentType: 'application/octet-stream',
          Metadata,
        }),
      );
    } else {
      await this.#putInParts(Key, file, bytes, Metadata);
    }
    // What the server now holds must be what was verified here.
    const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
    if (head.ContentLength !== bytes || head.Metadata?.sha256 !== sha256) {
      throw new ArtifactCorrupt(
        `artifact ${key}: ${this.location} holds ${head.ContentLength} bytes with sha256 ${head.Metadata?.sha256}, ` +
          `expected ${bytes} bytes with ${sha256}`,
      );
    }
    return { bytes };
  }

  async #putInParts(
    Key: string,
    file: string,
    bytes: number,
    Metadata: Record<string, string>,
  ): Promise<void> {
    const { UploadId } = await this.#client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.#bucket,
        Key,
        ContentType: 'application/octet-stream',
        Metadata,
      }),
    );
    if (UploadId === undefined)
      throw new Error(`${this.location}: the server returned no multipart upload id`);
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let start = 0, PartNumber = 1; start < bytes; start += this.#partBytes, PartNumber += 1) {
        const body = await readPart(file, start, Math.min(this.#partBytes, bytes - start));
        const { ETag } = await this.#client.send(
          new UploadPartCommand({
            Bucket: this.#bucket,
            Key,
            UploadId,
            PartNumber,
            Body: body,
            ContentLength: body.length,
            ContentMD5: contentMd5(body),
          }),
        );
        if (ETag === undefined) throw new Error(`${this.location}: part ${PartNumber} of ${Key} got no ETag`);
        parts.push({ ETag, PartNumber });
      }
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      await this.#client
        .send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  async fetch(key: string, sha256: string, into: string): Promise<string> {
    try {
      await verifyFile(into, sha256, `artifact ${key}`);
      return into; // already on this host
    } catch (error) {
      if (!(error instanceof ArtifactMissing || error instanceof ArtifactCorrupt)) throw error;
    }
    const body = await this.read(key);
    await mkdir(dirname(into), { recursive: true });
    const partial = `${into}.partial-${process.pid}`;
    try {
      await pipeline(body, createWriteStream(partial));
      await verifyFile(partial, sha256, `artifact ${key} downloaded from ${this.location}`);
      await rename(partial, into);
    } finally {
      await rm(partial, { force: true });
    }
    return into;
  }

  async stat(key: string): Promise<{ bytes: number } | null> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }),
      );
      return { bytes: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const object = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#objectKey(key),
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
      if (!(object.Body instanceof Readable))
        throw new Error(`${this.location}: ${key} has no readable body`);
      return object.Body;
    } catch (error) {
      if (isNotFound(error)) throw new ArtifactMissing(`artifact ${key}: not in ${this.location}`);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }));
  }
}
