// Grid results as tables: one row per group (mean ± std, n, min, max), or pivoted like the paper's ablation
// tables (rows: values of one spec path, columns: values of another, cells: mean ± std).
import { formatMeanStd, formatMetric, formatValue, metricHeader } from './format.js';
import { renderTable } from './table.js';
import type { GridResults, ResultGroup } from './wire.js';

/** Numbers in numeric order, then everything else by its text. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return formatValue(a).localeCompare(formatValue(b));
}

function compareGroups(paths: readonly string[]) {
  return (a: ResultGroup, b: ResultGroup): number => {
    for (const path of paths) {
      const order = compareValues(a.key[path], b.key[path]);
      if (order !== 0) return order;
    }
    return 0;
  };
}

/** One row per group, sorted by the group values. */
export function groupsTable(results: GridResults): string {
  const { metric, group_by: paths } = results;
  const groups = [...results.groups].sort(compareGroups(paths));
  return renderTable(
    [
      ...paths.map((path) => ({ header: path })),
      { header: `${metricHeader(metric)} mean ± std`, align: 'right' as const },
      { header: 'n', align: 'right' as const },
      { header: 'min', align: 'right' as const },
      { header: 'max', align: 'right' as const },
    ],
    groups.map((group) => [
      ...paths.map((path) => formatValue(group.key[path])),
      formatMeanStd(metric, group.mean, group.std),
      String(group.n),
      formatMetric(metric, group.min),
      formatMetric(metric, group.max),
    ]),
    true,
  );
}

function distinct(groups: readonly ResultGroup[], path: string): unknown[] {
  const seen = new Map<string, unknown>();
  for (const group of groups) seen.set(JSON.stringify(group.key[path]), group.key[path]);
  return [...seen.values()].sort(compareValues);
}

/** Rows: values of `rowPath`; columns: values of `columnPath`; cells: mean ± std (`-` when no run finished). */
export function pivotTable(results: GridResults, rowPath: string, columnPath: string): string {
  const { metric, groups } = results;
  const cell = new Map<string, ResultGroup>();
  for (const group of groups) cell.set(JSON.stringify([group.key[rowPath], group.key[columnPath]]), group);
  const columns = distinct(groups, columnPath);
  const rows = distinct(groups, rowPath);
  return renderTable(
    [
      { header: `${rowPath} \\ ${columnPath}` },
      ...columns.map((value) => ({ header: formatValue(value), align: 'right' as const })),
    ],
    rows.map((row) => [
      formatValue(row),
      ...columns.map((column) => {
        const group = cell.get(JSON.stringify([row, column]));
        return group === undefined ? '-' : formatMeanStd(metric, group.mean, group.std);
      }),
    ]),
    true,
  );
}
