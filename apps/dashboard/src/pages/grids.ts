// Every grid: name, created, runs per status, progress, axes, metric and goal, the best cell so far and its value;
// a text filter and a sort by any column (both kept in the address), refreshed while runs finish.
import { getJson, isAbort } from '../api';
import { type Child, h, replaceChildren } from '../dom';
import { dateTime, keyLabel, meanStd, STATUS_SYMBOL } from '../format';
import { hashOf, type Page, replaceQuery } from '../router';
import { type GridList, type GridSummary, RUN_STATUSES } from '../types';
import { problemBox, scrollBox } from '../widgets';

const REFRESH_MS = 5000;

interface Column {
  key: string;
  title: string;
  numeric?: boolean;
  sort: (grid: GridSummary) => number | string;
  cell: (grid: GridSummary) => Child;
}

function finished(grid: GridSummary): number {
  const c = grid.status_counts;
  return c.succeeded + c.failed + c.canceled;
}

function progressCell(grid: GridSummary): HTMLElement {
  const total = grid.status_counts.total;
  const bar = h('progress', { aria: { label: `${grid.name} progress` } });
  bar.max = Math.max(1, total);
  bar.value = finished(grid);
  return h(
    'span',
    { class: 'progress' },
    bar,
    h('span', { class: 'progress-text' }, `${finished(grid)}/${total}`),
  );
}

function countsCell(grid: GridSummary): HTMLElement {
  const parts = RUN_STATUSES.filter((status) => grid.status_counts[status] > 0).map((status) =>
    h(
      'span',
      { class: `status status-${status}`, data: { status } },
      `${STATUS_SYMBOL[status]} ${grid.status_counts[status]} ${status}`,
    ),
  );
  return h('span', { class: 'counts' }, ...(parts.length === 0 ? ['no runs'] : parts));
}

const COLUMNS: Column[] = [
  {
    key: 'name',
    title: 'Grid',
    sort: (g) => g.name,
    cell: (g) => h('a', { href: hashOf(['grids', g.id]) }, g.name),
  },
  {
    key: 'created',
    title: 'Created',
    sort: (g) => g.created_at,
    cell: (g) => dateTime(g.created_at),
  },
  { key: 'status', title: 'Runs', sort: (g) => g.status_counts.failed, cell: countsCell },
  {
    key: 'progress',
    title: 'Progress',
    sort: (g) => finished(g) / Math.max(1, g.status_counts.total),
    cell: progressCell,
  },
  { key: 'axes', title: 'Axes', sort: (g) => g.axes.join(' × '), cell: (g) => g.axes.join(' × ') || '–' },
  {
    key: 'metric',
    title: 'Metric',
    sort: (g) => g.metric.name,
    cell: (g) => `${g.metric.name} (${g.metric.goal})`,
  },
  {
    key: 'best',
    title: 'Best cell',
    sort: (g) => (g.best === null ? '' : keyLabel(g.best.key)),
    cell: (g) => (g.best === null ? '–' : keyLabel(g.best.key)),
  },
  {
    key: 'value',
    title: 'Best value',
    numeric: true,
    sort: (g) => g.best?.mean ?? Number.NEGATIVE_INFINITY,
    cell: (g) => (g.best === null ? '–' : `★ ${meanStd(g.best.mean, g.best.std)} (n=${g.best.n})`),
  },
];

function compare(a: number | string, b: number | string): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
}

/** Whether `text` (lower case) occurs in the grid's name, axes or metric. */
function matches(grid: GridSummary, text: string): boolean {
  return [grid.name, grid.id, grid.metric.name, ...grid.axes].some((field) =>
    field.toLowerCase().includes(text),
  );
}

export const gridsPage: Page = async (root, route, scope) => {
  let filter = route.query.get('q') ?? '';
  let sort = route.query.get('sort') ?? '-created';
  let grids: GridSummary[] = [];
  const tableHost = h('div', {});
  const summary = h('p', { class: 'note', data: { role: 'summary' } });
  const remember = () => replaceQuery(route, { q: filter, sort });

  const render = () => {
    const descending = sort.startsWith('-');
    const key = descending ? sort.slice(1) : sort;
    const column = COLUMNS.find((c) => c.key === key) ?? (COLUMNS[1] as Column);
    const shown = grids
      .filter((grid) => filter === '' || matches(grid, filter.toLowerCase()))
      .sort((a, b) => (descending ? -1 : 1) * compare(column.sort(a), column.sort(b)));
    summary.textContent = `${shown.length} of ${grids.length} grid${grids.length === 1 ? '' : 's'}${filter ? `, matching "${filter}"` : ''}`;
    const header = h(
      'tr',
      {},
      ...COLUMNS.map((c) => {
        const active = c.key === column.key;
        return h(
          'th',
          {
            scope: 'col',
            class: c.numeric ? 'num' : undefined,
            aria: { sort: active ? (descending ? 'descending' : 'ascending') : 'none' },
          },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              data: { sort: c.key },
              onclick: () => {
                sort = active && !descending ? `-${c.key}` : c.key;
                remember();
                render();
              },
            },
            c.title,
            active ? (descending ? ' ▼' : ' ▲') : '',
          ),
        );
      }),
    );
    replaceChildren(
      tableHost,
      shown.length === 0
        ? h('p', { class: 'empty' }, grids.length === 0 ? 'No grids yet.' : 'No grids match.')
        : scrollBox(
            h(
              'table',
              { class: 'grids', aria: { label: 'grids' } },
              h('thead', {}, header),
              h(
                'tbody',
                {},
                ...shown.map((grid) =>
                  h(
                    'tr',
                    { data: { 'grid-id': grid.id } },
                    ...COLUMNS.map((c) =>
                      h(
                        'td',
                        { class: c.numeric ? 'num' : undefined, data: { column: c.key } },
                        c.cell(grid),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
  };

  const load = async () => {
    grids = (await getJson<GridList>('/v1/grids', {}, scope.signal)).grids;
    render();
  };

  const input = h('input', {
    type: 'search',
    name: 'q',
    value: filter,
    placeholder: 'name, axis or metric',
    aria: { label: 'filter grids' },
    oninput: () => {
      filter = input.value.trim();
      remember();
      render();
    },
  });
  root.append(
    h('h1', {}, 'Grids'),
    h('div', { class: 'filters', role: 'search' }, h('div', { class: 'search' }, input)),
    summary,
    tableHost,
  );
  await load();
  scope.every(REFRESH_MS, async () => {
    try {
      await load();
    } catch (error) {
      if (!isAbort(error)) replaceChildren(tableHost, problemBox(error, 'Grids'));
    }
  });
};
