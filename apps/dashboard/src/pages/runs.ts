// The runs table: filter by status, search with the `q` syntax (errors shown inline, naming the position), sort on
// the server by any column (GET /v1/runs?sort=), a column picker for spec paths and final metrics (a grid's axes and
// metric by default when filtered to a grid), collapse and error flags, the grid's name, paging by
// next_page_token, and live progress by polling the shown page. Filters, sort and columns are kept in the address.
import { ApiError, getJson, isAbort } from '../api';
import { append, type Child, h, replaceChildren } from '../dom';
import { dateTime, duration, num, value } from '../format';
import { hashOf, type Page, replaceQuery } from '../router';
import { type Grid, type GridList, RUN_STATUSES, type Run, type RunPage, type RunStatus } from '../types';
import { problemBox, progressView, scrollBox, statusBadge } from '../widgets';

/** How often the shown page is fetched again for live progress. */
export const RUNS_POLL_MS = 3000;
const DEFAULT_SORT = '-created_at';
const DEFAULT_EXTRA = ['metrics.loss', 'metrics.knn_top1@20'];

interface Column {
  key: string;
  title: string;
  /** The server's sort key; none: not sortable. */
  sortKey?: string;
  numeric?: boolean;
  cell: (run: Run) => Child;
}

/** `swav.prototypes` → 30 from the run's spec; `metrics.loss` → its final value. */
function extraValue(run: Run, key: string): unknown {
  if (key.startsWith('metrics.')) return run.final_metrics?.[key.slice('metrics.'.length)] ?? null;
  let at: unknown = run.spec;
  for (const segment of key.split('.')) {
    at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[segment] : undefined;
  }
  return at ?? null;
}

/** Spec leaf paths of `spec` (arrays are leaves). */
function leafPaths(spec: unknown, prefix = ''): string[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return prefix ? [prefix] : [];
  return Object.entries(spec).flatMap(([key, v]) => leafPaths(v, prefix ? `${prefix}.${key}` : key));
}

/** ⚠ when the run reported a collapse, ✗ and the error's kind when it failed. */
function flags(run: Run): Child {
  const warnings = run.final_metrics?.warnings;
  const parts: Child[] = [];
  if (Array.isArray(warnings) && warnings.length > 0)
    parts.push(h('span', { class: 'flag flag-collapse', title: 'collapse warning' }, '⚠ collapse'));
  if (run.error !== null)
    parts.push(h('span', { class: 'flag flag-error', title: run.error.message }, `✗ ${run.error.kind}`));
  return parts.length === 0 ? '' : h('span', { class: 'flags' }, ...parts);
}

function baseColumns(gridNames: ReadonlyMap<string, string>): Column[] {
  return [
    {
      key: 'name',
      title: 'Run',
      sortKey: 'name',
      cell: (run) => h('a', { href: hashOf(['runs', run.id]) }, run.name ?? run.id),
    },
    { key: 'status', title: 'Status', sortKey: 'status', cell: (run) => statusBadge(run.status) },
    { key: 'flags', title: 'Flags', cell: flags },
    {
      key: 'progress',
      title: 'Progress',
      sortKey: 'progress',
      cell: (run) => progressView(run.progress, run.status),
    },
    { key: 'seed', title: 'Seed', sortKey: 'seed', numeric: true, cell: (run) => String(run.seed) },
    {
      key: 'grid',
      title: 'Grid',
      cell: (run) =>
        run.grid_id === null
          ? '–'
          : h('a', { href: hashOf(['grids', run.grid_id]) }, gridNames.get(run.grid_id) ?? 'grid'),
    },
    {
      key: 'created',
      title: 'Created',
      sortKey: 'created_at',
      cell: (run) => dateTime(run.timings.created_at),
    },
    {
      key: 'duration',
      title: 'Duration',
      sortKey: 'duration',
      numeric: true,
      cell: (run) => duration(run.timings.duration_seconds),
    },
  ];
}

function extraColumn(key: string): Column {
  return {
    key,
    title: key.startsWith('metrics.') ? key.slice('metrics.'.length) : key,
    sortKey: key,
    numeric: true,
    cell: (run) => {
      const v = extraValue(run, key);
      return typeof v === 'number' ? num(v) : value(v);
    },
  };
}

