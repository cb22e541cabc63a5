// The syntax tree of a run search expression, after field names have been resolved and checked.

/** Run columns a search can compare directly. */
export type RunColumn = 'status' | 'name' | 'id';

export type FieldRef =
  | { kind: 'column'; column: RunColumn }
  /** Matches when any of the run's tags satisfies the comparison. */
  | { kind: 'tag' }
  /** Matches when any grid the run is a cell of satisfies it (grids share runs); `grid = NULL`: in no grid. */
  | { kind: 'grid' }
  /** The run's final value of a metric: latest evaluation, or last training point. */
  | { kind: 'metric'; name: string; source: 'evaluation' | 'training' }
  /** A leaf of the stored spec (defaults applied), e.g. ['swav', 'prototypes']. */
  | { kind: 'spec'; path: string[] };

export type Literal = string | number | boolean | null;

export const COMPARE_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

export type Expr =
  | { kind: 'and'; left: Expr; right: Expr }
  | { kind: 'or'; left: Expr; right: Expr }
  | { kind: 'not'; operand: Expr }
  | { kind: 'compare'; field: FieldRef; op: CompareOp; value: Literal }
  | { kind: 'in'; field: FieldRef; values: Literal[] }
  | { kind: 'like'; field: FieldRef; pattern: string };

/** Conjunction of several expressions (the filters of a listing plus its `q`); undefined when there are none. */
export function allOf(parts: readonly Expr[]): Expr | undefined {
  return parts.reduce<Expr | undefined>(
    (acc, part) => (acc ? { kind: 'and', left: acc, right: part } : part),
    undefined,
  );
}
