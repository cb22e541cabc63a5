// The HTTP client of the dashboard: same-origin JSON requests, RFC 9457 problems turned into ApiError, and the
// optional bearer token a protected server needs (entered on the token prompt and kept in sessionStorage: it
// lasts as long as the tab, and no other tab or later visit can read it).
import type { ProblemDetail } from './types';

const TOKEN_KEY = 'swavlab.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemDetail,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null || token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** Earlier versions kept the token in localStorage, where it outlived the tab: it is dropped there. */
export function forgetPersistentToken(): void {
  localStorage.removeItem(TOKEN_KEY);
}

export type QueryValue = string | number | readonly string[] | undefined | null;

/** `path?query`, leaving out empty values; arrays become comma-separated lists. */
export function apiUrl(path: string, query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(name, value.join(','));
    } else {
      params.set(name, String(value));
    }
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

async function request(
  url: string,
  accept: string,
  signal?: AbortSignal,
  method: 'GET' | 'POST' = 'GET',
  body?: unknown,
): Promise<Response> {
  // POSTs say they are JSON: the server refuses state changes that do not.
  const headers: Record<string, string> =
    method === 'POST' ? { accept, 'content-type': 'application/json' } : { accept };
  const token = storedToken();
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method,
    headers,
    signal: signal ?? null,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    const type = response.headers.get('content-type') ?? '';
    const problem: ProblemDetail = type.includes('json')
      ? ((await response.json()) as ProblemDetail)
      : { detail: `${response.status} ${response.statusText}` };
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function getJson<T>(
  path: string,
  query: Record<string, QueryValue> = {},
  signal?: AbortSignal,
): Promise<T> {
  return (await (await request(apiUrl(path, query), 'application/json', signal)).json()) as T;
}

/** POSTs `body` as JSON (none when undefined) and returns the JSON answer. */
export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  return (await (await request(path, 'application/json', undefined, 'POST', body)).json()) as T;
}

/**
 * The URL to open a run's event stream at: as is on an open server; with a stored token, with a ticket (an
 * EventSource cannot send the token itself).
 */
export async function eventStreamUrl(runPath: string): Promise<string> {
  if (storedToken() === null) return `${runPath}/events`;
  const { ticket } = await postJson<{ ticket: string }>(`${runPath}/events/ticket`);
  return `${runPath}/events?ticket=${encodeURIComponent(ticket)}`;
}

/** Saves the response of `url` as a file; fetched with the token, which a plain link could not send. */
export async function downloadWithToken(url: string, filename: string): Promise<void> {
  const blob = await (await request(url, '*/*')).blob();
  const objectUrl = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = objectUrl;
  anchor.download = filename;
  anchor.click();
  URL.revokeObjectURL(objectUrl);
}

/** Whether a failure is the page going away (an aborted request), which is not worth showing. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
