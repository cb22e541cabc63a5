// The only request body the API accepts is JSON. Parsing is followed by an iterative walk that bounds nesting
// depth (a 10,000-deep array would otherwise overflow the stack of the recursive validators after it), refuses
// `__proto__` keys, so that no later object spread can be tricked into changing a prototype, and refuses NUL
// characters in strings and keys, which PostgreSQL cannot store. The query string and path parameters get the
// same NUL check.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

/** Deeper than any valid spec (about 5 levels) by a wide margin. */
export const MAX_JSON_DEPTH = 32;

type Frame = { value: unknown; path: string; depth: number };

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
    ? path
      ? `${path}.${key}`
      : key
    : `${path}[${JSON.stringify(key)}]`;
}

function nulProblem(path: string, where: string): ProblemError {
  return new ProblemError(
    400,
    'validation_failed',
    `a string in the ${where} holds a NUL character (\\u0000), which cannot be stored`,
    [{ path, message: 'contains a NUL character (\\u0000), which cannot be stored' }],
  );
}

/**
 * Throws a 400 problem naming the first place that nests too deeply, carries a `__proto__` key or holds a NUL
 * character; `where` words the problem (`request body`, `query parameters`).
 */
export function checkJsonShape(root: unknown, where = 'request body'): void {
  const stack: Frame[] = [{ value: root, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as Frame;
    if (typeof value === 'string' && value.includes('\u0000')) throw nulProblem(path, where);
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      const shown = path.length > 120 ? `${path.slice(0, 117)}...` : path;
      throw new ProblemError(400, 'too_deep', `JSON nests more than ${MAX_JSON_DEPTH} levels deep`, [
        { path: shown, message: `nesting deeper than ${MAX_JSON_DEPTH} levels is not accepted` },
      ]);
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        stack.push({ value: item, path: childPath(path, i), depth: depth + 1 });
      });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) throw nulProblem(childPath(path, key), where);
      if (key === '__proto__') {
        throw new ProblemError(400, 'forbidden_key', 'the key "__proto__" is not accepted', [
          { path: childPath(path, key), message: 'the key "__proto__" is not accepted' },
        ]);
      }
      stack.push({ value: item, path: childPath(path, key), depth: depth + 1 });
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'not valid JSON';
    throw new ProblemError(400, 'malformed_json', `the request body is not valid JSON: ${reason}`, [
      { path: '', message: `not valid JSON: ${reason}` },
    ]);
  }
}

/** Replaces Fastify's parsers: JSON (and `+json` types) only; any other body is a 415. */
export function registerJsonBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = (
    _request: FastifyRequest,
    body: string | Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      const value = parseJson(text);
      checkJsonShape(value);
      done(null, value);
    } catch (error) {
      done(error as Error);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
  app.addContentTypeParser(/^application\/[a-z0-9.+-]+\+json$/, { parseAs: 'string' }, parse);
  app.addHook('preValidation', async (request) => {
    checkJsonShape(request.query, 'query parameters');
    checkJsonShape(request.params, 'path parameters');
  });
}
