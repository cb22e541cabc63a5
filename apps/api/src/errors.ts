// The global error and not-found handlers: whatever goes wrong, the client gets an RFC 9457 problem, and a
// server-side failure is logged in full but answered without its message, stack or any configuration.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { InvalidInputError } from '@swavlab/db';
import { QueueUnavailable } from '@swavlab/queue';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, ProblemError } from './problem.js';

/** Fastify's own client errors, re-worded with stable codes. */
const FASTIFY_ERRORS: Record<string, { code: string; detail?: (request: FastifyRequest) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'body_too_large',
    detail: (request) =>
      `the request body is larger than ${request.routeOptions.bodyLimit ?? 'the limit of'} bytes`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    detail: (request) =>
      `the request body must be application/json, not ${JSON.stringify((request.headers['content-type'] ?? '').slice(0, 100))}`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_content_length' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'invalid_content_type' },
  FST_ERR_BAD_URL: { code: 'bad_url', detail: () => 'the request URL is not valid' },
  FST_ERR_MAX_PARAM_LENGTH: {
    code: 'url_too_long',
    detail: () => 'a path parameter of the URL is longer than the 200 characters accepted',
  },
};

export function sendProblem(reply: FastifyReply, problem: ProblemError): FastifyReply {
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply.code(problem.statusCode).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem.toProblem()));
}

/** Maps any thrown value to the problem the client sees. */
export function toProblemError(error: unknown, request: FastifyRequest): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof InvalidInputError) {
    return new ProblemError(400, 'validation_failed', error.message, [
      { path: error.path, message: error.reason },
    ]);
  }
  if (error instanceof QueueUnavailable) {
    return new ProblemError(
      503,
      'queue_unavailable',
      'the queue (Redis) is not reachable; retry shortly',
      [],
      {
        'retry-after': '5',
      },
    );
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
    const detail = known?.detail?.(request) ?? fastifyError.message ?? 'the request cannot be served';
    return new ProblemError(status, known?.code ?? 'bad_request', detail);
  }
  return new ProblemError(
    500,
    'internal_error',
    `an internal error occurred; it has been logged with request id ${request.id}`,
  );
}

function routePattern(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

/** Errors Fastify's router raises before any hook runs (a bad URL, an over-long parameter), as problems. */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendProblem(reply, toProblemError(error, request));
}

/** The problem for an error Node's HTTP parser raises before Fastify sees a request (status, code, detail). */
function clientProblem(code: string | undefined): ProblemError {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new ProblemError(431, 'headers_too_large', 'the request line and headers exceed 16 KiB');
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ProblemError(408, 'request_timeout', 'the request was not received in time');
  }
  return new ProblemError(400, 'malformed_request', 'the request is not valid HTTP');
}

/** Answers a request Node could not parse (no route, no hooks) with a problem, then closes the connection. */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const problem = clientProblem(error.code);
    const body = JSON.stringify(problem.toProblem());
    socket.write(
      `HTTP/1.1 ${problem.statusCode} ${STATUS_CODES[problem.statusCode]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Installs the error handler, and a not-found handler that tells 405 (known path, other method) from 404. */
export function registerProblemHandlers(app: FastifyInstance): void {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routes.push({ pattern: routePattern(route.url), methods });
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblemError(error, request);
    if (problem.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, status: problem.statusCode }, 'request rejected');
    return sendProblem(reply, problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, 200);
    const allowed = new Set<string>();
    for (const route of routes) {
      if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    }
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const allow = [...allowed].sort().join(', ');
      return sendProblem(
        reply,
        new ProblemError(
          405,
          'method_not_allowed',
          `${request.method} is not allowed on ${path}; use ${allow}`,
          [],
          {
            allow,
          },
        ),
      );
    }
    return sendProblem(reply, new ProblemError(404, 'route_not_found', `no route ${request.method} ${path}`));
  });
}
