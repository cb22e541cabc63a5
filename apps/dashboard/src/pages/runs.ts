// The runs table: filter by status, search with the `q` syntax (errors shown inline, naming the position),
// sort the page by a column, page through with next_page_token, and live progress by polling the shown page.
import { ApiError, getJson, isAbort } from '../api';
import { append, type Child, h, replaceChildren } from '../dom';
import { dateTime, duration, num } from '../format';
import { hashOf, type Page, replaceQuery } from '../router';
import { RUN_STATUSES, type Run, type RunPage, type RunStatus } from '../types';
import { problemBox, progressView, statusBadge } from '../widgets';

/** How often the shown page is fetched again for live progress. */
export const RUNS_POLL_MS = 3000;

interface Column {
  key: string;
  title: string;
  sort?: (run: Run) => number | string;
  cell: (run: Run) => Child;
}

function finalNumber(run: Run, name: string): number | null {
  const v = run.final_metrics?.[name];
  return typeof v === 'number' ? v : null;
}

const COLUMNS: Column[] = [
  {
    key: 'name',
    title: 'Run',
    sort: (run) => run.name ?? run.id,
    cell: (run) => h('a', { href: hashOf(['runs', run.id]) }, run.name ?? run.id),
  },
  { key: 'status', title: 'Status', sort: (run) => run.status, cell: (run) => statusBadge(run.status) },
  {
    key: 'progress',
    title: 'Progress',
    sort: (run) => run.progress.fraction ?? -1,
    cell: (run) => progressView(run.progress, run.status),
  },
  { key: 'seed', title: 'Seed', sort: (run) => run.seed, cell: (run) => String(run.seed) },
  {
    key: 'grid',
    title: 'Grid',
    sort: (run) => run.grid_id ?? '',
    cell: (run) => (run.grid_id === null ? '–' : h('a', { href: hashOf(['grids', run.grid_id]) }, 'grid')),
  },
  {
    key: 'created',
    title: 'Created',
    sort: (run) => run.timings.created_at,
    cell: (run) => dateTime(run.timings.created_at),
  },
  {
    key: 'duration',
    title: 'Duration',
    sort: (run) => run.timings.duration_seconds ?? -1,
    cell: (run) => duration(run.timings.duration_seconds),
  },
  {
    key: 'loss',
    title: 'loss',
    sort: (run) => finalNumber(run, 'loss') ?? Number.POSITIVE_INFINITY,
    cell: (run) => num(finalNumber(run, 'loss')),
  },
  {
    key: 'knn',
    title: 'knn_top1@20',
    sort: (run) => finalNumber(run, 'knn_top1@20') ?? Number.NEGATIVE_INFINITY,
    cell: (run) => num(finalNumber(run, 'knn_top1@20')),
  },
];

function compareValues(a: number | string, b: number | string): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
}

export const runsPage: Page = async (root, route, scope) => {
  const statuses = new Set(
    (route.query.get('status') ?? '')
      .split(',')
      .filter((s): s is RunStatus => (RUN_STATUSES as string[]).includes(s)),
  );
  let q = route.query.get('q') ?? '';
  const grid = route.query.get('grid') ?? undefined;
  let sort: { key: string; dir: 1 | -1 } | null = null;
  /** Tokens of the pages before the shown one (for "newer"), and the shown page's own token. */
  const previous: (string | undefined)[] = [];
  let token: string | undefined;
  let page: RunPage | null = null;
  const selected = new Set<string>();

  const searchError = h('div', { class: 'search-error', aria: { live: 'polite' } });
  const summary = h('p', { class: 'note', data: { role: 'summary' } });
  const tableHost = h('div', { class: 'table-host' });
  const pager = h('div', { class: 'pager' });
  const compareButton = h('button', { type: 'button', disabled: true }, 'Compare selected');
  compareButton.addEventListener('click', () => {
    location.hash = hashOf(['compare'], { ids: [...selected].join(',') });
  });

  const remember = () => replaceQuery(route, { status: [...statuses].join(','), q, grid });

  const renderTable = () => {
    compareButton.disabled = selected.size < 2 || selected.size > 10;
    compareButton.textContent = `Compare selected (${selected.size})`;
    if (page === null) return;
    const runs = [...page.runs];
    if (sort !== null) {
      const column = COLUMNS.find((c) => c.key === sort?.key);
      const dir = sort.dir;
      if (column?.sort) {
        const key = column.sort;
        runs.sort((a, b) => dir * compareValues(key(a), key(b)));
      }
    }
    const header = h(
      'tr',
      {},
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'select')),
      ...COLUMNS.map((column) => {
        const active = sort?.key === column.key;
        const dir = active ? (sort?.dir === 1 ? 'ascending' : 'descending') : 'none';
        return h(
          'th',
          { scope: 'col', aria: { sort: dir } },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              data: { sort: column.key },
              onclick: () => {
                sort = active && sort?.dir === 1 ? { key: column.key, dir: -1 } : { key: column.key, dir: 1 };
                renderTable();
              },
            },
            column.title,
            active ? (sort?.dir === 1 ? ' ▲' : ' ▼') : '',
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
        ...COLUMNS.map((column) => h('td', { data: { column: column.key } }, column.cell(run))),
      ),
    );
    replaceChildren(
      tableHost,
      runs.length === 0
        ? h('p', { class: 'empty' }, 'No runs match.')
        : h(
            'table',
            { class: 'runs', aria: { label: 'runs' } },
            h('thead', {}, header),
            h('tbody', {}, ...rows),
          ),
    );
    summary.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} on this page${
      statuses.size > 0 ? `, status ${[...statuses].join(' or ')}` : ''
    }${q ? `, matching ${q}` : ''}`;
    replaceChildren(
      pager,
      h(
        'button',
        { type: 'button', disabled: previous.length === 0, onclick: () => void go(previous.pop(), false) },
        '← Newer',
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
        'Older →',
      ),
    );
  };

  const fetchPage = () =>
    getJson<RunPage>(
      '/v1/runs',
      { status: [...statuses], q, grid, page_token: token, page_size: 50 },
      scope.signal,
    );

  /** Loads the page at `pageToken`; a fresh query (filters changed) starts from the first page. */
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
    h('h1', {}, grid ? 'Runs of a grid' : 'Runs'),
    grid ? h('p', {}, h('a', { href: hashOf(['grids', grid]) }, 'Back to the grid')) : null,
    form,
    h('div', { class: 'toolbar' }, summary, compareButton),
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
