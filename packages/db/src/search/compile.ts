// Compiles a search syntax tree into a parameterised SQL condition over the `runs` table. Every value is a bind
// parameter (numbers are sent as text and cast, so both database drivers type them alike); operators and column
// names come from fixed tables in this file, never from the expression's text.
//
// Semantics: a comparison on something a run lacks (a metric it never reported, a NULL name) is false, so
// `NOT metrics.loss < 1` also matches runs without a loss. A metric's value is the run's final one: the latest
// evaluation (k-NN, linear probe) or the last training point; a NaN (diverged) value counts as missing.
import { finalMetricSql } from '../reads/final-metrics.js';
import { joinSql, type Sql, sql } from '../sql.js';
import type { CompareOp, Expr, FieldRef, Literal, RunColumn } from './ast.js';

const SQL_OPS: Record<CompareOp, Sql> = {
  '=': sql` = `,
  '!=': sql` <> `,
  '<': sql` < `,
  '<=': sql` <= `,
  '>': sql` > `,
  '>=': sql` >= `,
};

const COLUMNS: Record<RunColumn, Sql> = {
  status: sql`runs.status::text`,
  name: sql`runs.name`,
  id: sql`runs.id`,
};

function numberParam(value: number): Sql {
  return sql`${String(value)}::float8`;
}

function textParam(value: string): Sql {
  return sql`${value}::text`;
}

function jsonParam(value: Literal): Sql {
  return sql`${JSON.stringify(value)}::jsonb`;
}

/** `runs.spec -> 'swav' -> 'prototypes'` (jsonb) and the same ending in `->>` (text). */
export function specValue(path: readonly string[]): { json: Sql; text: Sql } {
  const head = path.slice(0, -1).reduce((acc, segment) => sql`${acc} -> ${segment}::text`, sql`runs.spec`);
  const last = path[path.length - 1] as string;
  return { json: sql`(${head} -> ${last}::text)`, text: sql`(${head} ->> ${last}::text)` };
}

function inList(values: readonly Literal[], param: (value: Literal) => Sql): Sql {
  return sql`(${joinSql(values.map(param), ', ')})`;
}

function compareColumn(column: Sql, op: CompareOp, value: Literal): Sql {
  if (value === null) return op === '=' ? sql`${column} IS NULL` : sql`${column} IS NOT NULL`;
  return sql`${column}${SQL_OPS[op]}${textParam(String(value))}`;
}

function compareSpec(path: readonly string[], op: CompareOp, value: Literal): Sql {
  const { json, text } = specValue(path);
  if (value === null) {
    const isNull = sql`(${json} IS NULL OR jsonb_typeof(${json}) = 'null')`;
    return op === '=' ? isNull : sql`NOT ${isNull}`;
  }
  if (op === '=' || op === '!=') return sql`${json}${SQL_OPS[op]}${jsonParam(value)}`;
  if (typeof value === 'number') {
    return sql`CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json})::float8 END${SQL_OPS[op]}${numberParam(value)}`;
  }
  return sql`CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${text} END${SQL_OPS[op]}${textParam(String(value))}`;
}

type SetMatch = (condition: (member: Sql) => Sql) => Sql;

/** Whether some tag of the run meets the condition. */
const tagMatch: SetMatch = (condition) =>
  sql`EXISTS (SELECT 1 FROM unnest(runs.tags) AS t(tag) WHERE ${condition(sql`t.tag`)})`;

/** Whether some grid the run is a cell of meets the condition. */
const gridMatch: SetMatch = (condition) =>
  sql`EXISTS (SELECT 1 FROM grid_cells gc WHERE gc.run_id = runs.id AND ${condition(sql`gc.grid_id`)})`;

/** `x = v` on a set: some member is v (or, for NULL, there is none); `x != v`: no member is v (or some is). */
function compareSet(set: SetMatch, op: CompareOp, value: Literal): Sql {
  if (value === null) {
    const any = set(() => sql`true`);
    return op === '=' ? sql`NOT ${any}` : any;
  }
  return op === '!='
    ? sql`NOT ${set((member) => sql`${member} = ${textParam(String(value))}`)}`
    : set((member) => compareColumn(member, op, value));
}

function comparison(expr: Extract<Expr, { kind: 'compare' }>): Sql {
  const { field, op, value } = expr;
  switch (field.kind) {
    case 'column':
      return compareColumn(COLUMNS[field.column], op, value);
    case 'tag':
      return compareSet(tagMatch, op, value);
    case 'grid':
      return compareSet(gridMatch, op, value);
    case 'metric':
      return sql`${finalMetricSql(field.name, field.source)}${SQL_OPS[op]}${numberParam(value as number)}`;
    case 'spec':
      return compareSpec(field.path, op, value);
  }
}

function membership(field: FieldRef, values: readonly Literal[]): Sql {
  switch (field.kind) {
    case 'column':
      return sql`${COLUMNS[field.column]} IN ${inList(values, (v) => textParam(String(v)))}`;
    case 'tag':
      return tagMatch((tag) => sql`${tag} IN ${inList(values, (v) => textParam(String(v)))}`);
    case 'grid':
      return gridMatch((grid) => sql`${grid} IN ${inList(values, (v) => textParam(String(v)))}`);
    case 'metric':
      return sql`${finalMetricSql(field.name, field.source)} IN ${inList(values, (v) => numberParam(v as number))}`;
    case 'spec':
      return sql`${specValue(field.path).json} IN ${inList(values, jsonParam)}`;
  }
}

function like(field: FieldRef, pattern: string): Sql {
  const param = textParam(pattern);
  switch (field.kind) {
    case 'column':
      return sql`${COLUMNS[field.column]} LIKE ${param}`;
    case 'tag':
      return tagMatch((tag) => sql`${tag} LIKE ${param}`);
    case 'grid':
      return gridMatch((grid) => sql`${grid} LIKE ${param}`);
    case 'metric':
      throw new Error('LIKE on a metric is rejected by the parser');
    case 'spec': {
      const { json, text } = specValue(field.path);
      return sql`CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${text} END LIKE ${param}`;
    }
  }
}

/** A boolean SQL condition on the row `runs` (never NULL). */
export function compileSearch(expr: Expr): Sql {
  switch (expr.kind) {
    case 'and':
      return sql`(${compileSearch(expr.left)} AND ${compileSearch(expr.right)})`;
    case 'or':
      return sql`(${compileSearch(expr.left)} OR ${compileSearch(expr.right)})`;
    case 'not':
      return sql`(NOT ${compileSearch(expr.operand)})`;
    case 'compare':
      return sql`COALESCE((${comparison(expr)}), false)`;
    case 'in':
      return sql`COALESCE((${membership(expr.field, expr.values)}), false)`;
    case 'like':
      return sql`COALESCE((${like(expr.field, expr.pattern)}), false)`;
  }
}
