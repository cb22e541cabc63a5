// Grid results as tables: one row per group (mean ± std, 95 % CI, n, min, max, the adjusted p against the best),
// or pivoted like the paper's ablation tables (rows: values of one spec path, columns: values of another, cells:
// mean ± std, CI and n). ★ marks the best group for the metric's goal, ≈ the groups tied with it; the notes under
// a table say which test and correction decided that, and what the seeds can resolve.
import {
  formatMeanStd,
  formatMetric,
  formatNumber,
  formatSettings,
  formatValue,
  isAccuracyMetric,
  metricHeader,
} from './format.js';
import { renderTable } from './table.js';
import type { GridResults, ResultGroup } from './wire.js';

export const BEST_MARK = '★';
export const TIED_MARK = '≈';

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

/** ★ for the best group, ≈ for one tied with it, a space otherwise. */
export function groupMark(group: ResultGroup): string {
  if (group.best) return BEST_MARK;
  return group.tied_with_best === true ? TIED_MARK : ' ';
}

/** `[57.7, 65.3]`; `-` without an interval (n < 2). */
function formatInterval(metric: string, group: ResultGroup): string {
  return group.ci95 === null
    ? '-'
    : `[${formatMetric(metric, group.ci95.low)}, ${formatMetric(metric, group.ci95.high)}]`;
}

/** A p-value with 2 significant digits; `-` where no test was made. */
function formatP(p: number | undefined): string {
  if (p === undefined) return '-';
  return p < 1e-4 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}

/** One row per group, sorted by the group values. */
export function groupsTable(results: GridResults): string {
  const { metric, group_by: paths } = results;
  const groups = [...results.groups].sort(compareGroups(paths));
  return renderTable(
    [
      { header: '' },
      ...paths.map((path) => ({ header: path })),
      { header: `${metricHeader(metric)} mean ± std`, align: 'right' as const },
      { header: '95% CI', align: 'right' as const },
      { header: 'n', align: 'right' as const },
      { header: 'min', align: 'right' as const },
      { header: 'max', align: 'right' as const },
      { header: 'p vs best', align: 'right' as const },
    ],
    groups.map((group) => [
      groupMark(group),
      ...paths.map((path) => formatValue(group.key[path])),
      formatMeanStd(metric, group.mean, group.std),
      formatInterval(metric, group),
      String(group.n),
      formatMetric(metric, group.min),
      formatMetric(metric, group.max),
      formatP(group.test?.p_adjusted),
    ]),
    true,
  );
}

function distinct(groups: readonly ResultGroup[], path: string): unknown[] {
  const seen = new Map<string, unknown>();
  for (const group of groups) seen.set(JSON.stringify(group.key[path]), group.key[path]);
  return [...seen.values()].sort(compareValues);
}

/** `★ 61.5 ± 2.4 [57.7, 65.3] n=4`: the mark, mean ± std, the CI where there is one, and n. */
function pivotCell(metric: string, group: ResultGroup): string {
  const interval = group.ci95 === null ? '' : ` ${formatInterval(metric, group)}`;
  return `${groupMark(group)} ${formatMeanStd(metric, group.mean, group.std)}${interval} n=${group.n}`;
}

/** Rows: values of `rowPath`; columns: values of `columnPath`; cells: see pivotCell (`-` when no run finished). */
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
        return group === undefined ? '-' : pivotCell(metric, group);
      }),
    ]),
    true,
  );
}

/**
 * A difference of the metric in the table's units: percentage points for accuracies (0.02 → `2.0 points`), the
 * metric's own units otherwise.
 */
export function formatDifference(metric: string, difference: number): string {
  return isAccuracyMetric(metric) ? `${formatMetric(metric, difference)} points` : formatNumber(difference);
}

/**
 * A difference given in the table's units (`--power 2`: 2 percentage points of an accuracy) in the metric's own
 * units, as the API takes it (0.02).
 */
export function differenceInMetricUnits(metric: string, difference: number): number {
  return isAccuracyMetric(metric) ? difference / 100 : difference;
}

/** The lines under a table: what the marks mean and which test decided them, and what the seeds resolve. */
export function statisticsNotes(results: GridResults): string[] {
  const { comparison, resolution, metric, goal } = results;
  const best = `${BEST_MARK} best for goal ${goal} (${goal === 'max' ? 'highest' : 'lowest'} mean)`;
  const lines = [
    comparison.possible
      ? `${best}; ${TIED_MARK} tied with the best: not distinguishable by ${comparison.method} ` +
        `(${comparison.comparisons} test${comparison.comparisons === 1 ? '' : 's'}, α = ${comparison.alpha}); ` +
        `p vs best is the ${comparison.correction === 'holm' ? 'Holm' : comparison.correction}-adjusted p-value`
      : `${best}; no test against it is possible`,
  ];
  if (comparison.message !== null) lines.push(`  (${comparison.message})`);
  lines.push('95% CI: mean ± t(0.975, n − 1) · std / √n over the n seeds of each group');
  const { min_resolvable_difference: resolvable, pooled_std: pooled } = resolution;
  if (resolvable !== null && pooled !== null) {
    lines.push(
      `with ${formatNumber(resolution.seeds_per_group)} seeds per group the smallest difference these seeds ` +
        `resolve is ${formatDifference(metric, resolvable)} (two-sided α = ${resolution.alpha}, power ` +
        `${resolution.power}, pooled std ${formatDifference(metric, pooled)})`,
    );
  }
  if (resolution.difference !== null) {
    const target = formatDifference(metric, resolution.difference);
    lines.push(
      resolution.seeds_needed !== null
        ? `to resolve ${target}: ${resolution.seeds_needed} seeds per group (from the observed variance)`
        : `to resolve ${target}: ${resolution.message ?? 'not estimable'}`,
    );
  } else if (resolvable === null && resolution.message !== null) {
    lines.push(resolution.message);
  }
  return lines;
}

/**
 * One line per group that the test tells apart from the best: which setting wins, by how much (Welch's 95 % interval
 * of the difference) and the adjusted p-value.
 */
export function significantDifferences(results: GridResults): string[] {
  const best = results.groups.find((group) => group.best);
  if (best === undefined) return [];
  return results.groups.flatMap((group) => {
    if (group.tied_with_best !== false || group.test === null) return [];
    const { difference, difference_ci95: ci, p_adjusted: p } = group.test;
    const metric = results.metric;
    return [
      `significant: ${formatSettings(best.key, ' ')} beats ${formatSettings(group.key, ' ')} by ${formatDifference(metric, -difference)} ` +
        `(95% CI ${formatDifference(metric, -ci.high)} to ${formatDifference(metric, -ci.low)}, adjusted p = ${formatP(p)})`,
    ];
  });
}
