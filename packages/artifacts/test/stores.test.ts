// Both backends against the same contract: a filesystem folder, and S3 through s3rver (a local S3 API server).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from '../../../test/shared/s3-server.js';
import {
  ArtifactCorrupt,
  ArtifactMissing,
  type ArtifactStore,
  checkKey,
  FileArtifactStore,
  openArtifactStore,
  S3ArtifactStore,
  s3ClientFromEnv,
} from '../src/index.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let scratch: string;
let s3: S3TestServer;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swavlab-artifacts-'));
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.close();
  await rm(scratch, { recursive: true, force: true });
});

const backends: [string, () => ArtifactStore][] = [
  ['filesystem', () => new FileArtifactStore(join(scratch, `root-${randomBytes(4).toString('hex')}`))],
  ['s3', () => openArtifactStore(s3.env.SWAVLAB_ARTIFACTS ?? '', s3.env)],
  // Parts of 5 MiB (S3's minimum), so a 12 MiB file goes up in three.
  [
    's3 multipart',
    () =>
      new S3ArtifactStore({
        client: s3ClientFromEnv(s3.env),
        bucket: s3.bucket,
        prefix: 'multipart',
        partBytes: 5 * 1024 * 1024,
      }),
  ],
];

describe.each(backends)('%s store', (_name, makeStore) => {
  it('stores a file, serves it whole and in ranges, fetches it verified, and deletes it', async () => {
    const store = makeStore();
    const content = randomBytes(12 * 1024 * 1024 + 123);
    const source = join(scratch, `source-${randomBytes(4).toString('hex')}.pt`);
    await writeFile(source, content);
    const key = `run-${randomBytes(4).toString('hex')}/attempt-1/ckpt-e0001-s00000003.pt`;

    expect(await store.stat(key)).toBeNull();
    expect(await store.put(key, source, sha256(content))).toEqual({ bytes: content.length });
    expect(await store.stat(key)).toEqual({ bytes: content.length });
    expect((await collect(await store.read(key))).equals(content)).toBe(true);
    const part = await collect(await store.read(key, { start: 1000, end: 5_000_999 }));
    expect(part.equals(content.subarray(1000, 5_001_000))).toBe(true);

    const into = join(scratch, `fetched-${randomBytes(4).toString('hex')}`, 'ckpt.pt');
    const local = await store.fetch(key, sha256(content), into);
    expect((await readFile(local)).equals(content)).toBe(true);
    if (store.localRoot === undefined) expect(local).toBe(into);
    else expect(local).toBe(join(store.localRoot, key));

    await expect(store.fetch(key, sha256(Buffer.from('other')), into)).rejects.toThrow(ArtifactCorrupt);
    await store.delete(key);
    expect(await store.stat(key)).toBeNull();
    await expect(store.read(key)).rejects.toThrow(ArtifactMissing);
    await expect(store.fetch(key, sha256(content), join(scratch, 'nowhere', 'x.pt'))).rejects.toThrow(
      ArtifactMissing,
    );
    await store.delete(key); // a missing object is not an error
  });

  it('refuses to store a file whose sha256 is not the one given, and stores nothing', async () => {
    const store = makeStore();
    const source = join(scratch, `torn-${randomBytes(4).toString('hex')}.pt`);
    await writeFile(source, Buffer.from('half a checkpoint'));
    const key = `run-${randomBytes(4).toString('hex')}/attempt-1/ckpt.pt`;
    await expect(store.put(key, source, sha256(Buffer.from('the whole checkpoint')))).rejects.toThrow(
      ArtifactCorrupt,
    );
    expect(await store.stat(key)).toBeNull();
    await expect(store.put(key, join(scratch, 'missing.pt'), 'ab')).rejects.toThrow(ArtifactMissing);
  });
});

describe('artifact keys and locations', () => {
  it.each(['../etc/passwd', '/abs/path', 'a//b', 'a/./b', 'run/../../x', 'a b', ''])('rejects %j', (key) => {
    expect(() => checkKey(key)).toThrow(/artifact key/);
  });

  it('keeps a file put in place as it is (the trainer writes into the filesystem store)', async () => {
    const root = join(scratch, 'in-place');
    const store = new FileArtifactStore(root);
    const content = Buffer.from('weights');
    const key = 'run-1/attempt-2/ckpt.pt';
    await mkdir(join(root, 'run-1', 'attempt-2'), { recursive: true });
    await writeFile(join(root, key), content);
    const before = (await stat(join(root, key))).ino;
    await store.put(key, join(root, key), sha256(content));
    expect((await stat(join(root, key))).ino).toBe(before);
  });

  it.each([
    ['s3://', /SWAVLAB_ARTIFACTS: expected s3:\/\/<bucket>/],
    ['s3://Bad_Bucket/x', /valid bucket name/],
    ['s3://bucket/a b', /the prefix "a b" must be/],
    ['', /SWAVLAB_ARTIFACTS: expected a folder or an s3:\/\/ URL/],
  ])('rejects SWAVLAB_ARTIFACTS=%j naming the variable', (location, message) => {
    expect(() => openArtifactStore(location, {})).toThrow(message);
  });

  it('names the variable of a bad S3 setting', () => {
    expect(() => openArtifactStore('s3://bucket', { SWAVLAB_S3_ENDPOINT: 'minio:9000' })).toThrow(
      /^SWAVLAB_S3_ENDPOINT: expected an http\(s\) URL/,
    );
    expect(() =>
      openArtifactStore('s3://bucket', {
        SWAVLAB_S3_ENDPOINT: 'http://h:1',
        SWAVLAB_S3_FORCE_PATH_STYLE: 'yes',
      }),
    ).toThrow(/^SWAVLAB_S3_FORCE_PATH_STYLE: expected true or false/);
    expect(openArtifactStore('s3://my-bucket/runs/', {}).location).toBe('s3://my-bucket/runs');
    expect(openArtifactStore('file:/srv/a', {}).location).toBe('file:/srv/a');
  });
});
