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
