// One ablation grid: the metric against one axis (lines with 95 % CI error bars over seeds, the best group starred
// and those tied with it ringed), a heatmap for two axes, parallel coordinates for three or more, cost against
// accuracy, the ablation table laid out like the paper's (axis values as columns; ★ best for the metric's goal,
// ≈ tied with it, the CI and n in every cell, the test that decided the marks and what the seeds resolve in the
// caption), export links; refreshed while cells finish.
import { apiUrl, getJson, isAbort, postJson } from '../api';
import { errorBarOption } from '../charts/error-bars';
import { heatmapOption } from '../charts/heatmap';
import { parallelOption } from '../charts/parallel';
import { scatterOption } from '../charts/scatter';
import { type Child, h, replaceChildren } from '../dom';
import { bytes, keyLabel, meanStd, num, shortPath, sortValues, value } from '../format';
import { hashOf, type Page, replaceQuery } from '../router';
import type { PageScope } from '../scope';
import { canSubmit } from '../session';
import type {
  Grid,
  GridCells,
  GridMetrics,
  GridPivot,
  GridResults,
  GroupStatistics,
  ResultGroup,
} from '../types';
import { chartBox, exportLink, note, problemBox, scrollBox, section } from '../widgets';
import { gridCurvesSection } from './grid-curves';

const METRICS = [
  'knn_top1@20',
  'knn_top1@200',
  'linear_top1',
  'linear_top5',
  'linear_fast_top1',
  'linear_fast_top5',
  'semisup_top1',
  'semisup_top5',
  'loss',
  'prototype_usage',
  'code_entropy',
  'images_per_sec',
];
const REFRESH_MS = 5000;

/** The key of a group restricted to some paths, as a lookup string. */
function keyOf(key: Record<string, unknown>, paths: readonly string[]): string {
  return JSON.stringify(paths.map((path) => key[path] ?? null));
}

/** ★ for the best group, ≈ for a group tied with it (not distinguishable by the test), nothing otherwise. */
function markOf(group: GroupStatistics): { text: string; className: string } {
  if (group.best) return { text: '★ ', className: 'best' };
  if (group.tied_with_best === true) return { text: '≈ ', className: 'tied' };
  return { text: '', className: '' };
}

/** What the marks mean, which test decided them, and what the seeds can resolve. */
function statisticsCaption(results: GridResults): string {
  const { comparison, resolution, goal } = results;
  const marks = comparison.possible
    ? `★ best for goal ${goal}; ≈ tied with the best: not distinguishable by ${comparison.method} ` +
      `(${comparison.comparisons} tests, α = ${comparison.alpha}).`
    : `★ best for goal ${goal}; no test against it is possible.`;
  const why = comparison.message === null ? '' : ` (${comparison.message})`;
  const resolvable =
    resolution.min_resolvable_difference === null
      ? (resolution.message ?? '')
      : `With ${num(resolution.seeds_per_group)} seeds per group these seeds resolve differences of ` +
        `${num(resolution.min_resolvable_difference)} or more (α = ${resolution.alpha}, power ${resolution.power}).`;
  return `${results.metric}: mean ± sample std over seeds, [95 % confidence interval], (n runs). ${marks}${why} ${resolvable}`;
}

/** A search-expression literal for an axis value (strings quoted, quotes doubled). */
function literal(v: unknown): string {
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  return v === null || v === undefined ? 'NULL' : String(v).toUpperCase();
}

/** The runs table filtered to the grid's runs of one group. */
export function groupRunsLink(gridId: string, key: Record<string, unknown>): string {
  const q = Object.entries(key)
    .map(([path, v]) => `${path} = ${literal(v)}`)
    .join(' and ');
  return hashOf(['runs'], { grid: gridId, q });
}

