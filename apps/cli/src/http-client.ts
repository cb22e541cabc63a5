// The CLI's HTTP client for the REST API: bearer token, JSON bodies, and errors mapped to exit codes
// (problem+json field errors become `path: message` lines; a server that does not answer exits with 3).
import { CliError, EXIT, type ExitCode, UsageError } from './errors.js';
import { issueLines } from './spec-file.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const REQUEST_TIMEOUT_MS = 30_000;

export interface ServerSettings {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8080. */
  url: string;
  token: string | undefined;
}

/** --url / SWAVLAB_URL and --token / SWAVLAB_TOKEN; a malformed URL is a usage error. */
export function serverSettings(
  flags: { url?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): ServerSettings {
  const raw = flags.url ?? (env.SWAVLAB_URL || DEFAULT_URL);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`--url: not a URL: ${JSON.stringify(raw)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url: expected an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  const token = flags.token ?? (env.SWAVLAB_TOKEN || undefined);
  return { url: parsed.href.replace(/\/+$/, ''), token };
}

interface ProblemBody {
  detail?: unknown;
  title?: unknown;
  code?: unknown;
  errors?: unknown;
}

/** An error response of the API. */
export class ApiError extends CliError {
  constructor(
    message: string,
    exitCode: ExitCode,
    details: readonly string[],
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message, exitCode, details);
    this.name = 'ApiError';
  }
}

function exitCodeFor(status: number): ExitCode {
  return status === 400 || status === 413 || status === 415 || status === 422 ? EXIT.usage : EXIT.failure;
}

async function apiError(response: Response, what: string): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let problem: ProblemBody = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) problem = parsed as ProblemBody;
  } catch {
    // Not JSON (a proxy's error page): the status line is all there is to report.
  }
  const detail =
    typeof problem.detail === 'string' && problem.detail !== ''
      ? problem.detail
      : `${response.status} ${response.statusText}`.trim();
  const errors = Array.isArray(problem.errors)
    ? issueLines(
        problem.errors.filter(
          (e): e is { path: string; message: string } =>
            typeof e === 'object' &&
            e !== null &&
            typeof e.path === 'string' &&
            typeof e.message === 'string',
        ),
      )
    : [];
  const hint =
    response.status === 401
      ? ' (pass a token with --token or SWAVLAB_TOKEN; `swavlab token create` makes one)'
      : '';
  const code = typeof problem.code === 'string' ? problem.code : undefined;
  return new ApiError(
    `${what}: ${detail}${hint}`,
    exitCodeFor(response.status),
    errors,
    response.status,
    code,
  );
}

function unreachable(url: string, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason =
    (error as Error).name === 'TimeoutError'
      ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
      : (cause?.code ?? cause?.message ?? (error as Error).message);
  return new CliError(
    `cannot reach the swavlab server at ${url} (${reason}); start one with \`swavlab up\`, or point --url / SWAVLAB_URL at it`,
    EXIT.unreachable,
  );
}

export type Query = Record<string, string | number | readonly string[] | undefined>;

export class ApiClient {
  constructor(readonly settings: ServerSettings) {}

  /** The absolute URL of an API path with query parameters (arrays repeat the parameter). */
  urlOf(path: string, query: Query = {}): string {
    const url = new URL(this.settings.url + path);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
    }
    return url.href;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.settings.token !== undefined) headers.authorization = `Bearer ${this.settings.token}`;
    return headers;
  }

  /**
   * Sends a request; network failures become exit code 3. `signal` replaces the default timeout (streams
   * last as long as the run).
   */
  async fetch(
    method: string,
    path: string,
    init: { query?: Query; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const hasBody = init.body !== undefined;
    try {
      return await fetch(this.urlOf(path, init.query), {
        method,
        // JSON, also for body-less POSTs: the server refuses state-changing requests that do not say so.
        headers: this.headers({
          ...(hasBody || method !== 'GET' ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        }),
        ...(hasBody ? { body: JSON.stringify(init.body) } : {}),
        signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw unreachable(this.settings.url, error);
    }
  }

  /** A JSON request; a non-2xx answer throws an ApiError described as `what`. */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    what: string,
    init: { query?: Query; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const response = await this.fetch(method, path, init);
    if (!response.ok) throw await apiError(response, what);
    return { status: response.status, body: (await response.json()) as T };
  }

  async get<T>(path: string, what: string, query?: Query): Promise<T> {
    return (await this.request<T>('GET', path, what, query === undefined ? {} : { query })).body;
  }

  /** Whether a swavlab server answers /healthz at this URL. */
  async isAnswering(): Promise<boolean> {
    try {
      const response = await fetch(this.urlOf('/healthz'), { signal: AbortSignal.timeout(2_000) });
      return response.ok;
    } catch {
      return false;
    }
  }

  /** The ApiError for a non-2xx streaming response. */
  errorOf(response: Response, what: string): Promise<ApiError> {
    return apiError(response, what);
  }
}
