// What keeps a web page in the user's browser from using the API behind the user's back (the server may be open
// to local clients, and browsers reach 127.0.0.1 too):
// - DNS rebinding: a request whose Host is not one of the server's names is refused (421), so a page of an
//   attacker's domain that resolves to 127.0.0.1 gets nothing;
// - cross-site requests: a request carrying an Origin other than the server's own (or one allowed) is refused
//   (403); browsers send Origin with every cross-origin fetch and every form POST;
// - state-changing requests must say they are JSON (Content-Type: application/json) or carry X-Swavlab-Client:
//   neither can be sent cross-origin without a CORS preflight, which this server never grants;
// - every response forbids MIME sniffing, referrers and framing, and HTML gets a Content-Security-Policy without
//   inline scripts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './errors.js';
import { ProblemError } from './problem.js';

export interface BrowserGuardOptions {
  /** Host names (without port) requests may name in Host; '*' accepts any. */
  allowedHosts: readonly string[] | '*';
  /** Origins (`scheme://host[:port]`) other than the server's own that may send requests. */
  allowedOrigins: readonly string[];
}

/** The header a non-browser client may send instead of a JSON content type on a body-less POST. */
export const CLIENT_HEADER = 'x-swavlab-client';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;
const HTML_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Charts and the queue dashboard set inline styles; no inline script is allowed.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The host name of a Host header (`[::1]:8080` → `::1`, `Example.org:80` → `example.org`). */
export function hostName(header: string): string {
  const host = header.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function refusal(request: FastifyRequest, options: BrowserGuardOptions): ProblemError | undefined {
  const host = request.headers.host ?? '';
  if (options.allowedHosts !== '*' && !options.allowedHosts.includes(hostName(host))) {
    return new ProblemError(
      421,
      'host_not_allowed',
      `this server does not answer for the host ${JSON.stringify(host.slice(0, 100))}; ` +
        'add it to SWAVLAB_ALLOWED_HOSTS to use that name',
    );
  }
  const origin = request.headers.origin;
  if (
    origin !== undefined &&
    origin !== `${request.protocol}://${host}` &&
    !options.allowedOrigins.includes(origin)
  ) {
    return new ProblemError(
      403,
      'cross_origin_refused',
      `requests from the origin ${JSON.stringify(origin.slice(0, 200))} are refused; ` +
        'add it to SWAVLAB_ALLOWED_ORIGINS to allow it',
    );
  }
  // Unknown routes get their 404/405 from the router.
  if (!SAFE_METHODS.has(request.method) && !request.is404) {
    const type = request.headers['content-type'] ?? '';
    if (!JSON_TYPE.test(type) && request.headers[CLIENT_HEADER] === undefined) {
      return new ProblemError(
        415,
        'unsupported_media_type',
        `${request.method} requests must be sent with Content-Type: application/json (a body may be empty), ` +
          `or with an ${CLIENT_HEADER} header`,
      );
    }
  }
  return undefined;
}

function secureHeaders(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  const type = String(reply.getHeader('content-type') ?? '');
  if (type.startsWith('text/html') && !reply.hasHeader('content-security-policy')) {
    reply.header('content-security-policy', HTML_CSP);
  }
}

/** Installs the checks and headers above on every route (before authentication). */
export function registerBrowserGuard(app: FastifyInstance, options: BrowserGuardOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const problem = refusal(request, options);
    if (problem !== undefined) return sendProblem(reply, problem);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    secureHeaders(reply);
    return payload;
  });
}