/** A file name from the grid's name and the metric (letters, digits, dot, dash and underscore only). */
function exportName(grid: Grid, metric: string, what: string): string {
  return `${grid.name}-${metric}-${what}`.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Rows: the combinations of every axis but the last; columns: the last axis's values (as the paper lays out). */
function ablationTable(results: GridResults, axes: readonly string[], gridId: string): HTMLElement {
  if (results.groups.length === 0) return note('No finished cells report this metric yet.');
  const columnPath = axes.at(-1);
  const rowPaths = axes.slice(0, -1);
  const columns =
    columnPath === undefined ? [null] : sortValues(results.groups.map((g) => g.key[columnPath]));
  const rowKeys = new Map<string, Record<string, unknown>>();
  for (const group of results.groups) rowKeys.set(keyOf(group.key, rowPaths), group.key);
  const rows = [...rowKeys.entries()].sort(([, a], [, b]) => {
    for (const path of rowPaths) {
      const [x, y] = [a[path], b[path]];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : value(x).localeCompare(value(y));
      if (order !== 0) return order;
    }
    return 0;
  });
  const byKey = new Map(results.groups.map((group) => [keyOf(group.key, results.group_by), group]));
  const cellOf = (rowKey: Record<string, unknown>, column: unknown): Child => {
    const key = { ...rowKey, ...(columnPath === undefined ? {} : { [columnPath]: column }) };
    const id = keyOf(key, results.group_by);
    const group = byKey.get(id);
    if (group === undefined) return '–';
    const mark = markOf(group);
    return h(
      'a',
      {
        class: mark.className,
        href: groupRunsLink(gridId, key),
        title: `the ${group.n} run(s) of this cell`,
        data: { n: String(group.n) },
      },
      mark.text,
      meanStd(group.mean, group.std),
      group.ci95 === null
        ? null
        : h('span', { class: 'ci' }, ` [${num(group.ci95.low)}, ${num(group.ci95.high)}]`),
      h('span', { class: 'n' }, ` (n=${group.n})`),
    );
  };
  return scrollBox(
    h(
      'table',
      { class: 'ablation', aria: { label: `ablation table of ${results.metric}` } },
      h(
        'thead',
        {},
        columnPath === undefined
          ? null
          : h(
              'tr',
              {},
              h('th', { colspan: Math.max(1, rowPaths.length) }, ''),
              h('th', { colspan: columns.length, scope: 'colgroup' }, columnPath),
            ),
        h(
          'tr',
          {},
          ...(rowPaths.length === 0
            ? [h('th', { scope: 'col' }, 'metric')]
            : rowPaths.map((path) => h('th', { scope: 'col' }, path))),
          ...columns.map((column) =>
            h('th', { scope: 'col' }, column === null ? results.metric : value(column)),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...rows.map(([, rowKey]) =>
          h(
            'tr',
            {},
            ...(rowPaths.length === 0
              ? [h('th', { scope: 'row' }, results.metric)]
              : rowPaths.map((path) => h('th', { scope: 'row' }, value(rowKey[path])))),
            ...columns.map((column) => h('td', {}, cellOf(rowKey, column))),
          ),
        ),
      ),
      h('caption', {}, statisticsCaption(results)),
    ),
  );
}

function lineChart(
  scope: PageScope,
  host: HTMLElement,
  results: GridResults,
  x: string,
  seriesPath: string | undefined,
) {
  const categories = sortValues(results.groups.map((g) => g.key[x]));
  const lineValues =
    seriesPath === undefined ? [null] : sortValues(results.groups.map((g) => g.key[seriesPath]));
  const lines = lineValues.map((lineValue) => ({
    name: seriesPath === undefined ? results.metric : `${shortPath(seriesPath)}=${value(lineValue)}`,
    points: categories.map((category) => {
      const group = results.groups.find(
        (g) =>
          JSON.stringify(g.key[x]) === JSON.stringify(category) &&
          (seriesPath === undefined || JSON.stringify(g.key[seriesPath]) === JSON.stringify(lineValue)),
      );
      if (group === undefined || group.mean === null) return null;
      const mark = group.best ? ('best' as const) : group.tied_with_best === true ? ('tied' as const) : null;
      return { mean: group.mean, std: group.std, interval: group.ci95, n: group.n, mark };
    }),
  }));
  scope.chart(
    host,
    'grid-lines',
    errorBarOption({
      title: `${results.metric} vs ${x} (mean and 95% CI over seeds; ★ best, ≈ tied with it)`,
      xName: x,
      categories: categories.map(value),
      yName: results.metric,
      lines,
    }),
  );
}

function costCharts(scope: PageScope, hosts: [HTMLElement, HTMLElement], results: GridResults): boolean {
  const withCosts = results.groups.filter((g) => g.mean !== null);
  if (withCosts.length === 0) return false;
  const points = (pick: (g: ResultGroup) => number | null) =>
    withCosts.flatMap((g) => {
      const x = pick(g);
      return x === null ? [] : [{ label: keyLabel(g.key), x, y: g.mean as number }];
    });
  scope.chart(
    hosts[0],
    'grid-cost-time',
    scatterOption({
      title: `${results.metric} vs epoch time`,
      xName: 'epoch seconds (mean)',
      yName: results.metric,
      points: points((g) => g.costs.epoch_seconds_mean),
    }),
  );
  scope.chart(
    hosts[1],
    'grid-cost-memory',
    scatterOption({
      title: `${results.metric} vs peak memory`,
      xName: 'peak memory (max)',
      yName: results.metric,
      points: points((g) => g.costs.peak_memory_bytes_max),
      xFormatter: (v) => bytes(v),
    }),
  );
  return true;
}

export const gridPage: Page = async (root, route, scope) => {
  const id = route.segments[1] as string;
  const base = `/v1/grids/${encodeURIComponent(id)}`;
  let grid = await getJson<Grid>(base, {}, scope.signal);
  const axes = Object.keys(grid.spec.axes ?? {}).sort();
  let metric = route.query.get('metric') ?? grid.metric.name;
  let x = route.query.get('x') ?? axes[0];
  if (x !== undefined && !axes.includes(x)) x = axes[0];

  const statusLine = h('p', { class: 'grid-status' });
  const exports = h('p', { class: 'exports' });
  const metricNote = h('p', { class: 'metric-note', aria: { live: 'polite' } });
  const actions = h('div', { class: 'actions' });
  const body = h('div', {});
  const curvesHost = h('div', {});
  let reported = (await getJson<GridMetrics>(`${base}/metrics`, {}, scope.signal)).metrics;
  const metricSelect = h('select', {
    name: 'metric',
    aria: { label: 'metric' },
    onchange: () => {
      metric = metricSelect.value;
      remember();
      void load();
    },
  });
  /** Reported metrics first; the usual others listed but disabled, saying why, so an empty chart is never offered. */
  const renderMetricOptions = () => {
    const names = new Set(reported.map((m) => m.name));
    const total = grid.status_counts.total;
    const missing = [...new Set([grid.metric.name, ...METRICS])].filter((m) => !names.has(m));
    replaceChildren(
      metricSelect,
      h(
        'optgroup',
        { label: "reported by the grid's runs" },
        ...reported.map((m) =>
          h('option', { value: m.name, selected: m.name === metric }, `${m.name} (${m.runs}/${total} runs)`),
        ),
      ),
      missing.length === 0
        ? null
        : h(
            'optgroup',
            { label: 'not reported by any run of this grid' },
            ...missing.map((m) =>
              h('option', { value: m, disabled: true, selected: m === metric }, `${m} (not reported)`),
            ),
          ),
    );
    replaceChildren(
      metricNote,
      names.has(metric)
        ? null
        : `No run of this grid has reported ${metric} yet${
            grid.status_counts.succeeded > 0
              ? ' (the spec may not ask for it: k-NN and linear metrics need eval.knn or eval.linear)'
              : ''
          }: there is nothing to plot. Pick a metric the runs report.`,
    );
  };
  const xSelect = h(
    'select',
    {
      name: 'x',
      aria: { label: 'x axis' },
      onchange: () => {
        x = xSelect.value;
        remember();
        void load();
      },
    },
    ...axes.map((axis) => h('option', { value: axis, selected: axis === x }, axis)),
  );
  const remember = () => replaceQuery(route, { metric, x });

  const renderStatus = () => {
    const counts = grid.status_counts;
    const parts = (['succeeded', 'running', 'queued', 'stopping', 'failed', 'canceled'] as const)
      .filter((s) => counts[s] > 0)
      .map((s) => `${counts[s]} ${s}`);
    replaceChildren(
      statusLine,
      `${grid.cell_count} cells (${axes.length === 0 ? 'no axes' : axes.join(' × ')}, seeds ${JSON.stringify(grid.spec.seeds ?? [])}): ${parts.join(' · ') || 'none yet'} · goal: ${grid.metric.goal} ${grid.metric.name} · `,
      h('a', { href: hashOf(['runs'], { grid: id }) }, 'runs of this grid'),
    );
  };

  const load = async () => {
    renderMetricOptions();
    if (!reported.some((m) => m.name === metric)) {
      replaceChildren(body);
      replaceChildren(exports);
      return;
    }
    const query = { metric, group_by: axes };
    const two = axes.length >= 2;
    const other = axes.find((axis) => axis !== x);
    replaceChildren(
      exports,
      'Export: ',
      exportLink(
        'results CSV',
        apiUrl(`${base}/results`, { ...query, format: 'csv' }),
        exportName(grid, metric, 'results.csv'),
      ),
      ' · ',
      exportLink(
        'results JSON',
        apiUrl(`${base}/results`, { ...query, format: 'json' }),
        exportName(grid, metric, 'results.json'),
      ),
      two ? ' · ' : null,
      two
        ? exportLink(
            'pivot CSV',
            apiUrl(`${base}/pivot`, { metric, rows: axes[0], columns: axes[1], format: 'csv' }),
            exportName(grid, metric, 'pivot.csv'),
          )
        : null,
      ' · ',
      exportLink('cells JSON', apiUrl(`${base}/cells`, { metric }), exportName(grid, metric, 'cells.json')),
    );
    const [results, lineResults, pivot, cells] = await Promise.allSettled([
      getJson<GridResults>(`${base}/results`, query, scope.signal),
      x === undefined
        ? Promise.resolve(null)
        : getJson<GridResults>(
            `${base}/results`,
            { metric, group_by: other === undefined ? [x] : [x, other] },
            scope.signal,
          ),
      two
        ? getJson<GridPivot>(`${base}/pivot`, { metric, rows: axes[0], columns: axes[1] }, scope.signal)
        : Promise.resolve(null),
      axes.length >= 3
        ? getJson<GridCells>(`${base}/cells`, { metric }, scope.signal)
        : Promise.resolve(null),
    ]);
    if (scope.disposed) return;
    const failed = (outcome: PromiseSettledResult<unknown>, what: string): HTMLElement | null =>
      outcome.status === 'rejected' && !isAbort(outcome.reason) ? problemBox(outcome.reason, what) : null;

    const sections: HTMLElement[] = [];
    // Charts are drawn once their containers are in the document, so that ECharts sees their size.
    const draws: (() => void)[] = [];
    if (x !== undefined) {
      const host = chartBox(true);
      sections.push(
        section(
          `${metric} against one axis`,
          h('label', {}, 'x axis ', xSelect),
          failed(lineResults, 'Results') ?? host,
        ),
      );
      const lr = lineResults.status === 'fulfilled' ? lineResults.value : null;
      if (lr !== null) draws.push(() => lineChart(scope, host, lr, x as string, other));
    }
    if (two) {
      const host = chartBox(true);
      sections.push(section(`Heatmap: ${axes[0]} × ${axes[1]}`, failed(pivot, 'Pivot') ?? host));
      if (pivot.status === 'fulfilled' && pivot.value !== null) {
        const p = pivot.value;
        draws.push(() =>
          scope.chart(
            host,
            'grid-heatmap',
            heatmapOption({
              title: `${metric} (mean ± std, n)`,
              rowName: p.rows.path,
              rows: p.rows.values.map(value),
              columnName: p.columns.path,
              columns: p.columns.values.map(value),
              cells: p.cells,
            }),
          ),
        );
      }
    }
    if (axes.length >= 3) {
      const host = chartBox(true);
      sections.push(section('Parallel coordinates (one line per run)', failed(cells, 'Cells') ?? host));
      if (cells.status === 'fulfilled' && cells.value !== null) {
        const withValue = cells.value.cells.filter((cell) => cell.value !== null);
        const axisValues = axes.map((axis) => ({
          name: axis,
          values: sortValues(cells.value?.cells.map((c) => c.axis_values?.[axis]) ?? []).map(value),
        }));
        draws.push(() =>
          scope.chart(
            host,
            'grid-parallel',
            parallelOption({
              title: `${metric} by ${axes.length} axes`,
              axes: axisValues,
              metric,
              rows: withValue.map((cell) => ({
                values: axes.map((axis) => value(cell.axis_values?.[axis])),
                metric: cell.value as number,
              })),
            }),
          ),
        );
      }
    }
    if (results.status === 'fulfilled') {
      const r = results.value;
      const hosts: [HTMLDivElement, HTMLDivElement] = [chartBox(), chartBox()];
      const costSection = section('Cost against accuracy', h('div', { class: 'chart-grid' }, ...hosts));
      sections.push(costSection);
      sections.push(
        section(
          `Ablation table: ${metric}`,
          ablationTable(r, axes, id),
          note(
            `${r.runs_not_finished} cell(s) not finished; ${r.runs_without_value} finished without ${metric}.`,
          ),
        ),
      );
      replaceChildren(body, ...sections);
      for (const draw of draws) draw();
      if (!costCharts(scope, hosts, r))
        replaceChildren(
          costSection,
          h('h2', {}, 'Cost against accuracy'),
          note('No cost figures (epoch seconds, peak memory) yet.'),
        );
    } else {
      sections.push(failed(results, 'Results') ?? h('div', {}));
      replaceChildren(body, ...sections);
      for (const draw of draws) draw();
    }
  };

  const refresh = async () => {
    const [next, metrics] = await Promise.all([
      getJson<Grid>(base, {}, scope.signal),
      getJson<GridMetrics>(`${base}/metrics`, {}, scope.signal),
    ]);
    const changed = JSON.stringify(next.status_counts) !== JSON.stringify(grid.status_counts);
    grid = next;
    reported = metrics.metrics;
    if (changed) {
      renderStatus();
      await load();
    }
  };

  renderStatus();
  root.append(
    h('h1', {}, `Grid ${grid.name}`),
    statusLine,
    actions,
    h('div', { class: 'toolbar' }, h('label', {}, 'metric ', metricSelect), exports),
    metricNote,
    body,
    curvesHost,
  );
  await load();
  if (await canSubmit()) gridActions(actions, base, grid, refresh);
  if (!scope.disposed) gridCurvesSection(curvesHost, scope, id, axes, reported);
  scope.every(REFRESH_MS, async () => {
    try {
      await refresh();
    } catch (error) {
      if (!isAbort(error)) console.warn('refresh failed', error);
    }
  });
};

/** Re-run failed cells and add seeds, each after a confirmation; shown only to tokens with the submit scope. */
function gridActions(host: HTMLElement, base: string, grid: Grid, refresh: () => Promise<void>): void {
  const result = h('span', { class: 'action-result', aria: { live: 'polite' } });
  const act = async (question: string, path: string, body: unknown, done: (answer: unknown) => string) => {
    if (!confirm(question)) return;
    try {
      result.textContent = done(await postJson<unknown>(`${base}/${path}`, body));
      await refresh();
    } catch (error) {
      replaceChildren(result, problemBox(error, 'Action'));
    }
  };
  const seeds = h('input', {
    type: 'number',
    name: 'add-seeds',
    value: '1',
    aria: { label: 'seeds to add' },
  });
  seeds.min = '1';
  seeds.max = '100';
  seeds.className = 'seed-count';
  replaceChildren(
    host,
    h(
      'button',
      {
        type: 'button',
        data: { action: 'rerun-failed' },
        onclick: () =>
          void act(
            `Queue the failed and canceled cells of ${grid.name} again?`,
            'rerun-failed',
            undefined,
            (answer) => `${(answer as { requeued?: number }).requeued ?? 0} run(s) queued again`,
          ),
      },
      '↻ Re-run failed cells',
    ),
    h(
      'label',
      {},
      'add ',
      seeds,
      ' seed(s) ',
      h(
        'button',
        {
          type: 'button',
          data: { action: 'add-seeds' },
          onclick: () => {
            const add = Number(seeds.value);
            void act(
              `Add ${add} seed(s) to every cell of ${grid.name}? New runs are queued; existing ones are kept.`,
              'seeds',
              { add },
              (answer) => {
                const added = answer as { added_seeds: number[]; runs: { created: number } };
                return `seeds ${added.added_seeds.join(', ')} added: ${added.runs.created} new run(s) queued`;
              },
            );
          },
        },
        '+ Add seeds',
      ),
    ),
    result,
  );
}
