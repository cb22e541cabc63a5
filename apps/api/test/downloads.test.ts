// Checkpoint and backbone downloads from both artifact backends: a folder, and S3 through s3rver.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ArtifactStore, FileArtifactStore, openArtifactStore } from '@swavlab/artifacts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from '../../../test/shared/s3-server.js';
import { matchesEtag, parseRange } from '../src/http-range.js';
import { expectProblem, type Harness, startHarness } from './harness.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('byte ranges', () => {
  it.each([
    [undefined, { kind: 'whole' }],
    ['bytes=0-9', { kind: 'part', start: 0, end: 9 }],
    ['bytes=95-', { kind: 'part', start: 95, end: 99 }],
    ['bytes=90-500', { kind: 'part', start: 90, end: 99 }],
    ['bytes=-10', { kind: 'part', start: 90, end: 99 }],
    ['bytes=-500', { kind: 'part', start: 0, end: 99 }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', { kind: 'whole' }],
    ['bytes=9-2', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
  ])('%s of 100 bytes → %o', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });

  it('matches entity tags, weak or listed', () => {
    expect(matchesEtag('"abc"', '"abc"')).toBe(true);
    expect(matchesEtag('W/"abc", "def"', '"abc"')).toBe(true);
    expect(matchesEtag('*', '"abc"')).toBe(true);
    expect(matchesEtag('"abd"', '"abc"')).toBe(false);
    expect(matchesEtag(undefined, '"abc"')).toBe(false);
  });
});

let s3: S3TestServer;
let scratch: string;

beforeAll(async () => {
  s3 = await startS3Server();
  scratch = await mkdtemp(join(tmpdir(), 'swavlab-downloads-'));
});

