// The queue dashboard (bull-board) under /admin/queues, read-only, for admin tokens only. Browsers authenticate
// with Basic credentials whose password is the token (the 401 asks for them).
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/** bull-board's page links web fonts on the internet; without them it falls back to the system's fonts. */
const REMOTE_FONTS = /<link[^>]*fonts\.(googleapis|gstatic)\.com[^>]*>/g;

export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  // bull-board defines its own routes; this marks every one of them as needing the admin scope.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, scope: 'admin' };
  });
  // A self-hosted service makes no request to the internet (and its CSP would refuse the fonts anyway).
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    return typeof payload === 'string' && type.startsWith('text/html')
      ? payload.replace(REMOTE_FONTS, '')
      : payload;
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(ctx.queue, { readOnlyMode: true })],
    serverAdapter,
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_QUEUES_PATH });
};
