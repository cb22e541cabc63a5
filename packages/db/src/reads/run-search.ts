// The run list of GET /v1/runs: the structured filters and the `q` expression become one search tree, compiled to
// a parameterised condition, and listed newest first with keyset pagination on (created_at, id), or in another
// order (run-sort.ts) by offset. Bad input is an InvalidInputError naming the parameter (q, sort, page_token).
import type { Database } from '../database.js';
import { InvalidInputError } from '../errors.js';
import { type Cursor, decodePageToken, encodePageToken } from '../pagination.js';
import type { Run, RunStatus } from '../rows.js';
import { allOf, compileSearch, type Expr, parseSearch, SearchSyntaxError } from '../search/index.js';
import { runSql, type Sql, sql } from '../sql.js';
import { DEFAULT_SORT, decodeSortToken, encodeSortToken, parseSort } from './run-sort.js';

export interface RunSearch {
  statuses?: RunStatus[];
  grid?: string;
  tag?: string;
  q?: string;
  /** `key` or `-key` (run-sort.ts); default newest first. */
  sort?: string;
  pageSize: number;
  pageToken?: string;
}

export interface RunSearchPage {
  runs: Run[];
  nextPageToken: string | null;
}

/** Parses `q`, a syntax error becoming an InvalidInputError on `q` (its message gives the position). */
function parseQuery(q: string): Expr {
  try {
    return parseSearch(q);
  } catch (error) {
    if (error instanceof SearchSyntaxError) throw new InvalidInputError('q', error.message);
    throw error;
  }
}

function filters(search: RunSearch): Expr | undefined {
  const parts: Expr[] = [];
  if (search.statuses) {
    parts.push({ kind: 'in', field: { kind: 'column', column: 'status' }, values: search.statuses });
  }
  if (search.grid !== undefined) {
    parts.push({ kind: 'compare', field: { kind: 'grid' }, op: '=', value: search.grid });
  }
  if (search.tag !== undefined)
    parts.push({ kind: 'compare', field: { kind: 'tag' }, op: '=', value: search.tag });
  if (search.q !== undefined) parts.push(parseQuery(search.q));
  return allOf(parts);
}

/** A page in the order of `search.sort`, addressed by offset. */
async function sortedPage(
  db: Database,
  search: RunSearch & { sort: string },
  where: Sql,
): Promise<RunSearchPage> {
  const { order, text } = parseSort(search.sort);
  const offset = search.pageToken === undefined ? 0 : decodeSortToken(search.pageToken, text);
  const rows = await runSql<{ id: string }>(
    db,
    sql`SELECT runs.id FROM runs WHERE ${where} ORDER BY ${order} LIMIT ${String(search.pageSize + 1)}::int OFFSET ${String(offset)}::int`,
  );
  return {
    runs: await db.runs.getRuns(rows.slice(0, search.pageSize).map((row) => row.id)),
    nextPageToken: rows.length > search.pageSize ? encodeSortToken(text, offset + search.pageSize) : null,
  };
}

export async function searchRuns(db: Database, search: RunSearch): Promise<RunSearchPage> {
  const conditions = [sql`TRUE`];
  const expr = filters(search);
  if (expr) conditions.push(compileSearch(expr));
  if (search.sort !== undefined && search.sort !== DEFAULT_SORT) {
    const where = conditions.reduce((acc, condition) => sql`${acc} AND ${condition}`);
    return sortedPage(db, { ...search, sort: search.sort }, where);
  }
  if (search.pageToken !== undefined) {
    const cursor: Cursor = decodePageToken(search.pageToken, 'page_token');
    conditions.push(
      sql`(runs.created_at, runs.id) < (${cursor.createdAt.toISOString()}::timestamp, ${cursor.id}::text)`,
    );
  }
  const where = conditions.reduce((acc, condition) => sql`${acc} AND ${condition}`);
  const rows = await runSql<{ id: string }>(
    db,
    sql`SELECT runs.id FROM runs WHERE ${where} ORDER BY runs.created_at DESC, runs.id DESC LIMIT ${String(search.pageSize + 1)}::int`,
  );
  // The repository maps rows to Run (one query for the page); a run deleted in between is simply left out.
  const runs = await db.runs.getRuns(rows.slice(0, search.pageSize).map((row) => row.id));
  const last = runs.at(-1);
  return { runs, nextPageToken: rows.length > search.pageSize && last ? encodePageToken(last) : null };
}
