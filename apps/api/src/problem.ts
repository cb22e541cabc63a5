// RFC 9457 problem details: the one shape every error response of the API has.
import type { Issue } from '@swavlab/spec';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** At most this many field errors are listed; a body with thousands of bad entries gets a summary line. */
const MAX_LISTED_ERRORS = 100;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Stable, machine-readable reason (e.g. `validation_failed`, `not_found`). */
  code: string;
  errors: Issue[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Content',
  431: 'Request Header Fields Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** An error that becomes exactly this problem response; thrown anywhere in a request's lifecycle. */
export class ProblemError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly errors: Issue[];
  /** Extra response headers (e.g. `WWW-Authenticate`, `Allow`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    detail: string,
    errors: readonly Issue[] = [],
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.statusCode = status;
    this.code = code;
    this.headers = headers;
    const listed = errors.slice(0, MAX_LISTED_ERRORS);
    if (errors.length > listed.length) {
      listed.push({ path: '', message: `${errors.length - listed.length} more errors not listed` });
    }
    this.errors = listed;
  }

  toProblem(): Problem {
    return {
      type: `urn:swavlab:problem:${this.code}`,
      title: statusTitle(this.statusCode),
      status: this.statusCode,
      detail: this.message,
      code: this.code,
      errors: this.errors,
    };
  }
}

/** 400 with field errors; the detail summarises the first one so that a terse client still shows the cause. */
export function validationProblem(errors: readonly Issue[], where = 'request'): ProblemError {
  const first = errors[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid input';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new ProblemError(400, 'validation_failed', `invalid ${where}: ${summary}${more}`, errors);
}

export function notFound(what: string, id: string): ProblemError {
  return new ProblemError(404, 'not_found', `${what} ${JSON.stringify(id)} does not exist`);
}
