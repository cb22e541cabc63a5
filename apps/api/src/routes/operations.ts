// Operations endpoints: liveness, readiness (database and Redis), and Prometheus metrics.
import { RUN_STATUSES, slotDemand } from '@swavlab/db';
import {
  QUEUE_NAME,
  queueDepth,
  RECONCILER_ACTIONS,
  reconcilerActions,
  reconcilerActionsKey,
} from '@swavlab/queue';
import {
  type Histogram,
  PROMETHEUS_CONTENT_TYPE,
  probe,
  renderCounter,
  renderGauge,
  renderProcessMetrics,
} from '@swavlab/telemetry';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { ProblemError } from '../problem.js';
import type { ZodTypeProvider } from '../validation.js';

export interface OperationsOptions extends RouteOptions {
  latency: Histogram;
}

export const operationsRoutes: FastifyPluginAsync<OperationsOptions> = async (instance, { ctx, latency }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'Liveness: the process is serving requests',
        tags: ['operations'],
        security: [],
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'Readiness: the database and Redis answer',
        tags: ['operations'],
        security: [],
        response: {
          200: z.object({
            status: z.literal('ready'),
            checks: z.object({ database: z.literal('ok'), redis: z.literal('ok') }),
          }),
          ...problemResponses(503),
        },
      },
    },
    async () => {
      const [database, redis] = await Promise.all([
        probe('the database', () => ctx.db.ping()),
        probe('Redis', () => ctx.redis.ping()),
      ]);
      const failures = [
        database && { path: 'database', message: database },
        redis && { path: 'redis', message: redis },
      ];
      const errors = failures.filter((failure): failure is { path: string; message: string } =>
        Boolean(failure),
      );
      if (errors.length > 0) {
        throw new ProblemError(503, 'not_ready', errors.map((e) => e.message).join('; '), errors, {
          'retry-after': '5',
        });
      }
      return { status: 'ready' as const, checks: { database: 'ok' as const, redis: 'ok' as const } };
    },
  );

  app.get(
    '/metrics',
    {
      config: { scope: 'read', rateLimit: false },
      schema: {
        summary: 'Prometheus metrics',
        description:
          "Queue depth by state (swavlab_queue_jobs), runs by status (swavlab_runs), the reconciler's repairs " +
          '(swavlab_reconciler_actions_total{action}), the device slots unfinished work needs (swavlab_slots_demanded, ' +
          'what KEDA scales workers on), request latency (http_request_duration_seconds{method, route, status}) and ' +
          "the process's CPU and memory.",
        tags: ['operations'],
        response: {
          200: {
            description: 'Prometheus text format 0.0.4',
            content: { 'text/plain': { schema: z.string() } },
          },
          ...problemResponses(401, 403, 503),
        },
      },
    },
    async (_request, reply) => {
      const [depth, actions, byStatus, demand] = await Promise.all([
        queueDepth(ctx.queue),
        reconcilerActions(ctx.redis, reconcilerActionsKey(ctx.config.queuePrefix)),
        ctx.db.runs.countByStatus(),
        slotDemand(ctx.db),
      ]);
      const body = [
        renderGauge(
          'swavlab_queue_jobs',
          'Jobs in the BullMQ queue by state.',
          Object.entries(depth).map(([state, value]) => ({ labels: { queue: QUEUE_NAME, state }, value })),
        ),
        renderGauge(
          'swavlab_runs',
          'Runs in the database by status.',
          RUN_STATUSES.map((status) => ({ labels: { status }, value: byStatus[status] })),
        ),
        renderCounter(
          'swavlab_reconciler_actions_total',
          "Repairs made by the workers' reconciler, by action (enqueued, requeued, canceled, abandoned, removed).",
          RECONCILER_ACTIONS.map((action) => ({ labels: { action }, value: actions[action] ?? 0 })),
        ),
        renderGauge(
          'swavlab_slots_demanded',
          'Device slots that unfinished work needs: ranks of queued, running and stopping runs, plus one per queued ' +
            'or running evaluation (the KEDA trigger of the worker Deployment).',
          [{ labels: {}, value: demand }],
        ),
        latency.render(),
        renderProcessMetrics(),
      ].join('');
      return reply.type(PROMETHEUS_CONTENT_TYPE).send(body);
    },
  );
};