afterAll(async () => {
  await s3?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe.each([
  ['a folder', () => new FileArtifactStore(join(scratch, randomBytes(4).toString('hex')))],
  ['S3', () => openArtifactStore(s3.env.SWAVLAB_ARTIFACTS ?? '', s3.env)],
])('downloads from %s', (_name, makeStore) => {
  let h: Harness;
  let store: ArtifactStore;
  const content = randomBytes(300_000);

  beforeAll(async () => {
    store = makeStore();
    h = await startHarness({ backend: 'pglite', config: { artifacts: store } });
  });
  afterAll(() => h?.close());

  /** A run holding a checkpoint at step 6 (stored) and one at step 12 (recorded, file lost). */
  async function runWithFiles() {
    const specHash = randomBytes(32).toString('hex');
    const { run } = await h.db.runs.createRun({ spec: { seed: 1 }, specHash, seed: 1 });
    const claim = await h.db.runs.claimRun(run.id, { workerHost: 'test', device: 'cpu' });
    const token = claim!.token;
    const file = join(scratch, `${run.id}.pt`);
    await writeFile(file, content);
    const key = `${run.id}/attempt-1/ckpt-e0001-s00000006.pt`;
    await store.put(key, file, sha256(content));
    const checkpoint = { epoch: 1, step: 6, path: key, sha256: sha256(content), bytes: content.length };
    await h.db.checkpoints.addCheckpoint(run.id, token, checkpoint);
    return { runId: run.id, token, file };
  }

  it('streams a checkpoint whole, in ranges, conditionally, and as HEAD', async () => {
    const { runId } = await runWithFiles();
    const url = `/v1/runs/${runId}/checkpoints/6/file`;
    const etag = `"${sha256(content)}"`;

    const whole = await h.app.inject({ method: 'GET', url });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-length': String(content.length),
      etag,
      'accept-ranges': 'bytes',
      'content-disposition': `attachment; filename="${runId}-ckpt-e0001-s00000006.pt"`,
    });
    expect(whole.rawPayload.equals(content)).toBe(true);
    expect(
      (await h.app.inject({ method: 'GET', url: `/v1/runs/${runId}/checkpoints/latest/file` })).statusCode,
    ).toBe(200);

    const part = await h.app.inject({ method: 'GET', url, headers: { range: 'bytes=1000-1999' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-1999/${content.length}`);
    expect(part.headers['content-length']).toBe('1000');
    expect(part.rawPayload.equals(content.subarray(1000, 2000))).toBe(true);

    const rest = await h.app.inject({
      method: 'GET',
      url,
      headers: { range: 'bytes=299990-', 'if-range': etag },
    });
    expect(rest.statusCode).toBe(206);
    expect(rest.rawPayload.equals(content.subarray(299_990))).toBe(true);
    // A stale If-Range: the file changed, so the whole of it comes back.
    const stale = await h.app.inject({
      method: 'GET',
      url,
      headers: { range: 'bytes=5-', 'if-range': '"old"' },
    });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.length).toBe(content.length);

    const beyond = await h.app.inject({ method: 'GET', url, headers: { range: `bytes=${content.length}-` } });
    expectProblem(beyond, 416, 'range_not_satisfiable');
    expect(beyond.headers['content-range']).toBe(`bytes */${content.length}`);

    const unchanged = await h.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(unchanged.statusCode).toBe(304);
    expect(unchanged.rawPayload.length).toBe(0);

    const head = await h.app.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers).toMatchObject({ 'content-length': String(content.length), etag });
    expect(head.rawPayload.length).toBe(0);
  });

  it('answers 404 naming what is missing: run, step, file, backbone', async () => {
    const { runId, token, file } = await runWithFiles();
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/runs/nope/checkpoints/6/file' }), 404);
    const noStep = expectProblem(
      await h.app.inject({ method: 'GET', url: `/v1/runs/${runId}/checkpoints/7/file` }),
      404,
      'not_found',
    );
    expect(noStep.detail).toBe(`run ${runId} has no checkpoint at step 7`);
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/runs/${runId}/checkpoints/x/file` }), 400);

    await h.db.checkpoints.addCheckpoint(runId, token, {
      epoch: 2,
      step: 12,
      path: `${runId}/attempt-1/ckpt-e0002-s00000012.pt`,
      sha256: sha256(content),
      bytes: content.length,
    });
    const lost = expectProblem(
      await h.app.inject({ method: 'GET', url: `/v1/runs/${runId}/checkpoints/latest/file` }),
      404,
      'artifact_missing',
    );
    expect(lost.detail).toMatch(/at step 12 is recorded but its file is no longer in the artifact store/);

    const before = expectProblem(
      await h.app.inject({ method: 'GET', url: `/v1/runs/${runId}/backbone` }),
      404,
    );
    expect(before.detail).toMatch(
      /has no exported backbone: it is written when a run succeeds \(this one is running\)/,
    );
    const key = `${runId}/attempt-1/backbone.pt`;
    await store.put(key, file, sha256(content));
    await h.db.artifacts.recordArtifact(runId, token, {
      name: 'backbone',
      path: key,
      sha256: sha256(content),
      bytes: content.length,
      step: 6,
    });
    const backbone = await h.app.inject({ method: 'GET', url: `/v1/runs/${runId}/backbone` });
    expect(backbone.statusCode).toBe(200);
    expect(backbone.headers['content-disposition']).toBe(`attachment; filename="${runId}-backbone.pt"`);
    expect(backbone.rawPayload.equals(content)).toBe(true);
  });
});

describe('download scope', () => {
  it('needs a token with the read scope when tokens are configured', async () => {
    const readToken = `read:${randomBytes(16).toString('hex')}`;
    const h = await startHarness({ backend: 'pglite', env: { SWAVLAB_API_TOKENS: readToken } });
    try {
      const response = await h.app.inject({ method: 'GET', url: '/v1/runs/abc/backbone' });
      expectProblem(response, 401);
      const allowed = await h.app.inject({
        method: 'GET',
        url: '/v1/runs/abc/backbone',
        headers: { authorization: `Bearer ${readToken.slice('read:'.length)}` },
      });
      expectProblem(allowed, 404);
    } finally {
      await h.close();
    }
  });
});
