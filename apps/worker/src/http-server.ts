// The worker's operations endpoints (SWAVLAB_WORKER_PORT): GET /healthz (200 while the process lives), GET /readyz
// (200 when every check passes, else 503 naming what failed) and GET /metrics (Prometheus text). Plain node:http:
// three read-only routes need no framework, and nothing here may slow the jobs down.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from '@swavlab/telemetry';
import type { HttpAddress } from './config.js';
import type { Logger } from './logger.js';

/** Each check's failure message, null when it passed. */
export type ReadinessChecks = Record<string, string | null>;

export interface HttpSources {
  readiness(): Promise<ReadinessChecks>;
  metrics(): string;
}

export interface WorkerHttpServer {
  /** Where it listens (the port chosen when 0 was asked for). */
  readonly address: HttpAddress;
  close(): Promise<void>;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  sources: HttpSources,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return sendJson(response, 405, { error: `${request.method} is not allowed; use GET` });
  }
  switch (path) {
    case '/healthz':
      return sendJson(response, 200, { status: 'ok' });
    case '/readyz': {
      const checks = await sources.readiness();
      const failed = Object.entries(checks).filter((entry): entry is [string, string] => entry[1] !== null);
      if (failed.length === 0) {
        return sendJson(response, 200, {
          status: 'ready',
          checks: Object.fromEntries(Object.keys(checks).map((name) => [name, 'ok'])),
        });
      }
      response.setHeader('retry-after', '5');
      return sendJson(response, 503, {
        status: 'not_ready',
        detail: failed.map(([, message]) => message).join('; '),
        checks: Object.fromEntries(Object.entries(checks).map(([name, message]) => [name, message ?? 'ok'])),
      });
    }
    case '/metrics':
      response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
      response.end(sources.metrics());
      return;
    default:
      return sendJson(response, 404, { error: `no route ${path}; try /healthz, /readyz or /metrics` });
  }
}

/** Listens on `address`; rejects when the port cannot be bound (in use, no permission). */
export function startHttpServer(
  address: HttpAddress,
  sources: HttpSources,
  logger: Logger,
): Promise<WorkerHttpServer> {
  const server = createServer((request, response) => {
    handle(request, response, sources).catch((error: unknown) => {
      logger.error('operations endpoint failed', { url: request.url, error });
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.end();
    });
  });
  // Keep-alive scrapes must not hold the process open at exit.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new Error(`SWAVLAB_WORKER_PORT: cannot listen on ${address.host}:${address.port}: ${error.message}`),
      ),
    );
    server.listen(address.port, address.host, () => {
      const bound = server.address() as AddressInfo;
      const actual = { host: address.host, port: bound.port };
      logger.info('operations endpoints listening', { url: `http://${address.host}:${bound.port}` });
      resolve({
        address: actual,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
