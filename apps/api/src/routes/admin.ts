// The queue dashboard (bull-board) under /admin/queues, read-only, for admin tokens only. Browsers authenticate
// with Basic credentials whose password is the token (the 401 asks for them).
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';

export const ADMIN_QUEUES_PATH = '/admin/queues';

export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  // bull-board defines its own routes; this marks every one of them as needing the admin scope.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, scope: 'admin' };
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(ctx.queue, { readOnlyMode: true })],
    serverAdapter,
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_QUEUES_PATH });
};
