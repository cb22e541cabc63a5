// Builds the Fastify application from injected dependencies: validation, problem responses, auth, rate limits,
// request metrics, the OpenAPI document, and the route plugins.
import rateLimit from '@fastify/rate-limit';
import { redactCredentials } from '@swavlab/queue';
import { createLogger, Histogram, type LogLevel } from '@swavlab/telemetry';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Authenticator, registerAuth } from './auth.js';
import { registerBrowserGuard } from './browser-guard.js';
import type { AppContext, AppDeps } from './context.js';
import { clientErrorHandler, frameworkErrorHandler, registerProblemHandlers } from './errors.js';
import { IdempotencyStore } from './idempotency.js';
import { registerJsonBody } from './json-body.js';
import { registerOpenApi } from './openapi.js';
import { ProblemError } from './problem.js';
import { adminRoutes } from './routes/admin.js';
import { baselineRoutes } from './routes/baselines.js';
import { compareRoutes } from './routes/compare.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { downloadRoutes } from './routes/downloads.js';
import { evaluationRoutes } from './routes/evaluations.js';
import { gridRoutes } from './routes/grids.js';
import { operationsRoutes } from './routes/operations.js';
import { recipeRoutes } from './routes/recipes.js';
import { regressionRoutes } from './routes/regressions.js';
import { runEventRoutes } from './routes/run-events.js';
import { runRoutes } from './routes/runs.js';
import { whoAmIRoutes } from './routes/whoami.js';
import { StreamTickets } from './stream-tickets.js';
import { jsonSerializerCompiler, zodValidatorCompiler } from './validation.js';

export type { AppDeps } from './context.js';

export interface BuildAppOptions {
  /** The request logger; default: createApiLogger at the configured level. */
  logger?: FastifyBaseLogger;
  /** Parse every response with its route's schema (tests): a mismatch fails the request. */
  validateResponses?: boolean;
}

/**
 * The API's pino logger (the worker's options, packages/telemetry) writing JSON lines to `write` (default: standard
 * output), with the credentials of connection URLs masked.
 */
export function createApiLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(line),
): FastifyBaseLogger {
  return createLogger(level, { write, redact: redactCredentials });
}

export async function buildApp(deps: AppDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: options.logger ?? createApiLogger(config.logLevel),
    bodyLimit: config.bodyLimit,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  const ctx: AppContext = {
    ...deps,
    idempotency: new IdempotencyStore(deps.redis, config.redisPrefix, config.idempotencyKeys),
    tickets: new StreamTickets(deps.redis, config.redisPrefix),
  };

  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(jsonSerializerCompiler(options.validateResponses ?? false));
  registerProblemHandlers(app);
  registerJsonBody(app);
  registerBrowserGuard(app, config);
  const authenticator = new Authenticator(config, deps.db);
  registerAuth(app, authenticator, ctx.tickets);
  app.addHook('onReady', async () => {
    const { required, reason } = await authenticator.mode();
    if (required) app.log.info({ reason }, 'authentication: a token is required');
    else app.log.warn({ reason }, 'authentication: off');
  });

  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      // After authentication, so that a token's requests share one budget wherever they come from.
      hook: 'preParsing',
      keyGenerator: (request) =>
        request.principal && request.principal.id !== 'anonymous' ? request.principal.id : `ip:${request.ip}`,
      redis: deps.redis,
      nameSpace: `${config.redisPrefix}:rate-limit:`,
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new ProblemError(
          429,
          'rate_limited',
          `too many requests: at most ${context.max} per minute; retry in ${context.after}`,
        ),
    });
  }

  const latency = new Histogram('http_request_duration_seconds', 'HTTP request latency in seconds.');
  app.addHook('onResponse', async (request, reply) => {
    latency.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  await registerOpenApi(app);
  await app.register(runRoutes, { prefix: '/v1', ctx });
  await app.register(runEventRoutes, { prefix: '/v1', ctx });
  await app.register(downloadRoutes, { prefix: '/v1', ctx });
  await app.register(evaluationRoutes, { prefix: '/v1', ctx });
  await app.register(gridRoutes, { prefix: '/v1', ctx });
  await app.register(compareRoutes, { prefix: '/v1', ctx });
  await app.register(regressionRoutes, { prefix: '/v1', ctx });
  await app.register(baselineRoutes, { prefix: '/v1', ctx });
  await app.register(recipeRoutes, { prefix: '/v1', ctx });
  await app.register(whoAmIRoutes, { prefix: '/v1', ctx });
  await app.register(operationsRoutes, { ctx, latency });
  await app.register(adminRoutes, { ctx });
  await app.register(dashboardRoutes);
  return app;
}
