// HTTP range requests on a file of known size (RFC 9110 §14): the one byte range a download asks for, if any.
// A multi-range or malformed header is ignored (the whole file is sent), as the RFC allows.

export type RangeRequest =
  /** Send the whole file (no Range header, or one this server ignores). */
  | { kind: 'whole' }
  /** Send bytes start..end, both inclusive (206). */
  | { kind: 'part'; start: number; end: number }
  /** The range lies beyond the file (416). */
  | { kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/** The range `header` asks for in a file of `size` bytes. */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  const match = header === undefined ? null : SINGLE_RANGE.exec(header.trim());
  if (match === null) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    // A suffix: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (last !== '' && end < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end: Math.min(end, size - 1) };
}

/** Whether `header` (If-None-Match or If-Range) names the entity tag `etag` (a weak match is enough). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}
