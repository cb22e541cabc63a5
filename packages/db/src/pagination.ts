// Opaque keyset cursors: a page token encodes the (created_at, id) of the last row of the previous page.
import { InvalidInputError } from './errors.js';

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodePageToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

export function decodePageToken(token: string, path = 'pageToken'): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidInputError(path, 'is not a page token returned by a previous page');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) {
    throw new InvalidInputError(path, 'is not a page token returned by a previous page');
  }
  const [time, id] = parsed;
  const createdAt = new Date(typeof time === 'string' ? time : Number.NaN);
  if (Number.isNaN(createdAt.getTime()) || typeof id !== 'string' || id.length === 0) {
    throw new InvalidInputError(path, 'is not a page token returned by a previous page');
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
