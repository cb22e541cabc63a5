// GET /v1/runs/{id}/events: Server-Sent Events for one run. The database is the source of truth, so the stream
// polls it (every SWAVLAB_SSE_POLL_MS) for the run's status, progress and new metric points, and ends after a
// terminal status. Every event's id carries the metric cursor (last step sent per metric), so a client that
// reconnects with Last-Event-ID gets the points it missed and no duplicates.
import { type MetricPoint, type Run, TERMINAL_STATUSES } from '@swavlab/db';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../auth.js';
import type { AppContext, RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { notFound, validationProblem } from '../problem.js';
import { runView } from '../run-view.js';
import { TICKET_TTL_SECONDS } from '../stream-tickets.js';
import { ResourceId, type ZodTypeProvider } from '../validation.js';

/** Metric name → highest step already sent. */
type MetricCursor = Record<string, number>;

/** Points sent per poll at most; the rest follow on the next polls. */
const POINTS_PER_POLL = 5000;

function encodeCursor(cursor: MetricCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** Decodes a Last-Event-ID; a value this server did not send is a 400. */
export function decodeCursor(header: string | undefined): MetricCursor {
  if (header === undefined || header === '') return {};
  const invalid = validationProblem(
    [{ path: 'Last-Event-ID', message: 'is not an event id sent by this stream' }],
    'request headers',
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid;
  const entries = Object.entries(parsed);
  if (entries.length > 1000) throw invalid;
  for (const [name, step] of entries) {
    if (name.length > 200 || typeof step !== 'number' || !Number.isSafeInteger(step) || step < -1)
      throw invalid;
  }
  return parsed as MetricCursor;
}

function progressOf(run: Run) {
  return runView(run).progress;
}

/** Points after the cursor, in (step, name) order, so that each metric's part is a prefix of its new points. */
function newPoints(ctx: AppContext, runId: string, cursor: MetricCursor): Promise<MetricPoint[]> {
  return ctx.db.metrics.pointsAfter(runId, cursor, POINTS_PER_POLL);
}

/**
 * The cursor after a new attempt started: it resumed from the latest checkpoint and discarded the points the
 * old attempt recorded after it, so nothing beyond that checkpoint's step counts as sent any more.
 */
async function cursorAfterResume(
  ctx: AppContext,
  runId: string,
  cursor: MetricCursor,
): Promise<MetricCursor> {
  const checkpoint = await ctx.db.checkpoints.latestCheckpoint(runId);
  const kept = checkpoint?.step ?? -1;
  return Object.fromEntries(Object.entries(cursor).map(([name, step]) => [name, Math.min(step, kept)]));
}

export const runEventRoutes: FastifyPluginAsync<RouteOptions> = async (instance, { ctx }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/runs/:id/events',
    {
      config: { scope: 'read', ticket: true },
      schema: {
        summary: "Follow a run's progress (Server-Sent Events)",
        description:
          'Events: `run` (the run at connect time), `progress`, `metrics` ({points: [...]}), `status` (on every ' +
          'status change) and `end` (after a terminal status; the stream then closes). Comments are heartbeats. ' +
          'Send the last event id back as Last-Event-ID to resume without losing metric points. A browser, whose ' +
          'EventSource cannot send a token, passes `?ticket=` from POST /v1/runs/{id}/events/ticket instead.',
        tags: ['runs'],
        params: z.strictObject({ id: ResourceId }),
        querystring: z.strictObject({
          ticket: z.string().min(1).max(200).optional().meta({ description: 'a stream ticket for this run' }),
        }),
        response: {
          200: { description: 'an event stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      let cursor = decodeCursor(request.headers['last-event-id'] as string | undefined);
      let run = await ctx.db.runs.getRun(request.params.id);
      if (run === null) throw notFound('run', request.params.id);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let closed = false;
      const send = (event: string, data: unknown) => {
        if (!closed)
          res.write(`id: ${encodeCursor(cursor)}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const heartbeat = setInterval(() => {
        if (!closed) res.write(': heartbeat\n\n');
      }, ctx.config.sseHeartbeatMs);
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearTimeout(timer);
        res.end();
      };
      request.raw.on('close', finish);

      let progressKey = JSON.stringify(progressOf(run));
      let status = run.status;
      let attempt = run.attempt;
      send('run', runView(run));

      const poll = async (): Promise<void> => {
        const current = await ctx.db.runs.getRun(request.params.id);
        if (current === null) {
          send('end', { status: 'deleted' });
          finish();
          return;
        }
        if (current.attempt !== attempt) {
          attempt = current.attempt;
          cursor = await cursorAfterResume(ctx, current.id, cursor);
        }
        const points = await newPoints(ctx, current.id, cursor);
        if (points.length > 0) {
          for (const point of points) cursor[point.name] = Math.max(cursor[point.name] ?? -1, point.step);
          send('metrics', {
            points: points.map((p) => ({
              name: p.name,
              step: p.step,
              epoch: p.epoch,
              value: Number.isFinite(p.value) ? p.value : null,
              time: p.time.toISOString(),
            })),
          });
        }
        const progress = progressOf(current);
        if (JSON.stringify(progress) !== progressKey) {
          progressKey = JSON.stringify(progress);
          send('progress', progress);
        }
        if (current.status !== status) {
          status = current.status;
          send('status', {
            status,
            error: current.error,
            finished_at: current.finishedAt?.toISOString() ?? null,
          });
        }
        run = current;
        const terminal = (TERMINAL_STATUSES as readonly string[]).includes(status);
        if (terminal && points.length < POINTS_PER_POLL) {
          send('end', { status });
          finish();
        }
      };

      const loop = async (): Promise<void> => {
        try {
          await poll();
        } catch (error) {
          request.log.error({ err: error }, 'event stream failed');
          send('error', { message: 'the event stream failed; reconnect with Last-Event-ID to resume' });
          finish();
        }
        if (!closed) timer = setTimeout(loop, ctx.config.ssePollMs);
      };
      await loop();
    },
  );

  app.post(
    '/runs/:id/events/ticket',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A ticket to open a run's event stream without a header",
        description:
          `For browsers: EventSource cannot send Authorization, so a client with a token asks for a ticket and opens ` +
          `/v1/runs/{id}/events?ticket=... with it. A ticket reads that run's events only, for ${TICKET_TTL_SECONDS} s.`,
        tags: ['runs'],
        params: z.strictObject({ id: ResourceId }),
        response: {
          201: z.object({ ticket: z.string(), expires_in: z.int() }),
          ...problemResponses(400, 401, 403, 404, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const run = await ctx.db.runs.getRun(request.params.id);
      if (run === null) throw notFound('run', request.params.id);
      // The route's scope guarantees an authenticated principal (anonymous on an open server).
      const ticket = await ctx.tickets.issue(request.principal as Principal, run.id);
      return reply.code(201).send({ ticket, expires_in: TICKET_TTL_SECONDS });
    },
  );
};
