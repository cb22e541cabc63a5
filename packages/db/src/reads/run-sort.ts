// The `sort` of GET /v1/runs: one key (a run column, a final metric or a spec leaf path), ascending or descending
// (`-key`), runs without a value last, ties newest first. Sorted pages are addressed by offset (a key such as a
// metric has no stable keyset); the default order, newest first, keeps its keyset pagination.
import { isMetricName, isSpecLeafPath } from '@swavlab/spec';
import { InvalidInputError } from '../errors.js';
import { specValue } from '../search/compile.js';
import { type Sql, sql } from '../sql.js';
import { finalMetricSql } from './final-metrics.js';

export const DEFAULT_SORT = '-created_at';

const COLUMNS: Record<string, Sql> = {
  created_at: sql`runs.created_at`,
  started_at: sql`runs.started_at`,
  finished_at: sql`runs.finished_at`,
  name: sql`runs.name`,
  status: sql`runs.status::text`,
  seed: sql`runs.seed`,
  priority: sql`runs.priority`,
  duration: sql`EXTRACT(EPOCH FROM (COALESCE(runs.finished_at, now()) - runs.started_at))`,
  progress: sql`runs.progress_step::float8 / NULLIF(runs.total_steps, 0)`,
};

export const SORT_DESCRIPTION =
  '`key` ascending or `-key` descending; key: created_at (default `-created_at`), started_at, finished_at, name, ' +
  'status, seed, priority, duration, progress, metrics.<name> (the final value) or a spec leaf path such as ' +
  'swav.prototypes. Runs without a value come last; ties are newest first.';

export interface RunSort {
  /** The sort as asked, e.g. `-metrics.knn_top1@20`. */
  text: string;
  order: Sql;
}

function invalid(message: string): Error {
  return new InvalidInputError('sort', message);
}

function keyExpression(key: string): Sql {
  const column = COLUMNS[key];
  if (column !== undefined) return column;
  if (key.startsWith('metrics.')) {
    const name = key.slice('metrics.'.length);
    if (!isMetricName(name)) throw invalid(`${name} is not a metric name (such as knn_top1@20 or loss)`);
    return finalMetricSql(name);
  }
  if (isSpecLeafPath(key)) return specValue(key.split('.')).json;
  throw invalid(
    `cannot sort by ${key}: expected ${Object.keys(COLUMNS).join(', ')}, metrics.<name> or a spec leaf path`,
  );
}

/** The ORDER BY of `text`; an InvalidInputError on `sort` for a key that is none of the above. */
export function parseSort(text: string): RunSort {
  const descending = text.startsWith('-');
  const key = descending ? text.slice(1) : text;
  const direction = descending ? sql`DESC` : sql`ASC`;
  return {
    text,
    order: sql`${keyExpression(key)} ${direction} NULLS LAST, runs.created_at DESC, runs.id DESC`,
  };
}

/** A sorted page's token: the sort it belongs to and the offset of its first row. */
export function encodeSortToken(sort: string, offset: number): string {
  return Buffer.from(JSON.stringify(['sort', sort, offset])).toString('base64url');
}

/** The offset in `token`; an InvalidInputError on `page_token` for a token of another sort or not one the server wrote. */
export function decodeSortToken(token: string, sort: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const [tag, forSort, offset] = Array.isArray(parsed) ? (parsed as unknown[]) : [];
  if (tag !== 'sort' || !Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw new InvalidInputError('page_token', 'is not a page token returned by a previous page');
  }
  if (forSort !== sort) {
    throw new InvalidInputError('page_token', `belongs to sort ${String(forSort)}, not ${sort}`);
  }
  return offset as number;
}