export const runsPage: Page = async (root, route, scope) => {
  const statuses = new Set(
    (route.query.get('status') ?? '')
      .split(',')
      .filter((s): s is RunStatus => (RUN_STATUSES as string[]).includes(s)),
  );
  let q = route.query.get('q') ?? '';
  const grid = route.query.get('grid') ?? undefined;
  let sort = route.query.get('sort') ?? DEFAULT_SORT;
  const [gridList, gridOfFilter] = await Promise.all([
    getJson<GridList>('/v1/grids', {}, scope.signal).catch(() => ({ grids: [] })),
    grid === undefined
      ? Promise.resolve(null)
      : getJson<Grid>(`/v1/grids/${encodeURIComponent(grid)}`, {}, scope.signal).catch(() => null),
  ]);
  const gridNames = new Map(gridList.grids.map((g) => [g.id, g.name]));
  const defaultExtra =
    gridOfFilter === null
      ? DEFAULT_EXTRA
      : [...Object.keys(gridOfFilter.spec.axes ?? {}).sort(), `metrics.${gridOfFilter.metric.name}`];
  const colsParam = route.query.get('cols');
  let extra = colsParam === null ? defaultExtra : colsParam.split(',').filter((c) => c !== '');
  /** Tokens of the pages before the shown one (for "newer"), and the shown page's own token. */
  const previous: (string | undefined)[] = [];
  let token: string | undefined;
  let page: RunPage | null = null;
  const selected = new Set<string>();

  const searchError = h('div', { class: 'search-error', aria: { live: 'polite' } });
  const summary = h('p', { class: 'note', data: { role: 'summary' } });
  const tableHost = h('div', { class: 'table-host' });
  const pager = h('div', { class: 'pager' });
  const picker = h('details', { class: 'column-picker' });
  const compareButton = h('button', { type: 'button', disabled: true }, 'Compare selected');
  compareButton.addEventListener('click', () => {
    location.hash = hashOf(['compare'], { ids: [...selected].join(',') });
  });

  const remember = () =>
    replaceQuery(route, {
      status: [...statuses].join(','),
      q,
      grid,
      sort: sort === DEFAULT_SORT ? undefined : sort,
      cols: extra.join(',') === defaultExtra.join(',') ? undefined : extra.join(','),
    });

  const columns = () => [...baseColumns(gridNames), ...extra.map(extraColumn)];

  const renderPicker = () => {
    const onPage = (page?.runs ?? []).flatMap((run) => [
      ...leafPaths(run.spec),
      ...Object.keys(run.final_metrics ?? {})
        .filter((name) => name !== 'warnings')
        .map((name) => `metrics.${name}`),
    ]);
    const candidates = [...new Set([...extra, ...defaultExtra, ...onPage])].sort((a, b) => {
      const metricA = a.startsWith('metrics.');
      return metricA === b.startsWith('metrics.') ? a.localeCompare(b) : metricA ? -1 : 1;
    });
    const open = picker.open;
    replaceChildren(
      picker,
      h('summary', {}, `Columns (${extra.length})`),
      h(
        'div',
        { class: 'picker-options' },
        ...candidates.map((key) =>
          h(
            'label',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              name: 'column',
              value: key,
              checked: extra.includes(key),
              onchange: (event) => {
                extra = (event.target as HTMLInputElement).checked
                  ? [...extra, key]
                  : extra.filter((c) => c !== key);
                remember();
                renderTable();
              },
            }),
            ` ${key}`,
          ),
        ),
      ),
    );
    picker.open = open;
  };

  const renderTable = () => {
    compareButton.disabled = selected.size < 2 || selected.size > 10;
    compareButton.textContent = `Compare selected (${selected.size})`;
    if (page === null) return;
    const runs = page.runs;
    const shown = columns();
    const header = h(
      'tr',
      {},
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'select')),
      ...shown.map((column) => {
        const key = column.sortKey;
        const dir = sort === key ? 'ascending' : sort === `-${key}` ? 'descending' : 'none';
        const attrs = { scope: 'col', class: column.numeric ? 'num' : undefined, aria: { sort: dir } };
        if (key === undefined) return h('th', attrs, column.title);
        return h(
          'th',
          attrs,
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              data: { sort: column.key },
              title: `sort by ${key} on the server`,
              onclick: () => {
                sort = dir === 'ascending' ? `-${key}` : key;
                remember();
                void go(undefined, true);
              },
            },
            column.title,
            dir === 'ascending' ? ' ▲' : dir === 'descending' ? ' ▼' : '',
          ),
        );
      }),
    );
    const rows = runs.map((run) =>
      h(
        'tr',
        { data: { 'run-id': run.id, status: run.status } },
        h(
          'td',
          {},
          h('input', {
            type: 'checkbox',
            checked: selected.has(run.id),
            aria: { label: `select ${run.name ?? run.id}` },
            onchange: (event) => {
              if ((event.target as HTMLInputElement).checked) selected.add(run.id);
              else selected.delete(run.id);
              renderTable();
            },
          }),
        ),
        ...shown.map((column) =>
          h(
            'td',
            { class: column.numeric ? 'num' : undefined, data: { column: column.key } },
            column.cell(run),
          ),
        ),
      ),
    );
    replaceChildren(
      tableHost,
      runs.length === 0
        ? h('p', { class: 'empty' }, 'No runs match.')
        : scrollBox(
            h(
              'table',
              { class: 'runs', aria: { label: 'runs' } },
              h('thead', {}, header),
              h('tbody', {}, ...rows),
            ),
          ),
    );
    summary.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} on this page${
      statuses.size > 0 ? `, status ${[...statuses].join(' or ')}` : ''
    }${q ? `, matching ${q}` : ''}, sorted by ${sort}`;
    renderPicker();
    replaceChildren(
      pager,
      h(
        'button',
        { type: 'button', disabled: previous.length === 0, onclick: () => void go(previous.pop(), false) },
        '← Previous',
      ),
      h(
        'button',
        {
          type: 'button',
          disabled: page.next_page_token === null,
          onclick: () => {
            previous.push(token);
            void go(page?.next_page_token ?? undefined, false);
          },
        },
        'Next →',
      ),
    );
  };

  const fetchPage = () =>
    getJson<RunPage>(
      '/v1/runs',
      {
        status: [...statuses],
        q,
        grid,
        sort: sort === DEFAULT_SORT ? undefined : sort,
        page_token: token,
        page_size: 50,
      },
      scope.signal,
    );

  /** Loads the page at `pageToken`; a fresh query (filters or sort changed) starts from the first page. */
  const go = async (pageToken: string | undefined, fresh: boolean): Promise<void> => {
    if (fresh) previous.length = 0;
    token = pageToken;
    try {
      page = await fetchPage();
      replaceChildren(searchError);
    } catch (error) {
      if (isAbort(error)) return;
      page = { runs: [], next_page_token: null };
      replaceChildren(
        searchError,
        problemBox(error, error instanceof ApiError && error.status === 400 ? 'Search' : 'Runs'),
      );
    }
    renderTable();
  };

  const qInput = h('input', {
    type: 'search',
    name: 'q',
    value: q,
    placeholder: 'e.g. metrics.knn_top1@20 > 0.5 and swav.prototypes = 3000',
    aria: { label: 'search expression' },
  });
  const statusBoxes = RUN_STATUSES.map((status) =>
    h(
      'label',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        name: 'status',
        value: status,
        checked: statuses.has(status),
        onchange: (event) => {
          if ((event.target as HTMLInputElement).checked) statuses.add(status);
          else statuses.delete(status);
          remember();
          void go(undefined, true);
        },
      }),
      ` ${status}`,
    ),
  );
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        q = qInput.value.trim();
        remember();
        void go(undefined, true);
      },
    },
    h('fieldset', {}, h('legend', {}, 'Status'), ...statusBoxes),
    h('div', { class: 'search' }, qInput, h('button', { type: 'submit' }, 'Search')),
    searchError,
  );

  append(
    root,
    h('h1', {}, grid ? `Runs of grid ${gridNames.get(grid) ?? grid}` : 'Runs'),
    grid ? h('p', {}, h('a', { href: hashOf(['grids', grid]) }, 'Back to the grid')) : null,
    form,
    h('div', { class: 'toolbar' }, summary, picker, compareButton),
    tableHost,
    pager,
  );
  await go(undefined, true);
  scope.every(RUNS_POLL_MS, async () => {
    try {
      const next = await fetchPage();
      // Redraw only on a change, so an idle table keeps its focus and hover.
      if (JSON.stringify(next) !== JSON.stringify(page)) {
        page = next;
        renderTable();
      }
    } catch (error) {
      // A failed refresh keeps the last table; a bad query already shows its error.
      if (!isAbort(error) && !(error instanceof ApiError && error.status === 400))
        console.warn('refresh failed', error);
    }
  });
};
