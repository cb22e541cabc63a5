// Opaque keyset cursors: a page token encodes the (created_at, id) of the last row of the previous page.
import { InvalidInputError } from './errors.js';

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodePageToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

const TOKEN_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TOKEN_ID = /^[0-9A-Za-z_-]{1,64}$/;

/**
 * The cursor of a token written by encodePageToken; anything else (bad base64 or JSON, an impossible date such as
 * February 30 or year 0, an id that no row can have) is an InvalidInputError on `path`, never a database error.
 */
export function decodePageToken(token: string, path = 'pageToken'): Cursor {
  const invalid = () => new InvalidInputError(path, 'is not a page token returned by a previous page');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [time, id] = parsed as unknown[];
  if (typeof time !== 'string' || !TOKEN_TIME.test(time) || typeof id !== 'string' || !TOKEN_ID.test(id)) {
    throw invalid();
  }
  const createdAt = new Date(time);
  // A date JavaScript rolls over (February 30 → March 2) or one before the epoch is not one we wrote.
  if (
    Number.isNaN(createdAt.getTime()) ||
    createdAt.toISOString() !== time ||
    createdAt.getUTCFullYear() < 1970
  ) {
    throw invalid();
  }
  return { createdAt, id };
}

/** The Prisma `where` that keeps the rows after the cursor of `token`, in (created_at, id) descending order. */
export function afterPageToken(token: string) {
  const after = decodePageToken(token);
  return {
    OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
  };
}

/** Splits `pageSize + 1` fetched rows into the page and the token of the next page (null on the last one). */
export function keysetPage<Row extends Cursor>(
  rows: readonly Row[],
  pageSize: number,
): { page: Row[]; nextPageToken: string | null } {
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  return { page, nextPageToken: rows.length > pageSize && last ? encodePageToken(last) : null };
}
