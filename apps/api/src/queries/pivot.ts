// Lays out groups keyed by (row value, column value) as a rows × columns table, the shape of a paper's
// ablation table.

import type { GroupStats } from '@swavlab/db';
import { canonicalJson } from '@swavlab/spec';

export interface Pivot<Cell> {
  rowValues: unknown[];
  columnValues: unknown[];
  /** cells[i][j] for rowValues[i] and columnValues[j]; null where no run of that combination has a value. */
  cells: (Cell | null)[][];
}

/** A group's statistics as the API shows them, in results and in pivot cells alike. */
export function groupStatsView(group: GroupStats) {
  const { n, mean, std, median, min, max, runIds } = group;
  return { n, mean, std, median, min, max, run_ids: runIds };
}

/** Numbers numerically, anything else by its canonical JSON text, numbers first. */
export function compareAxisValues(a: unknown, b: unknown): number {
  const aNumber = typeof a === 'number';
  const bNumber = typeof b === 'number';
  if (aNumber && bNumber) return a - b;
  if (aNumber !== bNumber) return aNumber ? -1 : 1;
  const [x, y] = [canonicalJson(a), canonicalJson(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function distinctSorted(values: readonly unknown[]): { values: unknown[]; index: Map<string, number> } {
  const unique = new Map<string, unknown>();
  for (const value of values) unique.set(canonicalJson(value), value);
  const sorted = [...unique.values()].sort(compareAxisValues);
  return { values: sorted, index: new Map(sorted.map((value, i) => [canonicalJson(value), i])) };
}

/**
 * `groups` keyed by [row value, column value]; every value present among them becomes a row or a column, and each
 * group with a value becomes the cell `cellOf` makes of it.
 */
export function pivot<Cell>(
  groups: readonly GroupStats[],
  cellOf: (group: GroupStats) => Cell | null,
): Pivot<Cell> {
  const rows = distinctSorted(groups.map((group) => group.key[0] ?? null));
  const columns = distinctSorted(groups.map((group) => group.key[1] ?? null));
  const cells: (Cell | null)[][] = rows.values.map(() => columns.values.map(() => null));
  for (const group of groups) {
    if (group.n === 0) continue;
    const i = rows.index.get(canonicalJson(group.key[0] ?? null)) as number;
    const j = columns.index.get(canonicalJson(group.key[1] ?? null)) as number;
    (cells[i] as (Cell | null)[])[j] = cellOf(group);
  }
  return { rowValues: rows.values, columnValues: columns.values, cells };
}
