// A spec leaf path (`swav.prototypes`) as a jsonb expression on the row `runs`, for grouping and pivots.
import { splitDottedPath } from '@swavlab/spec';
import { type Sql, sql } from '../sql.js';

/** `runs.spec #> '{swav,prototypes}'`: the jsonb value at the path, SQL NULL where the spec lacks it. */
export function specPathSql(path: string): Sql {
  // A text[] bind parameter: the segments never reach the statement's text.
  return sql`(runs.spec #> ${splitDottedPath(path)}::text[])`;
}
