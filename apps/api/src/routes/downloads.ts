// Downloads of a run's files from the artifact store: a checkpoint (`/runs/{id}/checkpoints/{step}/file`) and the
// exported backbone (`/runs/{id}/backbone`). Streamed with Content-Length, the sha256 as ETag, conditional
// requests and single byte ranges, so that an interrupted download of a large checkpoint can resume.
import { Readable } from 'node:stream';
import { ArtifactMissing } from '@swavlab/artifacts';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext, RouteOptions } from '../context.js';
import { matchesEtag, parseRange } from '../http-range.js';
import { problemResponses } from '../openapi.js';
import { notFound, ProblemError } from '../problem.js';
import { ResourceId, type ZodTypeProvider } from '../validation.js';

/** What is downloaded: its store key, content hash and the file name offered to the client. */
interface Download {
  key: string;
  sha256: string;
  filename: string;
}

const BINARY = 'application/octet-stream';

const FileResponse = {
  description: 'the file (or the requested byte range with 206); ETag is its sha256',
  content: { [BINARY]: { schema: z.string().meta({ format: 'binary' }) } },
};

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function missingFile(what: string): ProblemError {
  return new ProblemError(
    404,
    'artifact_missing',
    `${what} is recorded but its file is no longer in the artifact store (removed, or the store was changed)`,
  );
}

async function sendFile(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  download: Download,
  what: string,
): Promise<FastifyReply> {
  const store = ctx.config.artifacts;
  const stat = await store.stat(download.key);
  if (stat === null) throw missingFile(what);
  const etag = `"${download.sha256}"`;
  reply
    .header('etag', etag)
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'private, no-cache')
    .header('content-disposition', `attachment; filename="${download.filename}"`);
  if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
  const ifRange = firstHeader(request.headers['if-range']);
  const range =
    ifRange === undefined || matchesEtag(ifRange, etag)
      ? parseRange(request.headers.range, stat.bytes)
      : ({ kind: 'whole' } as const);
  if (range.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${stat.bytes}`);
    throw new ProblemError(
      416,
      'range_not_satisfiable',
      `the requested range ${JSON.stringify(request.headers.range)} lies beyond the ${stat.bytes} bytes of ${what}`,
      [],
      { 'content-range': `bytes */${stat.bytes}` },
    );
  }
  const part = range.kind === 'part' ? range : undefined;
  const length = part === undefined ? stat.bytes : part.end - part.start + 1;
  reply.type(BINARY).header('content-length', String(length));
  if (part !== undefined)
    reply.code(206).header('content-range', `bytes ${part.start}-${part.end}/${stat.bytes}`);
  // Fastify's HEAD route drains a stream and keeps our Content-Length; an empty one spares reading the file.
  if (request.method === 'HEAD') return reply.send(Readable.from([]));
  try {
    return reply.send(await store.read(download.key, part));
  } catch (error) {
    if (error instanceof ArtifactMissing) throw missingFile(what);
    throw error;
  }
}

const CheckpointParams = z.strictObject({
  id: ResourceId,
  step: z
    .union([z.literal('latest'), z.coerce.number().int().min(0).max(2_147_483_647)])
    .meta({ description: 'the checkpoint step (as listed by /checkpoints), or `latest`' }),
});

const downloadRoutes: FastifyPluginAsync<RouteOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/runs/:id/checkpoints/:step/file',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Download a checkpoint',
        description:
          'The checkpoint file as the trainer wrote it (`torch.load`-able; resumable with `python -m swavlab train ' +
          '--resume`). Supports `Range` (one byte range), `If-Range`, `If-None-Match` and HEAD.',
        tags: ['runs'],
        params: CheckpointParams,
        response: { 200: FileResponse, 206: FileResponse, ...problemResponses(400, 401, 403, 404, 416, 429) },
      },
    },
    async (request, reply) => {
      const { id, step } = request.params;
      const run = await ctx.db.runs.getRun(id);
      if (run === null) throw notFound('run', id);
      const checkpoint =
        step === 'latest'
          ? await ctx.db.checkpoints.latestCheckpoint(id)
          : await ctx.db.checkpoints.getCheckpoint(id, step);
      if (checkpoint === null) {
        throw new ProblemError(
          404,
          'not_found',
          step === 'latest'
            ? `run ${id} has no checkpoint yet`
            : `run ${id} has no checkpoint at step ${step}`,
          [{ path: 'step', message: 'see GET /v1/runs/{id}/checkpoints for the steps it has' }],
        );
      }
      const name = checkpoint.path.split('/').at(-1) ?? 'checkpoint.pt';
      return sendFile(
        ctx,
        request,
        reply,
        { key: checkpoint.path, sha256: checkpoint.sha256, filename: `${id}-${name}` },
        `the checkpoint of run ${id} at step ${checkpoint.step}`,
      );
    },
  );

  app.get(
    '/runs/:id/backbone',
    {
      config: { scope: 'read' },
      schema: {
        summary: "Download a run's backbone",
        description:
          "The backbone of the run's final checkpoint as a plain state dict, exported when the run succeeds: " +
          '`torchvision.models.resnet50().load_state_dict(torch.load(f))` for resnet18/resnet50 with the standard ' +
          'stem, `swavlab.models.build_backbone(arch, small_stem)` otherwise. Same headers as a checkpoint download.',
        tags: ['runs'],
        params: z.strictObject({ id: ResourceId }),
        response: { 200: FileResponse, 206: FileResponse, ...problemResponses(400, 401, 403, 404, 416, 429) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const run = await ctx.db.runs.getRun(id);
      if (run === null) throw notFound('run', id);
      const backbone = await ctx.db.artifacts.getArtifact(id, 'backbone');
      if (backbone === null) {
        throw new ProblemError(
          404,
          'not_found',
          `run ${id} has no exported backbone: it is written when a run succeeds (this one is ${run.status})`,
        );
      }
      return sendFile(
        ctx,
        request,
        reply,
        { key: backbone.path, sha256: backbone.sha256, filename: `${id}-backbone.pt` },
        `the backbone of run ${id}`,
      );
    },
  );
};

export { downloadRoutes };
